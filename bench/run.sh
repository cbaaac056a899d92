#!/usr/bin/env bash
# smolweb benchmark: smolweb vs hyper (1.x, current-thread tokio) vs nginx, one server core.
#
#   bench/run.sh                      # RUNS=3 DURATION=5
#   RUNS=5 DURATION=10 bench/run.sh   # longer, steadier
#
# Knobs (environment): RUNS (3), DURATION seconds per wrk run (5), WARMUP seconds of wrk
# before each measured run (1), CONNS_LOW (64), CONNS_HIGH (1000), CONNS_FILES (64),
# HOLD_CONNS (1000), ALLOC_N (10000), CALLGRIND_N (20000), CALLGRIND (auto|0|1),
# CALLGRIND_PAUSE_US (300: the callgrind client's pause before each request),
# SERVER_CPU (0), CLIENT_CPU (1), BASE_PORT (18080: uses BASE_PORT+1 .. +9), SKIP_BUILD (0),
# WS_CONNS (64), WS_BYTES (32: the size of each echoed WebSocket message),
# SKIP_INSTALL (0), CONNS_SCALE (10000, or less where the fd limit is lower), ONLY (empty: every section; or some of "plain files
# threads rss scale ws tls sessions compress alloc callgrind", e.g. ONLY=tls).
#
# Prints one table and writes it to bench/results.tsv; every raw wrk output and sample goes
# to bench/raw/. See bench/README.md for the method and its caveats.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")

RUNS=${RUNS:-3}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
CONNS_LOW=${CONNS_LOW:-64}
CONNS_HIGH=${CONNS_HIGH:-1000}
CONNS_FILES=${CONNS_FILES:-64}
HOLD_CONNS=${HOLD_CONNS:-1000}
# 10,000, or fewer where smolweb's default `max_connections` (half of RLIMIT_NOFILE, less 64)
# is lower: at the limit it closes idle connections, which is not what the rows measure.
scale_cap=$(( ($(ulimit -Hn) - 64) / 2 / 100 * 100 ))
CONNS_SCALE=${CONNS_SCALE:-$(( scale_cap < 10000 ? scale_cap : 10000 ))}
ALLOC_N=${ALLOC_N:-10000}
CALLGRIND_N=${CALLGRIND_N:-20000}
CALLGRIND_PAUSE_US=${CALLGRIND_PAUSE_US:-300}
CALLGRIND=${CALLGRIND:-auto}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
BASE_PORT=${BASE_PORT:-18080}
SKIP_BUILD=${SKIP_BUILD:-0}
SKIP_INSTALL=${SKIP_INSTALL:-0}

SMOLWEB_PORT=$((BASE_PORT + 1))
HYPER_PORT=$((BASE_PORT + 2))
NGINX_PORT=$((BASE_PORT + 3))
CG_SMOLWEB_PORT=$((BASE_PORT + 4))
CG_HYPER_PORT=$((BASE_PORT + 5))
SMOLWEB_SF_PORT=$((BASE_PORT + 6))
SMOLWEB_MT_PORT=$((BASE_PORT + 7))
SMOLWEB_WS_PORT=$((BASE_PORT + 8))
WSPEER_PORT=$((BASE_PORT + 9))
SMOLWEB_TLS_PORT=$((BASE_PORT + 10))
NGINX_TLS_PORT=$((BASE_PORT + 11))
REDIS_PORT=$((BASE_PORT + 12))
NOTES_PORT=$((BASE_PORT + 13))
SMOLWEB_CZ_PORT=$((BASE_PORT + 14))
NGINX2_PORT=$((BASE_PORT + 15))
SERVERS=(smolweb hyper nginx)
# File rows also measure smolweb built with its `sendfile` feature.
FILE_SERVERS=(smolweb smolweb_sf hyper nginx)
# Thread rows: smolweb's hello with 1 thread, 2 threads, 2 per-core listeners, unpinned.
THREAD_SERVERS=(smolweb_t1 smolweb_t2 smolweb_pc2 hyper_t2 nginx_t2)
# WebSocket rows: smolweb's examples/websocket (its /echo, `websocket` feature) against
# tokio-tungstenite's echo on a tokio current-thread runtime (bench/src/bin/ws-peer.rs).
WS_SERVERS=(smolweb_ws wspeer)
# TLS rows: smolweb's examples/https (`tls` feature, rustls on ring) against nginx with `ssl`
# on the same certificate (ECDSA P-256).
TLS_SERVERS=(smolweb_tls nginx_tls)
# Compression rows: smolweb's file_server with --compress --precompressed (`compression`
# feature) against nginx with `gzip on` (level 6, as smolweb's default) and `gzip_static on`.
# nginx-light has no brotli module: the brotli and zstd rows have no peer.
CZ_SERVERS=(smolweb_cz nginx)
ONLY=${ONLY:-}
# want SECTION: true if the run measures SECTION.
want() { [[ -z $ONLY || " $ONLY " == *" $1 "* ]]; }
WS_CONNS=${WS_CONNS:-64}
WS_BYTES=${WS_BYTES:-32}

START_TIME=$(date +%s)
log() { printf '[%4ss] %s\n' "$(($(date +%s) - START_TIME))" "$*" >&2; }
warn() { log "WARNING: $*"; WARNINGS+=("$*"); }
die() { log "ERROR: $*"; exit 1; }
WARNINGS=()

