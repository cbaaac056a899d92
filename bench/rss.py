#!/usr/bin/env python3
"""What an idle keep-alive connection costs a smolweb server, in bytes of resident memory.

    python3 bench/rss.py [--bin-dir DIR] [--conns N] [--runs R] [--only hello|file_server]

For each example (`hello`, `file_server`) and each run: starts the release build on one
thread (`SMOLWEB_THREADS=1`) on a free loopback port, reads its VmRSS, opens N keep-alive
connections and sends one GET on each (reading the whole response), waits half a second,
reads VmRSS again, and prints `(held - idle) / N` in bytes. Kernel socket buffers are not
part of VmRSS: the figure is what the server process itself keeps per connection.

The binaries come from --bin-dir (default: target/release/examples, or
$CARGO_TARGET_DIR/release/examples); build them first with
`cargo build --release --example hello --example file_server`. Copy them elsewhere when
others build in the same target directory.

N is at most the server's default `Config::max_connections` (half of RLIMIT_NOFILE less 64)
less a margin, so that no connection is evicted to make room: with a hard limit of 20,000
file descriptors that is 9,900. Loopback only; every wait is bounded.
"""

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time

REQUEST = b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def raise_fd_limit():
    """Raises the soft RLIMIT_NOFILE to the hard one (inherited by the server)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def vmrss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_response(sock):
    """Reads one response with a Content-Length; returns its status."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("closed before the head")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("closed in the body")
        body += chunk
    return status


def connect(port, deadline):
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def measure(binary, args, path, conns):
    port = free_port()
    env = dict(os.environ, SMOLWEB_THREADS="1")
    env.pop("SMOLWEB_PER_CORE", None)
    server = subprocess.Popen(
        [binary, f"127.0.0.1:{port}", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    held = []
    try:
        connect(port, time.monotonic() + 10).close()
        time.sleep(0.5)
        idle = vmrss_bytes(server.pid)
        for i in range(conns):
            sock = connect(port, time.monotonic() + 10)
            sock.sendall(REQUEST % path.encode())
            status = read_response(sock)
            if status != 200:
                raise RuntimeError(f"connection {i}: status {status}")
            held.append(sock)
        time.sleep(0.5)
        full = vmrss_bytes(server.pid)
        # Every connection must still be open: one evicted would make the figure a lie.
        for sock in held[:: max(1, conns // 100)]:
            sock.setblocking(False)
            try:
                if sock.recv(1) == b"":
                    raise RuntimeError("a held connection was closed by the server")
            except BlockingIOError:
                pass
        return idle, full
    finally:
        for sock in held:
            sock.close()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def main():
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin-dir", default=os.path.join(target, "release", "examples"))
    parser.add_argument("--conns", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=["hello", "file_server"])
    opts = parser.parse_args()

    hard = raise_fd_limit()
    cap = (hard - 64) // 2 - 68
    conns = min(opts.conns, cap)
    if conns < opts.conns:
        print(f"# {conns} connections: RLIMIT_NOFILE {hard} caps max_connections", flush=True)

    files = tempfile.mkdtemp(prefix="smolweb-rss-")
    with open(os.path.join(files, "small.txt"), "wb") as f:
        f.write(b"x" * 1024)
    examples = [("hello", [], "/"), ("file_server", [files], "/small.txt")]
    print("example\trun\tidle_kib\theld_kib\tconns\tbytes_per_conn", flush=True)
    for name, args, path in examples:
        if opts.only and opts.only != name:
            continue
        binary = os.path.join(opts.bin_dir, name)
        for run in range(1, opts.runs + 1):
            idle, full = measure(binary, args, path, conns)
            per = (full - idle) / conns
            print(f"{name}\t{run}\t{idle // 1024}\t{full // 1024}\t{conns}\t{per:.0f}", flush=True)
    os.remove(os.path.join(files, "small.txt"))
    os.rmdir(files)


if __name__ == "__main__":
    sys.exit(main())
