"""An independent reader of a multipart/byteranges answer, for tests/fs.rs.

usage: multipart_client.py HEADERS_FILE BODY_FILE ORIGINAL_FILE FIRST-LAST...

HEADERS_FILE and BODY_FILE are what curl wrote (-D and -o). Parses the body twice: with
Python's email package (structure, part headers), and by hand (each part's exact bytes,
read by its Content-Range length). Checks the parts, in order, against the ranges given and
the original file's bytes. Prints "ok N" (N parts) or exits non-zero with the reason.
"""
import email.parser
import email.policy
import re
import sys


def fail(why):
    print(why)
    sys.exit(1)


def main():
    headers_file, body_file, original_file, *ranges = sys.argv[1:]
    wanted = [tuple(int(x) for x in r.split("-")) for r in ranges]
    original = open(original_file, "rb").read()
    head = open(headers_file, "rb").read().decode("latin-1")
    body = open(body_file, "rb").read()

    status = head.split("\r\n", 1)[0]
    if " 206 " not in status + " ":
        fail(f"status line {status!r}")
    fields = {}
    for line in head.split("\r\n")[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            fields[name.strip().lower()] = value.strip()
    if int(fields["content-length"]) != len(body):
        fail(f"content-length {fields['content-length']} but {len(body)} bytes")
    match = re.fullmatch(r"multipart/byteranges; boundary=(\S+)", fields["content-type"])
    if not match:
        fail(f"content-type {fields['content-type']!r}")
    boundary = match.group(1).encode()

    # The email package: the structure and each part's headers.
    message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(
        b"Content-Type: " + fields["content-type"].encode() + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        fail("not multipart to the email package")
    parts = message.get_payload()
    if len(parts) != len(wanted):
        fail(f"{len(parts)} parts, expected {len(wanted)}")
    for part, (first, last) in zip(parts, wanted):
        expect = f"bytes {first}-{last}/{len(original)}"
        if part["Content-Range"] != expect:
            fail(f"part Content-Range {part['Content-Range']!r}, expected {expect!r}")
        if part.get_content_type() != message.get_content_type() and not part["Content-Type"]:
            fail("part without Content-Type")
        payload = part.get_payload(decode=True)
        if payload != original[first : last + 1]:
            fail(f"email payload of {expect} differs")

    # By hand: every byte, by the lengths the parts announce.
    at = 0
    for index, (first, last) in enumerate(wanted):
        delimiter = (b"" if index == 0 else b"\r\n") + b"--" + boundary + b"\r\n"
        if body[at : at + len(delimiter)] != delimiter:
            fail(f"no delimiter at {at}")
        at += len(delimiter)
        end = body.index(b"\r\n\r\n", at)
        part_head = body[at:end].decode("ascii")
        at = end + 4
        if f"Content-Range: bytes {first}-{last}/{len(original)}" not in part_head.split("\r\n"):
            fail(f"part head {part_head!r}")
        length = last - first + 1
        if body[at : at + length] != original[first : last + 1]:
            fail(f"bytes of part {index} differ")
        at += length
    if body[at:] != b"\r\n--" + boundary + b"--\r\n":
        fail(f"closing delimiter {body[at:]!r}")
    print(f"ok {len(wanted)}")


main()
