"""The body limit at the layer that owns it (exitus.edge.EdgeMiddleware), seen from a raw socket: the answer must
come while the client is still sending, or has sent only its headers. Through an HTTP client (tests/test_edge.py) a
413 from a later layer, after the whole body was read, would look the same."""

from __future__ import annotations

import contextlib
import socket
import time

from tests.conftest import RunningServer, Tenant
from tests.test_edge import LIMIT

# A client that sent this much without an answer was not cut off. Well above the limit: the kernel's socket buffers
# (client's send, server's receive: megabytes on loopback) take bytes the server never reads.
ENOUGH = 16 * LIMIT


def request_head(server: RunningServer, tenant: Tenant, framing: str) -> bytes:
    return (
        f"POST /v1/projects HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Authorization: Bearer {tenant.token()}\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
    ).encode()


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split(b" ", 2)[1])


def test_a_declared_oversized_length_is_refused_before_any_of_the_body_is_sent(server: RunningServer, tenant):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as client:
        client.sendall(request_head(server, tenant, f"Content-Length: {LIMIT + 1}"))
        answer = client.recv(65536)  # a layer that waited for the body would time out here
    assert status_of(answer) == 413, answer[:500]
    assert b"application/problem+json" in answer


def test_an_endless_chunked_body_is_cut_off(server: RunningServer, tenant):
    chunk = b"4000\r\n" + b" " * 0x4000 + b"\r\n"
    sent = 0
    pending = chunk
    answer = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as client:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
        client.sendall(request_head(server, tenant, "Transfer-Encoding: chunked"))
        client.setblocking(False)
        deadline = time.monotonic() + 60
        while sent < ENOUGH and not answer and time.monotonic() < deadline:
            try:
                written = client.send(pending)
                sent += written
                pending = pending[written:] or chunk  # a chunk at a time, never a torn one
            except BlockingIOError:
                time.sleep(0.01)  # the server is not reading: it may be answering
            except OSError:
                break  # it answered and closed while we were still sending
            with contextlib.suppress(BlockingIOError):
                answer += client.recv(65536)
        client.setblocking(True)
        client.settimeout(10)
        if not answer:
            try:
                answer = client.recv(65536)
            except (TimeoutError, OSError):
                answer = b""
    assert answer, f"no answer after {sent} bytes of body"
    assert status_of(answer) == 413, answer[:500]
    assert sent < ENOUGH, f"the server read {sent} bytes before answering"