# ---------------------------------------------------------------------------------------
# Work dir, cleanup
# ---------------------------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/smolweb-bench.XXXXXX")
RAW="$HERE/raw"
rm -rf "$RAW"
mkdir -p "$RAW"
SAMPLES="$RAW/samples.tsv"   # one line per measurement: metric server run value
: >"$SAMPLES"
declare -a PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  sleep 0.2
  for pid in "${PIDS[@]}"; do
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() {
  local keep=() p
  for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

# ---------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------
NGINX=$(command -v nginx || true)
[[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx

if [[ $SKIP_INSTALL != 1 ]]; then
  missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v taskset >/dev/null || missing+=(util-linux)
  [[ -n $NGINX ]] || missing+=(nginx)
  if ((${#missing[@]})) || { [[ $CALLGRIND != 0 ]] && ! command -v valgrind >/dev/null; }; then
    command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install it"
    log "installing: ${missing[*]} (and valgrind, optional)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >"$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log" >&2; die "apt-get update failed"; }
    if ((${#missing[@]})); then
      pkgs=("${missing[@]}")
      if [[ " ${pkgs[*]} " == *" nginx "* ]]; then
        # nginx-light where the distribution still has it, else nginx.
        light=("${pkgs[@]/nginx/nginx-light}")
        apt-get install -y -qq "${light[@]}" >>"$WORK/apt.log" 2>&1 ||
          apt-get install -y -qq "${pkgs[@]}" >>"$WORK/apt.log" 2>&1 ||
          { cat "$WORK/apt.log" >&2; die "apt-get install ${pkgs[*]} failed"; }
      else
        apt-get install -y -qq "${pkgs[@]}" >>"$WORK/apt.log" 2>&1 ||
          { cat "$WORK/apt.log" >&2; die "apt-get install ${pkgs[*]} failed"; }
      fi
    fi
    if [[ $CALLGRIND != 0 ]] && ! command -v valgrind >/dev/null; then
      apt-get install -y -qq valgrind >>"$WORK/apt.log" 2>&1 || log "valgrind not installed: skipping instruction counts"
    fi
  fi
fi
NGINX=$(command -v nginx || true)
[[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
command -v wrk >/dev/null || die "wrk not found"
command -v taskset >/dev/null || die "taskset not found"
[[ -n $NGINX ]] || die "nginx not found"
HAVE_VALGRIND=0
if [[ $CALLGRIND != 0 ]] && command -v valgrind >/dev/null; then HAVE_VALGRIND=1; fi
[[ $CALLGRIND == 1 && $HAVE_VALGRIND == 0 ]] && die "CALLGRIND=1 but valgrind is not installed"

# 1,000 connections on each side plus files: raise the descriptor limit.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(($(ulimit -n) >= CONNS_HIGH + 200 && $(ulimit -n) >= HOLD_CONNS + 200)) ||
  die "open-file limit $(ulimit -n) is too low for $CONNS_HIGH connections"
((CONNS_SCALE == 10000)) || log "scale rows at $CONNS_SCALE connections: the hard RLIMIT_NOFILE is $(ulimit -Hn)"
(($(ulimit -n) >= 2 * CONNS_SCALE + 200)) ||
  warn "open-file limit $(ulimit -n) is too low for $CONNS_SCALE connections: the scale rows will fail"

ncpu=$(nproc)
((SERVER_CPU < ncpu && CLIENT_CPU < ncpu)) || die "need CPUs $SERVER_CPU and $CLIENT_CPU; this machine has $ncpu"
((SERVER_CPU != CLIENT_CPU)) || warn "server and load generator share CPU $SERVER_CPU"

# ---------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------
# What smolweb source is measured: the commit, and a hash of the tree's sources as built (the
# work tree may hold uncommitted changes; if it changes during the run, the table says so).
src_hash() {
  (cd "$ROOT" && find src examples Cargo.toml Cargo.lock -type f -print0 2>/dev/null | sort -z |
    xargs -0 cat | sha256sum | cut -c1-16)
}
SRC_HASH_BEFORE=$(src_hash)
SMOLWEB_TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BENCH_TARGET=${CARGO_TARGET_DIR:-$HERE/target}
if [[ $SKIP_BUILD != 1 ]]; then
  log "building smolweb examples (release)"
  (cd "$ROOT" && cargo build --release --examples --quiet)
  log "building smolweb's file_server with the sendfile feature (release)"
  (cd "$ROOT" && cargo build --release --features sendfile --example file_server --quiet \
    --target-dir "$SMOLWEB_TARGET/sendfile")
  log "building smolweb's websocket example with the websocket feature (release)"
  (cd "$ROOT" && cargo build --release --features websocket --example websocket --quiet \
    --target-dir "$SMOLWEB_TARGET/websocket")
  log "building smolweb's https example with the tls feature (release)"
  (cd "$ROOT" && cargo build --release --features tls --example https --quiet \
    --target-dir "$SMOLWEB_TARGET/tls")
  log "building smolweb's notes example with the redis feature (release)"
  (cd "$ROOT" && cargo build --release --features redis --example notes --quiet \
    --target-dir "$SMOLWEB_TARGET/redis")
  log "building smolweb's file_server with the compression feature (release)"
  (cd "$ROOT" && cargo build --release --features compression --example file_server --quiet \
    --target-dir "$SMOLWEB_TARGET/compression")
  log "building bench binaries (release)"
  (cd "$HERE" && cargo build --release --quiet)
fi
HELLO=$SMOLWEB_TARGET/release/examples/hello
FILE_SERVER=$SMOLWEB_TARGET/release/examples/file_server
FILE_SERVER_SF=$SMOLWEB_TARGET/sendfile/release/examples/file_server
HYPER=$BENCH_TARGET/release/hyper-server
ALLOC_COUNT=$BENCH_TARGET/release/alloc-count
DRIVE=$BENCH_TARGET/release/drive
HOLD=$BENCH_TARGET/release/hold-conns
WS_SMOLWEB=$SMOLWEB_TARGET/websocket/release/examples/websocket
WS_PEER=$BENCH_TARGET/release/ws-peer
WS_LOAD=$BENCH_TARGET/release/ws-load
WS_HOLD=$BENCH_TARGET/release/ws-hold
HTTPS=$SMOLWEB_TARGET/tls/release/examples/https
NOTES=$SMOLWEB_TARGET/redis/release/examples/notes
FILE_SERVER_CZ=$SMOLWEB_TARGET/compression/release/examples/file_server
SRC_HASH_BUILT=$(src_hash)
[[ $SRC_HASH_BUILT == "$SRC_HASH_BEFORE" ]] || warn "smolweb's sources changed during the build"
for b in "$HELLO" "$FILE_SERVER" "$FILE_SERVER_SF" "$HYPER" "$ALLOC_COUNT" "$DRIVE" "$HOLD" \
  "$WS_SMOLWEB" "$WS_PEER" "$WS_LOAD" "$WS_HOLD" "$HTTPS" "$NOTES" "$FILE_SERVER_CZ"; do
  [[ -x $b ]] || die "missing binary $b (build failed?)"
done

# ---------------------------------------------------------------------------------------
# Files (deterministic content) and the nginx config
# ---------------------------------------------------------------------------------------
FILES=$WORK/files
mkdir -p "$FILES"
pattern() { { yes 'smolweb benchmark file: 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ' || true; } | head -c "$1"; }
pattern 4096 >"$FILES/4k.bin"
pattern 1048576 >"$FILES/1m.bin"
SIZE_4K=4096
SIZE_1M=1048576
# A 100 KiB JSON document (rows of ids, names and tags), to compress per request (json/) and,
# compressed ahead of time with gzip -9, to serve precompressed (pre/).
mkdir -p "$FILES/json" "$FILES/pre"
python3 -c '
import json, sys
rows, out = [], ""
i = 0
while len(out) < 102400:
    rows.append({"id": i, "name": "item %d" % i, "tags": ["alpha", "beta"], "price": i * 7 % 1000})
    out = json.dumps(rows)
    i += 1
sys.stdout.write(out)' >"$FILES/json/data.json"
cp "$FILES/json/data.json" "$FILES/pre/data.json"
gzip -9 -k "$FILES/pre/data.json"
SIZE_JSON=$(stat -c %s "$FILES/json/data.json")

# One certificate for both TLS servers: self-signed ECDSA P-256, an end entity (rustls
# refuses a CA as a server's certificate). wrk does not verify it.
TLS_DIR=$WORK/tls
mkdir -p "$TLS_DIR"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -addext basicConstraints=critical,CA:FALSE \
  -keyout "$TLS_DIR/key.pem" -out "$TLS_DIR/cert.pem" >"$WORK/openssl.log" 2>&1 ||
  { cat "$WORK/openssl.log" >&2; die "openssl could not make the benchmark certificate"; }

NGX=$WORK/nginx
mkdir -p "$NGX/tmp"
temp_paths=""
nginx_v=$("$NGINX" -V 2>&1)
for t in client_body fastcgi proxy scgi uwsgi; do
  flag=${t/client_body/client-body}
  if [[ $nginx_v == *"--http-$flag-temp-path"* ]]; then
    temp_paths+="  ${t}_temp_path $NGX/tmp/$t;"$'\n'
  fi
done
cat >"$NGX/nginx.conf" <<EOF
# Generated by bench/run.sh: one process (the worker's event loop, no master), like the
# single-threaded smolweb and hyper servers it is compared with.
worker_processes 1;
master_process off;
daemon off;
pid $NGX/nginx.pid;
error_log $NGX/error.log warn;
worker_rlimit_nofile 65536;
events {
  worker_connections 30000;
}
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  types { application/octet-stream bin; application/json json; }
  default_type application/octet-stream;
$temp_paths
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096;
    location = / {
      default_type text/plain;
      return 200 "Hello, World!";
    }
    location /files/ {
      alias $FILES/;
    }
    location /files/json/ {
      alias $FILES/json/;
      gzip on;
      gzip_comp_level 6;
      gzip_types application/json;
      gzip_min_length 1024;
      gzip_vary on;
    }
    location /files/pre/ {
      alias $FILES/pre/;
      gzip_static on;
      gzip_vary on;
    }
  }
  server {
    listen 127.0.0.1:$NGINX_TLS_PORT ssl backlog=4096;
    ssl_certificate $TLS_DIR/cert.pem;
    ssl_certificate_key $TLS_DIR/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    location = / {
      default_type text/plain;
      return 200 "Hello, World!";
    }
    location /files/ {
      alias $FILES/;
    }
  }
}
EOF
# The same server with 2 worker processes (a master, reuseport listeners), for the thread rows.
cat >"$NGX/nginx2.conf" <<EOF
worker_processes 2;
daemon off;
pid $NGX/nginx2.pid;
error_log $NGX/error2.log warn;
worker_rlimit_nofile 65536;
events {
  worker_connections 30000;
}
http {
  access_log off;
  tcp_nodelay on;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
$temp_paths
  server {
    listen 127.0.0.1:$NGINX2_PORT reuseport backlog=4096;
    location = / {
      default_type text/plain;
      return 200 "Hello, World!";
    }
  }
}
EOF
"$NGINX" -t -q -p "$NGX" -c "$NGX/nginx2.conf" -e "$NGX/error2.log" >"$WORK/nginx2-t.log" 2>&1 ||
  { cat "$WORK/nginx2-t.log" >&2; die "nginx rejected its 2-worker config"; }
"$NGINX" -t -q -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/error.log" >"$WORK/nginx-t.log" 2>&1 ||
  { cat "$WORK/nginx-t.log" "$NGX/error.log" >&2 2>/dev/null; die "nginx rejected its config"; }

# ---------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------
port_of() {
  case $1 in
    smolweb) echo "$SMOLWEB_PORT" ;; smolweb_sf) echo "$SMOLWEB_SF_PORT" ;;
    smolweb_t*|smolweb_pc*) echo "$SMOLWEB_MT_PORT" ;;
    hyper) echo "$HYPER_PORT" ;; nginx) echo "$NGINX_PORT" ;;
    smolweb_ws) echo "$SMOLWEB_WS_PORT" ;; wspeer) echo "$WSPEER_PORT" ;;
    smolweb_tls) echo "$SMOLWEB_TLS_PORT" ;; nginx_tls) echo "$NGINX_TLS_PORT" ;;
    smolweb_cz) echo "$SMOLWEB_CZ_PORT" ;;
    hyper_t2) echo "$HYPER_PORT" ;; nginx_t2) echo "$NGINX2_PORT" ;;
  esac
}
# URL path of a file for each server: smolweb's file_server serves the directory at the root.
file_path() {
  case $1 in smolweb_tls) echo "/static/$2" ;; smolweb*) echo "/$2" ;; *) echo "/files/$2" ;; esac
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_port PORT PID SECONDS: until PORT accepts, PID dies (fail) or time runs out (fail).
wait_port() {
  local port=$1 pid=$2 deadline=$(($(date +%s) + $3))
  until port_busy "$port"; do
    kill -0 "$pid" 2>/dev/null || return 1
    (($(date +%s) < deadline)) || return 1
    sleep 0.05
  done
}

