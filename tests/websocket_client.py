"""An independent WebSocket client for tests/websocket.rs: Python's `websockets` library
against a smolweb server whose address is the first argument.

Each case prints one line; the last line says "N passed, M failed", and the exit status is 0
only if none failed. Every socket operation has a timeout.
"""

import socket
import sys
import traceback

from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

ADDR = sys.argv[1]
HOST, PORT = ADDR.rsplit(":", 1)
TIMEOUT = 10


def ws(path, **kw):
    kw.setdefault("open_timeout", TIMEOUT)
    kw.setdefault("close_timeout", TIMEOUT)
    return connect(f"ws://{ADDR}{path}", **kw)


def text_echo():
    with ws("/echo") as c:
        c.send("hello, smolweb")
        assert c.recv(timeout=TIMEOUT) == "hello, smolweb"


def binary_echo():
    data = bytes(range(256))
    with ws("/echo") as c:
        c.send(data)
        assert c.recv(timeout=TIMEOUT) == data


def one_mebibyte():
    data = bytes(i % 251 for i in range(1024 * 1024))
    with ws("/echo", max_size=None) as c:
        c.send(data)
        assert c.recv(timeout=TIMEOUT) == data


def fragmented():
    with ws("/echo") as c:
        c.send(["frag", "mented ", "message"])  # one message in three frames
        assert c.recv(timeout=TIMEOUT) == "fragmented message"
        c.send([b"\x00\x01", b"\x02"])
        assert c.recv(timeout=TIMEOUT) == b"\x00\x01\x02"


def ping_pong():
    with ws("/echo") as c:
        pong = c.ping(b"are you there")
        assert pong.wait(TIMEOUT), "no pong"
        c.send("still echoing")
        assert c.recv(timeout=TIMEOUT) == "still echoing"


def server_close_code():
    with ws("/close") as c:
        try:
            c.recv(timeout=TIMEOUT)
            raise AssertionError("expected the server to close")
        except ConnectionClosed as e:
            assert e.rcvd is not None and e.rcvd.code == 4001, e
            assert e.rcvd.reason == "custom", e


def client_close_code():
    c = ws("/echo")
    c.send("bye soon")
    assert c.recv(timeout=TIMEOUT) == "bye soon"
    c.close(code=4000, reason="client done")
    assert c.close_code == 4000, c.close_code  # the server echoed our close code


def oversize_message():
    with ws("/small") as c:
        c.send("x" * 100)
        assert c.recv(timeout=TIMEOUT) == "x" * 100
        c.send("y" * 5000)  # over the endpoint's 1 KiB limit
        try:
            c.recv(timeout=TIMEOUT)
            raise AssertionError("expected a close for a message too big")
        except ConnectionClosed as e:
            assert e.rcvd is not None and e.rcvd.code == 1009, e


def raw_handshake(path, fields):
    s = socket.create_connection((HOST, int(PORT)), timeout=TIMEOUT)
    head = f"GET {path} HTTP/1.1\r\nHost: {ADDR}\r\n" + "".join(f"{f}\r\n" for f in fields)
    s.sendall((head + "\r\n").encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    lines = data.split(b"\r\n\r\n")[0].decode().split("\r\n")
    status = int(lines[0].split()[1])
    fields = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip() for line in lines[1:]}
    return status, fields


def bad_handshakes():
    upgrade = ["Connection: Upgrade", "Upgrade: websocket"]
    status, _ = raw_handshake("/echo", upgrade + ["Sec-WebSocket-Version: 13"])
    assert status == 400, f"no key: {status}"
    status, _ = raw_handshake(
        "/echo", upgrade + ["Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: short"]
    )
    assert status == 400, f"bad key: {status}"
    status, fields = raw_handshake(
        "/echo", upgrade + ["Sec-WebSocket-Version: 8", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]
    )
    assert status == 426 and fields.get("sec-websocket-version") == "13", (status, fields)
    status, _ = raw_handshake("/echo", [])
    assert status == 426, f"not a handshake: {status}"


def origins():
    try:
        ws("/origin", origin="https://evil.example").close()
        raise AssertionError("expected 403 for a foreign origin")
    except InvalidStatus as e:
        assert e.response.status_code == 403, e
    with ws("/origin", origin="https://good.example") as c:
        c.send("welcome")
        assert c.recv(timeout=TIMEOUT) == "welcome"
    # The default (same host): a page from the server's own host may connect, another not.
    with ws("/echo", origin=f"http://{ADDR}") as c:
        c.send("same host")
        assert c.recv(timeout=TIMEOUT) == "same host"
    try:
        ws("/echo", origin="http://evil.example").close()
        raise AssertionError("expected 403 for another host")
    except InvalidStatus as e:
        assert e.response.status_code == 403, e


def subprotocol():
    with ws("/proto", subprotocols=["nope", "chat"]) as c:
        assert c.subprotocol == "chat", c.subprotocol
        assert c.recv(timeout=TIMEOUT) == "chat"


CASES = [
    text_echo,
    binary_echo,
    one_mebibyte,
    fragmented,
    ping_pong,
    server_close_code,
    client_close_code,
    oversize_message,
    bad_handshakes,
    origins,
    subprotocol,
]

passed = failed = 0
for case in CASES:
    try:
        case()
        passed += 1
        print(f"ok   {case.__name__}")
    except Exception:
        failed += 1
        print(f"FAIL {case.__name__}")
        traceback.print_exc(file=sys.stdout)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
