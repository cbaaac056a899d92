#!/usr/bin/env bash
# System calls per request of one server under load, counted by the kernel's tracepoints.
#
#   bench/syscalls.sh [CONNS]           # smolweb's hello, then hyper-server; default 64
#
# Each server runs pinned to CPU 0 with one thread, wrk (3 s, CONNS connections) on CPU 1,
# and `perf stat` counts the server's entries into the socket and epoll system calls. Needs
# `perf` (Debian's linux-perf) with tracepoints readable (root). Build first:
# `cargo build --release --examples` in the repository and `cargo build --release` here.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
CONNS=${1:-64}
EVENTS=recvfrom,sendto,sendfile64,read,write,readv,writev,epoll_ctl,epoll_wait,epoll_pwait,futex
EV=$(printf 'syscalls:sys_enter_%s,' ${EVENTS//,/ })
EV=${EV%,}

count() { # count NAME PORT CMD...
  local name=$1 port=$2
  shift 2
  SMOLWEB_THREADS=1 taskset -c 0 "$@" >/dev/null 2>&1 &
  local pid=$! out
  sleep 1
  out=$(mktemp)
  perf stat -x, -p "$pid" -e "$EV" -- sleep 3.4 2>"$out" &
  local perf=$!
  sleep 0.2
  local rps
  rps=$(taskset -c 1 wrk -t1 -c"$CONNS" -d3s "http://127.0.0.1:$port/" | awk '/Requests\/sec/ {print $2}')
  wait "$perf" || true
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  # Requests during the counted window: wrk's rate times its 3 s (the window is a little
  # longer, so idle calls before and after land in it too).
  echo "$name: $rps req/s, $CONNS connections"
  awk -F, -v r="$rps" '$1 > 0 { sub(/syscalls:sys_enter_/, "", $3); printf "  %-12s %6.2f per request\n", $3, $1 / (r * 3) }' "$out"
  rm -f "$out"
}
count smolweb 18191 "$ROOT/target/release/examples/hello" 127.0.0.1:18191
count hyper 18192 "$HERE/target/release/hyper-server" 127.0.0.1:18192