# start_server NAME KIND(hello|files): starts it pinned to SERVER_CPU; sets SERVER_PID.
start_server() {
  local name=$1 kind=$2 port
  port=$(port_of "$name")
  if port_busy "$port"; then
    die "port $port is already in use (set BASE_PORT)"
  fi
  local out=$RAW/server-$name-$kind.log
  case $name in
    smolweb)
      local bin=$HELLO
      [[ $kind == files ]] && bin=$FILE_SERVER
      if [[ $kind == files ]]; then
        env -u SMOLWEB_PER_CORE SMOLWEB_THREADS=1 taskset -c "$SERVER_CPU" "$bin" "127.0.0.1:$port" "$FILES" >>"$out" 2>&1 &
      else
        env -u SMOLWEB_PER_CORE SMOLWEB_THREADS=1 taskset -c "$SERVER_CPU" "$bin" "127.0.0.1:$port" >>"$out" 2>&1 &
      fi
      ;;
    smolweb_ws)
      env -u SMOLWEB_PER_CORE SMOLWEB_THREADS=1 taskset -c "$SERVER_CPU" "$WS_SMOLWEB" "127.0.0.1:$port" >>"$out" 2>&1 &
      ;;
    wspeer)
      taskset -c "$SERVER_CPU" "$WS_PEER" "127.0.0.1:$port" >>"$out" 2>&1 &
      ;;
    smolweb_tls)
      env -u SMOLWEB_PER_CORE SMOLWEB_THREADS=1 taskset -c "$SERVER_CPU" "$HTTPS" "127.0.0.1:$port" \
        "$TLS_DIR/cert.pem" "$TLS_DIR/key.pem" "$FILES" >>"$out" 2>&1 &
      ;;
    smolweb_cz)
      env -u SMOLWEB_PER_CORE SMOLWEB_THREADS=1 taskset -c "$SERVER_CPU" "$FILE_SERVER_CZ" --compress --precompressed \
        "127.0.0.1:$port" "$FILES" >>"$out" 2>&1 &
      ;;
    smolweb_sf)
      env -u SMOLWEB_PER_CORE SMOLWEB_THREADS=1 taskset -c "$SERVER_CPU" "$FILE_SERVER_SF" "127.0.0.1:$port" "$FILES" >>"$out" 2>&1 &
      ;;
    smolweb_t1 | smolweb_t2)
      # Not pinned: the server's threads and wrk share the machine's CPUs.
      env -u SMOLWEB_PER_CORE SMOLWEB_THREADS="${name#smolweb_t}" "$HELLO" "127.0.0.1:$port" >>"$out" 2>&1 &
      ;;
    smolweb_pc2)
      SMOLWEB_PER_CORE=1 SMOLWEB_THREADS=2 "$HELLO" "127.0.0.1:$port" >>"$out" 2>&1 &
      ;;
    hyper)
      taskset -c "$SERVER_CPU" "$HYPER" "127.0.0.1:$port" "$FILES" >>"$out" 2>&1 &
      ;;
    hyper_t2)
      # tokio's multi-thread runtime with 2 workers, not pinned (like smolweb_t2).
      HYPER_THREADS=2 "$HYPER" "127.0.0.1:$port" "$FILES" >>"$out" 2>&1 &
      ;;
    nginx_t2)
      # A master and 2 workers (reuseport listeners), not pinned.
      "$NGINX" -p "$NGX" -c "$NGX/nginx2.conf" -e "$NGX/error2.log" >>"$out" 2>&1 &
      ;;
    nginx | nginx_tls)
      taskset -c "$SERVER_CPU" "$NGINX" -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/error.log" >>"$out" 2>&1 &
      ;;
  esac
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  if ! wait_port "$port" "$SERVER_PID" 15; then
    cat "$out" >&2 || true
    if [[ $name == nginx* ]]; then cat "$NGX/error.log" >&2 2>/dev/null || true; fi
    die "$name ($kind) did not start on port $port"
  fi
}

