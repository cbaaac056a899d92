"""An independent TLS client for tests/tls.rs: Python's `ssl` module against smolweb.

Usage: tls_client.py PORT CA.pem FILE_SIZE. Prints one line per check; exits non-zero on the
first failure. Every socket has a 10 s timeout.
"""
import hashlib
import socket
import ssl
import sys

port, ca, size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ctx = ssl.create_default_context(cafile=ca)
ctx.set_alpn_protocols(["http/1.1"])


def connect(name="localhost"):
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    # A close without close_notify raises SSLEOFError instead of reading as the end.
    return ctx.wrap_socket(raw, server_hostname=name, suppress_ragged_eofs=False)


def read_response(f):
    status = f.readline()
    assert status.startswith(b"HTTP/1.1 "), status
    length = None
    while True:
        line = f.readline()
        assert line, "closed inside the head"
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    assert length is not None, "no content-length"
    body = f.read(length)
    assert len(body) == length, (len(body), length)
    return int(status.split()[1]), body


s = connect()
print("alpn", s.selected_alpn_protocol())
f = s.makefile("rb")
for _ in range(3):
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    status, body = read_response(f)
    assert (status, body) == (200, b"Hello, World!"), (status, body)
print("keep-alive: 3 responses on one session")
s.sendall(b"GET /static/big.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
status, body = read_response(f)
assert status == 200 and len(body) == size, (status, len(body))
print("file sha256", hashlib.sha256(body).hexdigest())
rest = f.read()
assert rest == b"", rest[:100]
print("close_notify received")
s.close()

try:
    connect("wrong.example")
    print("wrong name accepted")
    sys.exit(1)
except ssl.SSLCertVerificationError as e:
    print("wrong name refused by the client:", e.verify_message)

# The server still serves after that failed handshake.
s = connect()
s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
status, body = read_response(s.makefile("rb"))
assert (status, body) == (200, b"Hello, World!")
print("served after the refused name")
