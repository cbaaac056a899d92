#!/usr/bin/env bash
# Instructions per request *under load*: each server runs under callgrind (one thread) while
# `wrk -c64` drives it for 10 s; total instructions (start-up included, a few percent) are
# divided by the requests wrk completed.
#
#   bench/callgrind-load.sh
#
# Build first: `cargo build --release --examples` in the repository, `cargo build --release`
# here. Needs valgrind and wrk.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")

measure() { # measure NAME PORT CMD...
  local name=$1 port=$2 out n ir
  shift 2
  out=$(mktemp)
  SMOLWEB_THREADS=1 valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >/dev/null 2>&1 &
  local pid=$!
  sleep 3
  n=$(wrk -t1 -c64 -d10s "http://127.0.0.1:$port/" | awk '/requests in/ {print $1}')
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$out")
  rm -f "$out"
  echo "$name: $n requests, $ir instructions, $((ir / n)) per request"
}
measure smolweb 18193 "$ROOT/target/release/examples/hello" 127.0.0.1:18193
measure hyper 18194 "$HERE/target/release/hyper-server" 127.0.0.1:18194