# stop_server PID [SIGNAL] [TENTHS]: SIGNAL (TERM), then up to TENTHS tenths of a second (50)
# for it to exit, then SIGKILL.
stop_server() {
  local pid=$1 signal=${2:-TERM} tenths=${3:-50} i
  kill -"$signal" "$pid" 2>/dev/null || true
  for i in $(seq "$tenths"); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
}

# A value in ms from wrk's latency notation (123.45us, 1.23ms, 1.02s, 1.50m).
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); print v + 0 }
    else if (v ~ /m$/) { sub(/m$/, "", v); print v * 60000 }
    else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000 }
    else print "" }'
}

# cpu_ticks PID: "user system" clock ticks the process has used (empty if it is gone).
cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat" 2>/dev/null || true; }

sample() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$SAMPLES"; }

# wrk_run NAME KIND PATH CONNS METRIC RUN [BYTES] [WRK-ARGS...]: one warm-up and one
# measured wrk run. A TLS server (NAME *_tls) is measured over https.
wrk_run() {
  local name=$1 kind=$2 path=$3 conns=$4 metric=$5 run=$6 bytes=${7:-}
  local extra=("${@:8}")
  local port url out scheme=http
  [[ $name == *_tls ]] && scheme=https
  port=$(port_of "$name")
  url="$scheme://127.0.0.1:$port$path"
  start_server "$name" "$kind"
  local pid=$SERVER_PID
  # One checked request first: status 200 (and the file's length), or the run is void.
  local sane=1
  if [[ $scheme == https ]]; then
    local got
    got=$(curl -sk --max-time 10 -o /dev/null -w '%{http_code} %{size_download}' "$url" 2>"$WORK/drive.err") || sane=0
    [[ $got == "200 ${bytes:-13}" ]] || { echo "got $got" >>"$WORK/drive.err"; sane=0; }
  elif ! taskset -c "$CLIENT_CPU" "$DRIVE" "127.0.0.1:$port" "$path" 1 ${bytes:+"$bytes"} >/dev/null 2>"$WORK/drive.err"; then
    sane=0
  fi
  if ((sane == 0)); then
    warn "$name $path: sanity request failed: $(cat "$WORK/drive.err")"
    stop_server "$pid"
    return 0
  fi
  if ((WARMUP > 0)); then
    taskset -c "$CLIENT_CPU" wrk -t1 -c"$conns" -d"${WARMUP}s" "${extra[@]}" "$url" >/dev/null 2>&1 || true
  fi
  out=$RAW/wrk-$metric-$name-$run.txt
  local cpus=$CLIENT_CPU
  # Thread rows: wrk may run on any CPU, like the server.
  [[ $name == smolweb_t* || $name == smolweb_pc* || $name == *_t2 ]] && cpus=0-$((ncpu - 1))
  local before after
  before=$(cpu_ticks "$pid")
  taskset -c "$cpus" wrk -t1 -c"$conns" -d"${DURATION}s" --latency "${extra[@]}" "$url" >"$out" 2>&1 || true
  after=$(cpu_ticks "$pid")
  if ! kill -0 "$pid" 2>/dev/null; then
    warn "$name died during $metric run $run"
  fi
  stop_server "$pid"
  local rps p99 avg errs non2xx
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p99=$(awk '/Latency Distribution/ {d=1} d && $1 == "99%" {print $2; exit}' "$out")
  avg=$(awk '$1 == "Latency" {print $2; exit}' "$out")
  if [[ -n $before && -n $after ]]; then
    # Share of the server's CPU time spent in the kernel during the run (user, system ticks).
    sample "$metric.kernel" "$name" "$run" "$(awk -v b="$before" -v a="$after" 'BEGIN {
      split(b, x, " "); split(a, y, " "); u = y[1] - x[1]; k = y[2] - x[2]
      if (u + k > 0) printf "%.1f", 100 * k / (u + k) }')"
  fi
  if [[ -n $avg ]]; then sample "$metric.avg" "$name" "$run" "$(to_ms "$avg")"; fi
  errs=$(awk '/Socket errors:/ {sub(/.*Socket errors: /, ""); print}' "$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
  if [[ -n $errs ]]; then warn "$name $metric run $run: socket errors: $errs"; fi
  if [[ -n $non2xx ]]; then warn "$name $metric run $run: $non2xx non-2xx/3xx responses"; fi
  if [[ -z $rps ]]; then
    warn "$name $metric run $run: no wrk result (see $out)"
    return 0
  fi
  sample "$metric.rps" "$name" "$run" "$rps"
  if [[ -n $p99 ]]; then sample "$metric.p99" "$name" "$run" "$(to_ms "$p99")"; fi
  # The rest of the distribution wrk prints: the median, the 75th and 90th percentiles, the
  # worst request and the standard deviation.
  local pct v
  for pct in 50 75 90; do
    v=$(awk -v p="$pct%" '/Latency Distribution/ {d=1} d && $1 == p {print $2; exit}' "$out")
    if [[ -n $v ]]; then sample "$metric.p$pct" "$name" "$run" "$(to_ms "$v")"; fi
  done
  v=$(awk '$1 == "Latency" {print $4; exit}' "$out")
  if [[ -n $v ]]; then sample "$metric.max" "$name" "$run" "$(to_ms "$v")"; fi
  v=$(awk '$1 == "Latency" {print $3; exit}' "$out")
  if [[ -n $v ]]; then sample "$metric.stdev" "$name" "$run" "$(to_ms "$v")"; fi
  if [[ -n $bytes ]]; then
    sample "$metric.mbps" "$name" "$run" "$(awk -v r="$rps" -v b="$bytes" 'BEGIN {printf "%.1f", r * b / 1e6}')"
  fi
  log "  $metric $name run $run: $rps req/s, p99 ${p99:-?}"
}

