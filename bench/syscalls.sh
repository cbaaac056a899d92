#!/usr/bin/env bash
# System calls per request of one server under load, counted by the kernel's tracepoints.
#
#   bench/syscalls.sh [CONNS]           # smolweb's hello, then hyper-server; default 64
#   bench/syscalls.sh 64 /1m.bin        # a file instead: smolweb's file_server, hyper-server
#                                       # (files 4k.bin and 1m.bin, generated in a temp dir)
#
# Each server runs pinned to CPU 0 with one thread, wrk (3 s, CONNS connections) on CPU 1,
# and `perf stat` counts the server's entries into the socket and epoll system calls. Needs
# `perf` (Debian's linux-perf) with tracepoints readable (root). Build first:
# `cargo build --release --examples` in the repository and `cargo build --release` here.
#
#   VARIANTS="default poll256" bench/syscalls.sh 1000
#                                       # the scheduling variants bench/policy.sh built
#                                       # (target/policy/NAME), twice each, alternating
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
CONNS=${1:-64}
FILE=${2:-}
EVENTS=recvfrom,sendto,sendfile64,read,write,readv,writev,epoll_ctl,epoll_wait,epoll_pwait,futex
if [[ -n $FILE ]]; then
  EVENTS=$EVENTS,pread64,openat,openat2,statx,close
  DIR=$(mktemp -d)
  trap 'rm -rf "$DIR"' EXIT
  head -c 4096 /dev/urandom >"$DIR/4k.bin"
  head -c 1048576 /dev/urandom >"$DIR/1m.bin"
fi
EV=$(printf 'syscalls:sys_enter_%s,' ${EVENTS//,/ })
EV=${EV%,}

count() { # count NAME PORT URL-PATH CMD...
  local name=$1 port=$2 path=$3
  shift 3
  SMOLWEB_THREADS=1 taskset -c 0 "$@" >/dev/null 2>&1 &
  local pid=$! out
  sleep 1
  out=$(mktemp)
  perf stat -x, -p "$pid" -e "$EV" -- sleep 3.4 2>"$out" &
  local perf=$!
  sleep 0.2
  local rps
  rps=$(taskset -c 1 wrk -t1 -c"$CONNS" -d3s "http://127.0.0.1:$port$path" | awk '/Requests\/sec/ {print $2}')
  wait "$perf" || true
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  # Requests during the counted window: wrk's rate times its 3 s (the window is a little
  # longer, so idle calls before and after land in it too).
  echo "$name: $rps req/s, $CONNS connections"
  awk -F, -v r="$rps" '$1 > 0 { sub(/syscalls:sys_enter_/, "", $3); printf "  %-12s %6.2f per request\n", $3, $1 / (r * 3) }' "$out"
  rm -f "$out"
}
if [[ -n $FILE ]]; then
  count smolweb 18191 "$FILE" "$ROOT/target/release/examples/file_server" 127.0.0.1:18191 "$DIR"
  count hyper 18192 "/files$FILE" "$HERE/target/release/hyper-server" 127.0.0.1:18192 "$DIR"
elif [[ -n ${VARIANTS:-} ]]; then
  for _ in 1 2; do
    for v in $VARIANTS; do
      count "hello-$v" 18191 / "${CARGO_TARGET_DIR:-$ROOT/target}/policy/$v/release/examples/hello" 127.0.0.1:18191
    done
  done
else
  count smolweb 18191 / "$ROOT/target/release/examples/hello" 127.0.0.1:18191
  count hyper 18192 / "$HERE/target/release/hyper-server" 127.0.0.1:18192
fi
