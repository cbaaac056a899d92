#!/usr/bin/env bash
# The scheduling study: smolweb's hello built with different scheduling constants, measured
# side by side (alternating, one pinned core each, wrk on the other), at 64 and 1,000
# connections, with nginx on the same core as the reference.
#
#   bench/policy.sh                  # RUNS=3 DURATION=5
#
# Variants (build-time constants, src/runtime.rs `tuned`): `default` (a look at the reactor
# every 64 tasks; a missed recv yields up to 4 times), `miss0` (a missed recv waits on the
# reactor at once), `miss16`, `poll16` (a look every 16 tasks), `poll128`, `poll256`.
# Prints one line per variant and connection count: req/s and the latency distribution
# (p50, p90, p99, max; medians over the runs), and writes them to bench/policy.tsv.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
RUNS=${RUNS:-3}
DURATION=${DURATION:-5}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PORT=${PORT:-18200}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}/policy
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
command -v wrk >/dev/null || { echo "wrk not found" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || true

declare -A KNOBS=(
  [default]=""
  [miss0]="SMOLWEB_TUNE_MISS_YIELDS=0"
  [miss16]="SMOLWEB_TUNE_MISS_YIELDS=16"
  [poll16]="SMOLWEB_TUNE_POLL_EVERY=16"
  [poll128]="SMOLWEB_TUNE_POLL_EVERY=128"
  [poll256]="SMOLWEB_TUNE_POLL_EVERY=256"
  [direct]="SMOLWEB_TUNE_YIELD_AFTER=0 SMOLWEB_TUNE_MISS_YIELDS=0"
)
# VARIANTS="default poll256" bench/policy.sh measures only those (and nginx).
read -r -a VARIANTS <<<"${VARIANTS:-default miss0 miss16 poll16 poll256}"
for v in "${VARIANTS[@]}"; do
  echo "building hello: $v ${KNOBS[$v]}" >&2
  (cd "$ROOT" && env ${KNOBS[$v]} cargo build --release --quiet --example hello --target-dir "$TARGET/$v")
done

WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/nginx/tmp"
cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
master_process off;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 30000; }
http {
  access_log off;
  tcp_nodelay on;
  keepalive_requests 1000000;
  client_body_temp_path $WORK/nginx/tmp;
  proxy_temp_path $WORK/nginx/tmp;
  fastcgi_temp_path $WORK/nginx/tmp;
  uwsgi_temp_path $WORK/nginx/tmp;
  scgi_temp_path $WORK/nginx/tmp;
  server {
    listen 127.0.0.1:$PORT backlog=4096;
    location = / { default_type text/plain; return 200 "Hello, World!"; }
  }
}
CONF

to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); print v + 0 }
    else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000 } }'
}
SAMPLES=$WORK/samples.tsv
: >"$SAMPLES"
measure() { # measure NAME CONNS RUN
  local name=$1 conns=$2 run=$3 pid out
  if [[ $name == nginx ]]; then
    taskset -c "$SERVER_CPU" "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" &
  else
    env -u SMOLWEB_PER_CORE SMOLWEB_THREADS=1 taskset -c "$SERVER_CPU" \
      "$TARGET/$name/release/examples/hello" "127.0.0.1:$PORT" >/dev/null 2>&1 &
  fi
  pid=$!
  for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$conns" -d1s "http://127.0.0.1:$PORT/" >/dev/null 2>&1 || true
  out=$WORK/wrk-$name-$conns-$run.txt
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$conns" -d"${DURATION}s" --latency "http://127.0.0.1:$PORT/" >"$out" 2>&1 || true
  kill "$pid"; wait "$pid" 2>/dev/null || true
  local rps p50 p90 p99 max
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p50=$(awk '/Latency Distribution/ {d=1} d && $1 == "50%" {print $2; exit}' "$out")
  p90=$(awk '/Latency Distribution/ {d=1} d && $1 == "90%" {print $2; exit}' "$out")
  p99=$(awk '/Latency Distribution/ {d=1} d && $1 == "99%" {print $2; exit}' "$out")
  max=$(awk '$1 == "Latency" {print $4; exit}' "$out")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$conns" "$rps" "$(to_ms "$p50")" "$(to_ms "$p90")" \
    "$(to_ms "$p99")" "$(to_ms "$max")" >>"$SAMPLES"
  echo "  $name $conns run $run: $rps req/s, p99 $p99" >&2
}
for run in $(seq "$RUNS"); do
  for conns in 64 1000; do
    for name in "${VARIANTS[@]}" nginx; do measure "$name" "$conns" "$run"; done
  done
done
median() { sort -g | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
OUT=$HERE/policy.tsv
printf 'variant\tconns\treq/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\n' >"$OUT"
for conns in 64 1000; do
  for name in "${VARIANTS[@]}" nginx; do
    line="$name\t$conns"
    for col in 3 4 5 6 7; do
      line+="\t$(awk -F'\t' -v n="$name" -v c="$conns" -v k="$col" '$1 == n && $2 == c {print $k}' "$SAMPLES" | median)"
    done
    printf "$line\n" >>"$OUT"
  done
done
column -t -s $'\t' "$OUT"