vmrss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# rss_run NAME RUN [KIND] [N] [METRIC]: VmRSS idle after start, then with N (HOLD_CONNS)
# open keep-alive connections after one request each (KIND hello: `/`; files: the 4 KiB
# file), as samples METRIC.idle, .held, .perconn (METRIC: rss).
rss_run() {
  local name=$1 run=$2 kind=${3:-hello} conns=${4:-$HOLD_CONNS} metric=${5:-rss}
  local port pid idle held helper i path=/
  [[ $kind == files ]] && path=$(file_path "$name" 4k.bin)
  port=$(port_of "$name")
  start_server "$name" "$kind"
  pid=$SERVER_PID
  sleep 0.5
  idle=$(vmrss_kib "$pid")
  local ready=$WORK/hold-$name-$metric-$run.out
  taskset -c "$CLIENT_CPU" "$HOLD" "127.0.0.1:$port" "$path" "$conns" 120 >"$ready" 2>&1 &
  helper=$!
  PIDS+=("$helper")
  for i in $(seq 600); do
    grep -q '^ready' "$ready" && break
    kill -0 "$helper" 2>/dev/null || break
    sleep 0.05
  done
  if ! grep -q '^ready' "$ready"; then
    warn "$name: could not hold $conns connections: $(cat "$ready")"
    kill "$helper" 2>/dev/null || true
    wait "$helper" 2>/dev/null || true
    forget_pid "$helper"
    stop_server "$pid"
    return 0
  fi
  sleep 0.5
  held=$(vmrss_kib "$pid")
  kill "$helper" 2>/dev/null || true
  wait "$helper" 2>/dev/null || true
  forget_pid "$helper"
  stop_server "$pid"
  sample "$metric.idle" "$name" "$run" "$idle"
  sample "$metric.held" "$name" "$run" "$held"
  sample "$metric.perconn" "$name" "$run" "$(awk -v a="$held" -v b="$idle" -v n="$conns" 'BEGIN {printf "%.0f", (a - b) * 1024 / n}')"
  log "  $metric $name ($kind) run $run: idle ${idle} KiB, ${conns} conns ${held} KiB"
}

# ws_path NAME: the echo's path on each WebSocket server.
ws_path() { case $1 in smolweb_ws) echo /echo ;; *) echo / ;; esac; }

# ws_run NAME RUN: WS_CONNS clients echoing WS_BYTES-byte text messages for DURATION seconds.
ws_run() {
  local name=$1 run=$2 port pid out mps
  port=$(port_of "$name")
  start_server "$name" ws
  pid=$SERVER_PID
  out=$RAW/ws-load-$name-$run.txt
  if ((WARMUP > 0)); then
    taskset -c "$CLIENT_CPU" "$WS_LOAD" "127.0.0.1:$port" "$(ws_path "$name")" "$WS_CONNS" "$WARMUP" "$WS_BYTES" >/dev/null 2>&1 || true
  fi
  taskset -c "$CLIENT_CPU" "$WS_LOAD" "127.0.0.1:$port" "$(ws_path "$name")" "$WS_CONNS" "$DURATION" "$WS_BYTES" >"$out" 2>&1 || true
  kill -0 "$pid" 2>/dev/null || warn "$name died during the WebSocket run $run"
  stop_server "$pid"
  mps=$(awk '/^msgs\/s/ {print $2}' "$out")
  if [[ -z $mps ]] || ! grep -q '^failed 0$' "$out"; then
    warn "$name WebSocket run $run failed (see $out)"
    return 0
  fi
  sample ws.mps "$name" "$run" "$mps"
  log "  ws $name run $run: $mps msgs/s"
}

# ws_rss_run NAME RUN: VmRSS idle, then with HOLD_CONNS open (idle) WebSockets.
ws_rss_run() {
  local name=$1 run=$2 port pid idle held helper i ready=$WORK/ws-hold-$1-$2.out
  port=$(port_of "$name")
  start_server "$name" ws
  pid=$SERVER_PID
  sleep 0.5
  idle=$(vmrss_kib "$pid")
  taskset -c "$CLIENT_CPU" "$WS_HOLD" "127.0.0.1:$port" "$(ws_path "$name")" "$HOLD_CONNS" 120 >"$ready" 2>&1 &
  helper=$!
  PIDS+=("$helper")
  for i in $(seq 600); do
    grep -q '^ready' "$ready" && break
    kill -0 "$helper" 2>/dev/null || break
    sleep 0.05
  done
  if grep -q '^ready' "$ready"; then
    sleep 0.5
    held=$(vmrss_kib "$pid")
    sample ws.perconn "$name" "$run" "$(awk -v a="$held" -v b="$idle" -v n="$HOLD_CONNS" 'BEGIN {printf "%.0f", (a - b) * 1024 / n}')"
    log "  ws rss $name run $run: idle ${idle} KiB, ${HOLD_CONNS} sockets ${held} KiB"
  else
    warn "$name: could not hold $HOLD_CONNS WebSockets: $(cat "$ready")"
  fi
  kill "$helper" 2>/dev/null || true
  wait "$helper" 2>/dev/null || true
  forget_pid "$helper"
  stop_server "$pid"
}

# session_run STORE RUN: examples/notes with its sessions in STORE (memory|redis), one
# pinned thread; one login with curl, then wrk on GET /me with that session's cookie: each
# request loads the session (Redis: one GETEX) and sends its cookie again.
session_run() {
  local store=$1 run=$2 pid out cookie args=()
  [[ $store == redis ]] && args=(--sessions "redis://127.0.0.1:$REDIS_PORT/0")
  port_busy "$NOTES_PORT" && die "port $NOTES_PORT is already in use (set BASE_PORT)"
  NOTES_KEY=$(printf 'ab%.0s' $(seq 32)) env -u SMOLWEB_PER_CORE SMOLWEB_THREADS=1 \
    taskset -c "$SERVER_CPU" "$NOTES" "127.0.0.1:$NOTES_PORT" "${args[@]}" >>"$RAW/server-notes-$store.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait_port "$NOTES_PORT" "$pid" 15 || die "notes ($store) did not start"
  cookie=$(curl -s -o /dev/null -D - -d 'user=ada&password=secret' "http://127.0.0.1:$NOTES_PORT/login" |
    awk -F': ' 'tolower($1) == "set-cookie" {split($2, c, ";"); print c[1]}')
  if [[ -z $cookie ]] || [[ $(curl -s -H "Cookie: $cookie" "http://127.0.0.1:$NOTES_PORT/me") != '{"user":"ada"}' ]]; then
    warn "notes ($store): the login did not give a working session"
    stop_server "$pid"
    return 0
  fi
  out=$RAW/wrk-session-$store-$run.txt
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS_LOW" -d"${WARMUP}s" -H "Cookie: $cookie" \
    "http://127.0.0.1:$NOTES_PORT/me" >/dev/null 2>&1 || true
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS_LOW" -d"${DURATION}s" --latency -H "Cookie: $cookie" \
    "http://127.0.0.1:$NOTES_PORT/me" >"$out" 2>&1 || true
  stop_server "$pid"
  local rps non2xx
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
  [[ -n $non2xx ]] && warn "notes ($store) run $run: $non2xx non-2xx responses"
  [[ -n $rps ]] && sample session.rps "notes_$store" "$run" "$rps"
  log "  session /me, $store, run $run: ${rps:-?} req/s"
}

