"""`exitus serve` as deployed, with raw sockets: the request head is capped while it is read
(exitus.protocol.BoundedHttpToolsProtocol: a 50 MB header used to be read whole and held), and with METRICS_ADDR the API
port serves the metrics in no spelling at all."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from exitus.dev.postgres import free_port
from tests.conftest import RawConnection, raw_request
from tests.test_metrics import parse_samples

HEAD_LIMIT = 4096
FIELD_LIMIT = 16


@pytest.fixture
def capped(start_exitus, database_url):
    metrics_port = free_port()
    process = start_exitus(
        database_url,
        MAX_HEADER_BYTES=HEAD_LIMIT,
        MAX_HEADER_COUNT=FIELD_LIMIT,
        METRICS_ADDR=f"127.0.0.1:{metrics_port}",
        SHUTDOWN_DRAIN_SECONDS=0,
    )
    process.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
    yield process
    process.stop()


def unfinished_head(port: int, head: str):
    """The response to a request head that never ends: only a server that caps the head while reading answers."""
    with RawConnection(port) as connection:
        return connection.send(head.replace("\n", "\r\n").encode()).response()


def test_a_head_over_the_cap_is_431_problem_while_it_is_read(capped):
    within = raw_request(capped.port, f"GET /healthz HTTP/1.1\nHost: x\nX-Big: {'a' * 3000}")
    assert within.status == 200
    over = unfinished_head(capped.port, f"GET /healthz HTTP/1.1\nHost: x\nX-Big: {'a' * 6000}")
    assert over.status == 431
    assert f"larger than {HEAD_LIMIT} bytes" in over.problem()["detail"]
    assert over.headers["connection"] == "close" and over.headers["x-request-id"]
    fields = "\n".join(f"X-Field-{i}: {i}" for i in range(FIELD_LIMIT))
    many = unfinished_head(capped.port, f"GET /healthz HTTP/1.1\nHost: x\n{fields}\nX-Unfinished: ")
    assert many.status == 431
    assert f"more than {FIELD_LIMIT} header fields" in many.problem()["detail"]
    samples = parse_samples(httpx.get(capped.metrics_url, timeout=10).text)
    labels = frozenset({"method": "GET", "route": "unmatched", "status": "431", "group": "api"}.items())
    assert samples[("exitus_http_requests_total", labels)] == 2


def test_a_huge_header_is_cut_off_not_read_whole(capped):
    """The server answers and closes long before 64 MiB of header arrive: the sender's writes fail."""
    chunk = b"a" * (1024 * 1024)
    with RawConnection(capped.port) as connection:
        connection.sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Huge: ")
        with pytest.raises(OSError):  # EPIPE or ECONNRESET: the server is gone
            for _ in range(64):
                connection.sock.sendall(chunk)
            connection.sock.sendall(b"\r\n\r\n")
            connection.sock.shutdown(socket.SHUT_WR)
            connection.sock.recv(1)  # a server that read it all answers 200 here
            raise AssertionError("the whole header was read")
    assert httpx.get(f"{capped.url}/healthz", timeout=10).status_code == 200


SPELLINGS = ["/metrics", "//metrics", "/%6detrics", "/%6Detrics", "/./metrics", "/x/../metrics", "/metrics/"]


def test_with_metrics_addr_the_api_port_serves_metrics_in_no_spelling(capped):
    for spelling in SPELLINGS:
        response = raw_request(capped.port, f"GET {spelling} HTTP/1.1\nHost: x")
        assert response.status in (404, 307), (spelling, response.status)  # 307: a trailing slash, redirected
        assert b"exitus_" not in response.body and b"python_gc" not in response.body, spelling
    scrape = httpx.get(capped.metrics_url, timeout=10)
    assert scrape.status_code == 200 and "exitus_http_requests_total" in scrape.text


HEAD_DEADLINE = 1.0


@pytest.fixture
def deadlined(start_exitus, database_url):
    process = start_exitus(database_url, HEADER_READ_TIMEOUT_SECONDS=HEAD_DEADLINE, SHUTDOWN_DRAIN_SECONDS=0)
    yield process
    process.stop()


def test_a_head_sent_slowly_is_408_and_the_connection_closed(deadlined):
    """A slow-headers client holds its connection no longer than the deadline (uvicorn alone waits for ever)."""
    with RawConnection(deadlined.port, timeout=HEAD_DEADLINE + 20) as connection:
        connection.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        reply = connection.response()
        assert reply.status == 408
        assert "did not arrive within 1 seconds" in reply.problem()["detail"]
        assert reply.headers["connection"] == "close"
        assert connection.sock.recv(1) == b""  # closed by the server


def test_a_connection_that_sends_nothing_is_closed_after_the_deadline(deadlined):
    with RawConnection(deadlined.port, timeout=HEAD_DEADLINE + 20) as connection:
        assert connection.response().status == 408


def test_the_deadline_does_not_cut_an_idle_keep_alive_connection(deadlined):
    """Between requests a connection waits under KEEP_ALIVE_TIMEOUT_SECONDS, not the head deadline."""
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    with RawConnection(deadlined.port) as connection:
        assert connection.send(request).response().status == 200
        time.sleep(HEAD_DEADLINE * 2.5)
        assert connection.send(request).response().status == 200
