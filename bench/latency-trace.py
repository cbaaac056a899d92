#!/usr/bin/env python3
"""The analysis behind bench/latency-trace.sh: SS_FILE SCRIPT_FILE SERVER_PID.

Pairs wrk's sockets with the server's by address (from `ss -tnp`), then walks each pair's
system calls in time order: wrk's `write` of a request, the server's first `recvfrom` that
returns bytes, its `sendto`/`writev`, and wrk's `read` that returns bytes.
"""
import re
import statistics
import sys

ss_file, script_file, server_pid = sys.argv[1], sys.argv[2], sys.argv[3]
client_fd, server_fd = {}, {}
for line in open(ss_file):
    fields = line.split()
    local, peer = fields[2], fields[3]
    m = re.search(r'\("([^"]+)",pid=(\d+),fd=(\d+)\)', line)
    if not m:
        continue
    if m.group(2) == server_pid:
        server_fd[peer] = int(m.group(3))
    else:
        client_fd[local] = int(m.group(3))
pairs = {client_fd[a]: server_fd[a] for a in client_fd if a in server_fd}

line_re = re.compile(r"^\s*(.+?)\s+(\d+)/(\d+)\s+([\d.]+):\s+syscalls:(\w+):\s*(.*)$")
last_enter = {}
events = {}  # (side, fd) -> [(time, kind)]
for line in open(script_file):
    m = line_re.match(line)
    if not m:
        continue
    _, pid, tid, t, event, rest = m.groups()
    t = float(t)
    side = "s" if pid == server_pid else "c"
    if event.startswith("sys_enter"):
        fd = re.search(r"fd: 0x([0-9a-f]+)", rest)
        fd = int(fd.group(1), 16) if fd else None
        last_enter[tid] = (event, fd)
        if side == "c" and event == "sys_enter_write":
            events.setdefault(("c", fd), []).append((t, "write"))
        if side == "s" and event in ("sys_enter_sendto", "sys_enter_writev"):
            events.setdefault(("s", fd), []).append((t, "send"))
        continue
    ret = int(rest, 16)
    if ret >= 1 << 63:
        ret -= 1 << 64
    enter = last_enter.get(tid)
    if ret <= 0 or not enter:
        continue
    if side == "c" and enter[0] == "sys_enter_read":
        events.setdefault(("c", enter[1]), []).append((t, "read"))
    if side == "s" and enter[0] == "sys_enter_recvfrom":
        events.setdefault(("s", enter[1]), []).append((t, "recv"))

parts = {"write->recv": [], "recv->send": [], "send->read": [], "total": []}
for cfd, sfd in pairs.items():
    seq = sorted(events.get(("c", cfd), []) + events.get(("s", sfd), []))
    cur = None
    for t, kind in seq:
        if kind == "write":
            cur = {"write": t}
        elif cur is None:
            continue
        elif kind == "recv" and "recv" not in cur:
            cur["recv"] = t
        elif kind == "send" and "recv" in cur and "send" not in cur:
            cur["send"] = t
        elif kind == "read" and "send" in cur:
            parts["write->recv"].append(cur["recv"] - cur["write"])
            parts["recv->send"].append(cur["send"] - cur["recv"])
            parts["send->read"].append(t - cur["send"])
            parts["total"].append(t - cur["write"])
            cur = None
n = len(parts["total"])
if n == 0:
    sys.exit("no whole request traced")
print(f"  {n} requests traced")
for name, values in parts.items():
    values.sort()
    print(f"  {name:12} median {statistics.median(values) * 1e6:7.1f} us   p90 {values[int(n * 0.9)] * 1e6:7.1f} us")