# callgrind_ir NAME REQUESTS: sets CG_IR to the total instructions (Ir) of a server run under
# callgrind that serves REQUESTS keep-alive requests over one connection, start to SIGTERM.
callgrind_ir() {
  local name=$1 n=$2 port out pid
  CG_IR=
  out=$WORK/callgrind.$name.$n.out
  rm -f "$out"
  case $name in
    smolweb) port=$CG_SMOLWEB_PORT ;;
    hyper) port=$CG_HYPER_PORT ;;
  esac
  port_busy "$port" && die "port $port is already in use (set BASE_PORT)"
  if [[ $name == smolweb ]]; then
    env -u SMOLWEB_PER_CORE SMOLWEB_THREADS=1 taskset -c "$SERVER_CPU" valgrind --tool=callgrind --callgrind-out-file="$out" \
      "$HELLO" "127.0.0.1:$port" >"$RAW/callgrind-$name-$n.log" 2>&1 &
  else
    taskset -c "$SERVER_CPU" valgrind --tool=callgrind --callgrind-out-file="$out" \
      "$HYPER" "127.0.0.1:$port" "$FILES" >"$RAW/callgrind-$name-$n.log" 2>&1 &
  fi
  pid=$!
  PIDS+=("$pid")
  wait_port "$port" "$pid" 120 || { cat "$RAW/callgrind-$name-$n.log" >&2; die "$name did not start under valgrind"; }
  if ! DRIVE_PAUSE_US=$CALLGRIND_PAUSE_US taskset -c "$CLIENT_CPU" "$DRIVE" "127.0.0.1:$port" / "$n" >>"$RAW/callgrind-$name-$n.log" 2>&1; then
    warn "callgrind $name: driving $n requests failed"
  fi
  # SIGTERM: valgrind runs callgrind's exit code for a fatal signal and writes the profile
  # (allowed up to 2 minutes).
  stop_server "$pid" TERM 1200
  if [[ ! -s $out ]]; then
    warn "callgrind $name: no profile written (see $RAW/callgrind-$name-$n.log)"
    return 0
  fi
  # "summary:" (or "totals:") holds the total of the first event, Ir, for all threads.
  CG_IR=$(awk '/^(summary|totals):/ {print $2; exit}' "$out")
}

# ---------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------
log "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); load: $(cut -d' ' -f1-3 /proc/loadavg)"
{
  echo "date: $(date -u +%FT%TZ)"
  echo "kernel: $(uname -r)"
  echo "cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo) x $(nproc)"
  echo "load before: $(cat /proc/loadavg)"
  echo "smolweb: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src examples Cargo.toml 2>/dev/null || echo ' +uncommitted changes') sources $SRC_HASH_BUILT"
  echo "rustc: $(rustc --version)"
  echo "nginx: $("$NGINX" -v 2>&1)"
  echo "wrk: $(wrk -v 2>&1 | head -1)"
  echo "valgrind: $(valgrind --version 2>/dev/null || echo none)"
  echo "RUNS=$RUNS DURATION=$DURATION WARMUP=$WARMUP CONNS_LOW=$CONNS_LOW CONNS_HIGH=$CONNS_HIGH CONNS_FILES=$CONNS_FILES HOLD_CONNS=$HOLD_CONNS ALLOC_N=$ALLOC_N CALLGRIND_N=$CALLGRIND_N CALLGRIND_PAUSE_US=$CALLGRIND_PAUSE_US SERVER_CPU=$SERVER_CPU CLIENT_CPU=$CLIENT_CPU"
} >"$RAW/meta.txt"

if want plain; then
for run in $(seq "$RUNS"); do
  log "run $run/$RUNS: plaintext, $CONNS_LOW connections"
  for s in "${SERVERS[@]}"; do wrk_run "$s" hello / "$CONNS_LOW" plain_low "$run"; done
done
fi
if want plain; then
for run in $(seq "$RUNS"); do
  log "run $run/$RUNS: plaintext, $CONNS_HIGH connections"
  for s in "${SERVERS[@]}"; do wrk_run "$s" hello / "$CONNS_HIGH" plain_high "$run"; done
done
fi
if want files; then
for run in $(seq "$RUNS"); do
  log "run $run/$RUNS: 4 KiB file"
  for s in "${FILE_SERVERS[@]}"; do wrk_run "$s" files "$(file_path "$s" 4k.bin)" "$CONNS_FILES" file4k "$run" "$SIZE_4K"; done
done
fi
if want files; then
for run in $(seq "$RUNS"); do
  log "run $run/$RUNS: 1 MiB file"
  for s in "${FILE_SERVERS[@]}"; do wrk_run "$s" files "$(file_path "$s" 1m.bin)" "$CONNS_FILES" file1m "$run" "$SIZE_1M"; done
done
fi
if want threads; then
for run in $(seq "$RUNS"); do
  log "run $run/$RUNS: threads (plaintext, $CONNS_LOW connections, nothing pinned)"
  for s in "${THREAD_SERVERS[@]}"; do wrk_run "$s" hello / "$CONNS_LOW" threads "$run"; done
done
fi
if want rss; then
for run in $(seq "$RUNS"); do
  log "run $run/$RUNS: RSS idle and with $HOLD_CONNS connections"
  for s in "${SERVERS[@]}"; do rss_run "$s" "$run"; done
done
fi
if want scale; then
for run in $(seq "$RUNS"); do
  log "run $run/$RUNS: $CONNS_SCALE connections: plaintext req/s and p99, RSS held (hello, file_server)"
  for s in "${SERVERS[@]}"; do wrk_run "$s" hello / "$CONNS_SCALE" plain_scale "$run"; done
  for s in "${SERVERS[@]}"; do rss_run "$s" "$run" hello "$CONNS_SCALE" rss_scale; done
  for s in "${SERVERS[@]}"; do rss_run "$s" "$run" files "$CONNS_SCALE" rss_scale_files; done
done
fi
if want ws; then
for run in $(seq "$RUNS"); do
  log "run $run/$RUNS: WebSocket echo, $WS_CONNS connections, and RSS with $HOLD_CONNS sockets"
  for s in "${WS_SERVERS[@]}"; do ws_run "$s" "$run"; done
  for s in "${WS_SERVERS[@]}"; do ws_rss_run "$s" "$run"; done
