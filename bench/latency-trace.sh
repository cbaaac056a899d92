#!/usr/bin/env bash
# Where a request's latency goes, for one server under wrk: traces 0.3 s of a wrk run with
# `perf record -a` on the socket system calls of both processes, pairs each client socket
# with its server socket (from `ss`), and prints the medians and 90th percentiles of
#   client write -> server recv -> server send -> client read.
#
#   bench/latency-trace.sh PORT PID [CONNS] [NAME]
#
# PID is the server's (one pinned thread, e.g. `SMOLWEB_THREADS=1 taskset -c 0 hello ADDR`);
# wrk runs on CPU 1 for 4 s with CONNS connections (64), the trace starts 1.5 s in. Needs
# perf with tracepoints readable (root). Tracing slows both sides: compare servers traced
# the same way, not these figures with wrk's. Loopback only.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PORT=$1
PID=$2
CONNS=${3:-64}
NAME=${4:-server}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
taskset -c 1 wrk -t1 -c"$CONNS" -d4s "http://127.0.0.1:$PORT/" >"$WORK/wrk.txt" &
wrk=$!
sleep 1.5
ss -tnpH state established "( sport = :$PORT or dport = :$PORT )" >"$WORK/ss.txt"
EVENTS=syscalls:sys_enter_write,syscalls:sys_enter_read,syscalls:sys_exit_read
EVENTS=$EVENTS,syscalls:sys_enter_recvfrom,syscalls:sys_exit_recvfrom
EVENTS=$EVENTS,syscalls:sys_enter_sendto,syscalls:sys_enter_writev
perf record -q -o "$WORK/perf.data" -a -e "$EVENTS" -- sleep 0.3 2>/dev/null
wait "$wrk"
perf script -i "$WORK/perf.data" -F comm,pid,tid,time,event,trace >"$WORK/script.txt" 2>/dev/null
echo "$NAME ($CONNS connections): $(awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk.txt") req/s under the trace"
python3 "$HERE/latency-trace.py" "$WORK/ss.txt" "$WORK/script.txt" "$PID"