done
fi
if want tls; then
  for run in $(seq "$RUNS"); do
    log "run $run/$RUNS: TLS, $CONNS_LOW keep-alive connections"
    for s in "${TLS_SERVERS[@]}"; do wrk_run "$s" tls / "$CONNS_LOW" tls_plain "$run"; done
  done
  for run in $(seq "$RUNS"); do
    log "run $run/$RUNS: TLS, a new connection per request (handshakes)"
    for s in "${TLS_SERVERS[@]}"; do wrk_run "$s" tls / "$CONNS_LOW" tls_conn "$run" "" -H "Connection: close"; done
  done
  for run in $(seq "$RUNS"); do
    log "run $run/$RUNS: TLS, 1 MiB file"
    for s in "${TLS_SERVERS[@]}"; do wrk_run "$s" tls "$(file_path "$s" 1m.bin)" "$CONNS_FILES" tls_file1m "$run" "$SIZE_1M"; done
  done
fi
# alloc_run METRIC CPUS RUN: alloc-count with its threads allowed on CPUS.
alloc_run() {
  local metric=$1 cpus=$2 run=$3 out s
  out=$RAW/alloc-count-$metric-$run.txt
  if taskset -c "$cpus" "$ALLOC_COUNT" "$ALLOC_N" >"$out" 2>&1; then
    for s in smolweb hyper; do
      sample "$metric" "$s" "$run" "$(sed -n "s/^allocs\/request .*$s=\([0-9.]*\).*/\1/p" "$out")"
      sample "$metric.bytes" "$s" "$run" "$(sed -n "s/^bytes\/request .*$s=\([0-9.]*\).*/\1/p" "$out")"
      sample "$metric.file" "$s" "$run" "$(sed -n "s/^file allocs\/request .*$s=\([0-9.]*\).*/\1/p" "$out")"
    done
    log "  CPUs $cpus: $(grep 'allocs/request' "$out" | tr '\n' ';') $(tail -1 "$out")"
  else
    warn "alloc-count failed: $(cat "$out")"
  fi
}
# compressed_bytes NAME PATH CODING RUN: the bytes of one response in CODING (curl).
compressed_bytes() {
  local name=$1 path=$2 coding=$3 run=$4 port got
  port=$(port_of "$name")
  got=$(curl -s --max-time 10 -H "Accept-Encoding: $coding" -o /dev/null -w '%{size_download}' \
    "http://127.0.0.1:$port$path") || { warn "$name $path $coding: curl failed"; return 0; }
  sample "compress.$coding.bytes" "$name" "$run" "$got"
}
if want compress; then
  for run in $(seq "$RUNS"); do
    log "run $run/$RUNS: 100 KiB JSON compressed per request ($CONNS_FILES connections), and precompressed"
    for s in "${CZ_SERVERS[@]}"; do
      wrk_run "$s" files "$(file_path "$s" json/data.json)" "$CONNS_FILES" compress_gzip "$run" "" -H "Accept-Encoding: gzip"
      wrk_run "$s" files "$(file_path "$s" pre/data.json)" "$CONNS_FILES" compress_static "$run" "" -H "Accept-Encoding: gzip"
    done
    wrk_run smolweb_cz files /json/data.json "$CONNS_FILES" compress_br "$run" "" -H "Accept-Encoding: br"
    wrk_run smolweb_cz files /json/data.json "$CONNS_FILES" compress_zstd "$run" "" -H "Accept-Encoding: zstd"
    wrk_run smolweb_cz files /json/data.json "$CONNS_FILES" compress_identity "$run"
    # Sizes: one response each, from a server started for it.
    for s in "${CZ_SERVERS[@]}"; do
      start_server "$s" files
      compressed_bytes "$s" "$(file_path "$s" json/data.json)" gzip "$run"
      [[ $s == smolweb_cz ]] && compressed_bytes "$s" /json/data.json br "$run"
      [[ $s == smolweb_cz ]] && compressed_bytes "$s" /json/data.json zstd "$run"
      stop_server "$SERVER_PID"
    done
  done
fi
if want sessions; then
  # Its own Redis: a loopback port, no persistence files.
  mkdir -p "$WORK/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK/redis" \
    >"$RAW/redis.log" 2>&1 &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  wait_port "$REDIS_PORT" "$REDIS_PID" 15 || die "redis-server did not start"
  for run in $(seq "$RUNS"); do
    log "run $run/$RUNS: GET /me with a session, $CONNS_LOW connections, in memory and in Redis"
    session_run memory "$run"
    session_run redis "$run"
  done
  stop_server "$REDIS_PID"
fi
if want alloc; then
for run in $(seq "$RUNS"); do
  log "run $run/$RUNS: allocations per request ($ALLOC_N requests)"
  # Server and client on two CPUs: the server usually finds its socket empty and waits
  # (a reactor registration and a keep-alive timer). On one CPU the client has always
  # written the next request before the server looks, so that path is never taken.
  alloc_run allocs "$SERVER_CPU,$CLIENT_CPU" "$run"
  alloc_run allocs1 "$SERVER_CPU" "$run"
done
fi
if [[ $HAVE_VALGRIND == 1 ]] && want callgrind; then
  # Ir(warm-up + N) - Ir(warm-up), divided by N: start-up, the connection, the first
  # requests and shutdown cancel out, leaving N steady-state requests.
  CG_BASE=1000
  for s in smolweb hyper; do
    log "callgrind: $s, $CG_BASE and $((CG_BASE + CALLGRIND_N)) requests"
    callgrind_ir "$s" "$CG_BASE"
    a=$CG_IR
    callgrind_ir "$s" $((CG_BASE + CALLGRIND_N))
    b=$CG_IR
    if [[ -n $a && -n $b ]]; then
      sample instr "$s" 1 "$(awk -v a="$a" -v b="$b" -v n="$CALLGRIND_N" 'BEGIN {printf "%.0f", (b - a) / n}')"
      log "  $s: Ir $a and $b"
    else
      warn "callgrind $s failed"
    fi
  done
fi

# ---------------------------------------------------------------------------------------
# Table
# ---------------------------------------------------------------------------------------
median() {
  awk -v m="$1" -v s="$2" -F'\t' '$1 == m && $2 == s && $4 != "" {print $4}' "$SAMPLES" |
    sort -g | awk '{a[NR] = $1} END {
      if (NR == 0) print "";
      else if (NR % 2) print a[(NR + 1) / 2];
      else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
fmt() { # fmt VALUE DECIMALS
  [[ -z $1 ]] && { echo ""; return; }
  awk -v v="$1" -v d="$2" 'BEGIN {printf "%.*f", d, v}'
}
ratio() {
  [[ -z $1 || -z $2 ]] && { echo ""; return; }
  awk -v a="$1" -v b="$2" 'BEGIN {if (b == 0) print ""; else printf "%.2f", a / b}'
}

RESULTS=$HERE/results.tsv
printf 'row\tsmolweb\thyper\tnginx\tsmolweb/hyper\tsmolweb/nginx\n' >"$RESULTS"
row() { # row LABEL METRIC DECIMALS [PEERS] [SMOLWEB-VARIANT] [HYPER-COLUMN] [NGINX-COLUMN]
  local label=$1 metric=$2 dec=$3 peers=${4:-smolweb hyper nginx} self=${5:-smolweb}
  local second=${6:-hyper} third=${7:-nginx} sm hy ng
  sm=$(median "$metric" "$self")
  hy=""; ng=""
  [[ " $peers " == *" hyper "* ]] && hy=$(median "$metric" "$second")
  [[ " $peers " == *" nginx "* ]] && ng=$(median "$metric" "$third")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$(fmt "$sm" "$dec")" "$(fmt "$hy" "$dec")" \
    "$(fmt "$ng" "$dec")" "$(ratio "$sm" "$hy")" "$(ratio "$sm" "$ng")" >>"$RESULTS"
}
row "plaintext req/s, $CONNS_LOW conns" plain_low.rps 0
row "plaintext p50 ms, $CONNS_LOW conns" plain_low.p50 2
row "plaintext p90 ms, $CONNS_LOW conns" plain_low.p90 2
row "plaintext p99 ms, $CONNS_LOW conns" plain_low.p99 2
row "mean latency ms, $CONNS_LOW conns" plain_low.avg 3
row "server CPU % in kernel, $CONNS_LOW conns" plain_low.kernel 1
row "plaintext req/s, $CONNS_HIGH conns" plain_high.rps 0
row "plaintext p50 ms, $CONNS_HIGH conns" plain_high.p50 2
row "plaintext p90 ms, $CONNS_HIGH conns" plain_high.p90 2
row "plaintext p99 ms, $CONNS_HIGH conns" plain_high.p99 2
row "plaintext max ms, $CONNS_HIGH conns" plain_high.max 1
row "plaintext stdev ms, $CONNS_HIGH conns" plain_high.stdev 2
row "4 KiB file req/s" file4k.rps 0
row "1 MiB file req/s" file1m.rps 0
row "1 MiB file MB/s" file1m.mbps 1
row "4 KiB file req/s, sendfile feature" file4k.rps 0 "smolweb hyper nginx" smolweb_sf
row "1 MiB file MB/s, sendfile feature" file1m.mbps 1 "smolweb hyper nginx" smolweb_sf
row "threads: 1, req/s (shared CPUs)" threads.rps 0 "" smolweb_t1
row "threads: 2, req/s (shared CPUs)" threads.rps 0 "" smolweb_t2
row "threads: 2 per-core, req/s (shared)" threads.rps 0 "" smolweb_pc2
row "threads: 2 per server, req/s (shared)" threads.rps 0 "smolweb hyper nginx" smolweb_t2 hyper_t2 nginx_t2
row "threads: 2 per server, p99 ms (shared)" threads.p99 2 "smolweb hyper nginx" smolweb_t2 hyper_t2 nginx_t2
row "RSS idle KiB" rss.idle 0
row "RSS with $HOLD_CONNS conns KiB" rss.held 0
row "RSS per keep-alive conn bytes" rss.perconn 0
row "plaintext req/s, $CONNS_SCALE conns" plain_scale.rps 0
row "plaintext p50 ms, $CONNS_SCALE conns" plain_scale.p50 2
row "plaintext p99 ms, $CONNS_SCALE conns" plain_scale.p99 2
row "RSS with $CONNS_SCALE conns KiB" rss_scale.held 0
row "RSS per conn bytes, $CONNS_SCALE conns" rss_scale.perconn 0
row "RSS per conn bytes, $CONNS_SCALE conns, files" rss_scale_files.perconn 0
row "websocket echo msgs/s, $WS_CONNS conns (*)" ws.mps 0 "smolweb hyper" smolweb_ws wspeer
row "RSS per idle WebSocket bytes (*)" ws.perconn 0 "smolweb hyper" smolweb_ws wspeer
row "TLS req/s, $CONNS_LOW keep-alive conns" tls_plain.rps 0 "smolweb nginx" smolweb_tls "" nginx_tls
row "TLS p99 ms, $CONNS_LOW keep-alive conns" tls_plain.p99 2 "smolweb nginx" smolweb_tls "" nginx_tls
row "TLS new connections/s (handshakes)" tls_conn.rps 0 "smolweb nginx" smolweb_tls "" nginx_tls
row "TLS 1 MiB file MB/s" tls_file1m.mbps 1 "smolweb nginx" smolweb_tls "" nginx_tls
row "100 KiB JSON, identity req/s" compress_identity.rps 0 "" smolweb_cz
row "100 KiB JSON, gzip per request req/s" compress_gzip.rps 0 "smolweb nginx" smolweb_cz
row "100 KiB JSON, gzip bytes" compress.gzip.bytes 0 "smolweb nginx" smolweb_cz
row "100 KiB JSON, brotli per request req/s" compress_br.rps 0 "" smolweb_cz
row "100 KiB JSON, brotli bytes" compress.br.bytes 0 "" smolweb_cz
row "100 KiB JSON, zstd per request req/s" compress_zstd.rps 0 "" smolweb_cz
row "100 KiB JSON, zstd bytes" compress.zstd.bytes 0 "" smolweb_cz
row "precompressed .gz (gzip_static) req/s" compress_static.rps 0 "smolweb nginx" smolweb_cz
row "session GET /me req/s, in memory" session.rps 0 "" notes_memory
row "session GET /me req/s, Redis" session.rps 0 "" notes_redis
row "allocs/request" allocs 1 "smolweb hyper"
row "bytes allocated/request" allocs.bytes 0 "smolweb hyper"
row "allocs/request, all on 1 CPU" allocs1 1 "smolweb hyper"
row "allocs/request, 4 KiB file" allocs.file 1 "smolweb hyper"
row "allocs/request, 4 KiB file, 1 CPU" allocs1.file 1 "smolweb hyper"
if [[ $HAVE_VALGRIND == 1 ]]; then
  row "instructions/request (callgrind)" instr 0 "smolweb hyper"
fi

echo "load after: $(cat /proc/loadavg)" >>"$RAW/meta.txt"
if [[ $(src_hash) != "$SRC_HASH_BUILT" ]]; then
  warn "smolweb's sources changed during the run: the figures are for the build at the start"
fi
echo
echo "smolweb bench: median of $RUNS runs, ${DURATION}s each, server on CPU $SERVER_CPU, wrk on CPU $CLIENT_CPU"
grep -E '^(smolweb|load)' "$RAW/meta.txt"
awk -F'\t' '{
  printf "%-34s | %11s | %11s | %11s | %13s | %13s\n", $1, $2, $3, $4, $5, $6
  if (NR == 1) printf "%s\n", "-----------------------------------+-------------+-------------+-------------+---------------+--------------"
}' "$RESULTS"
echo "(*) WebSocket rows: the hyper column is tokio-tungstenite's echo (bench/src/bin/ws-peer.rs)."
echo "TLS rows: smolweb's examples/https against nginx with ssl, one ECDSA P-256 certificate; hyper not measured."
echo
echo "written: $RESULTS (raw wrk output and samples: $RAW/)"
if ((${#WARNINGS[@]})); then
  echo "warnings:"
  printf '  - %s\n' "${WARNINGS[@]}"
fi
log "done in $(($(date +%s) - START_TIME)) s"
