"""SIGTERM: readiness fails at once in every worker while the server drains, every connection it accepted gets an
answer, in-flight requests finish, and the process exits 0.

Deterministic: the test waits for events (a log line, a lock wait, a refused connection), each polled under a bound,
never for a time to pass. The drain is long and ended by the second signal, as an operator's second SIGTERM would.
"""

from __future__ import annotations

import signal
import socket
import time

import httpx
import pytest

from bench.stack import ExitusProcess, new_customer, user_token
from tests.conftest import assert_problem
from tests.faults.conftest import project_creation_held, superuser

DRAIN_SECONDS = 120  # ended by the second signal, long before
SHUTDOWN_TIMEOUT_SECONDS = 60
DRAIN_OVER = "drain over: no new connections"


def _poll(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"not within {timeout} s: {what}")


def _answered_or_not_accepted(url: str) -> bool:
    """A new connection either is not accepted (refused or never completed: True), or is answered (False). One that
    is accepted and then dropped without an answer fails the test."""
    try:
        response = httpx.get(f"{url}/healthz", timeout=httpx.Timeout(30, connect=0.5))
    except (httpx.ConnectError, httpx.ConnectTimeout):
        return True
    assert response.status_code == 200
    return False


def _raw_request(port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode()  # the headers' last line still missing


def _read_response(connection: socket.socket) -> bytes:
    connection.settimeout(30)
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(65536)
        if not chunk:
            break
        received += chunk
    return received


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_drains_answers_every_accepted_connection_then_finishes_in_flight_requests_and_exits_0(
    workers, postgres, fresh_database, start_exitus, issuer
):
    name, url = fresh_database
    exitus: ExitusProcess = start_exitus(
        url,
        WEB_CONCURRENCY=workers,
        SHUTDOWN_DRAIN_SECONDS=DRAIN_SECONDS,
        SHUTDOWN_TIMEOUT_SECONDS=SHUTDOWN_TIMEOUT_SECONDS,
    )
    customer = new_customer(exitus.url, issuer)
    # Of another customer: a new user's first request records the user in the audit trail, and so waits for the held
    # request, which holds its customer's audit chain (per-customer sequence) until it commits.
    bystander = new_customer(exitus.url, issuer)
    another_user = {"Authorization": f"Bearer {user_token(issuer, bystander.id, 'another-user')}"}
    project_name = "in flight at SIGTERM"
    with project_creation_held(postgres, name, exitus.url, customer.headers, project_name, 120) as in_flight:
        exitus.signal(signal.SIGTERM)

        # From the signal on, every worker answers readiness with 503: each request a new connection, so the
        # kernel spreads them over the workers; no polling, the very first one fails already.
        for _ in range(10 * workers):
            not_ready = httpx.get(f"{exitus.url}/readyz", headers={"Connection": "close"}, timeout=10)
            assert_problem(not_ready, 503, "shutting down")
        # The drain: alive, still serving, asking clients to go elsewhere.
        assert httpx.get(f"{exitus.url}/healthz", timeout=10).status_code == 200
        served = httpx.get(f"{exitus.url}/v1/users/me", headers=another_user, timeout=10)
        assert served.status_code == 200
        assert served.headers["connection"] == "close"

        # Connections open while the drain ends: accepted, their requests not complete yet.
        late = [socket.create_connection(("127.0.0.1", exitus.port), timeout=10) for _ in range(2 * workers)]
        for connection in late:
            connection.sendall(_raw_request(exitus.port, "/healthz"))
        exitus.signal(signal.SIGTERM)  # the second signal: the drain ends now
        _poll(lambda: exitus.output().count(DRAIN_OVER) == workers, timeout=30, what="every worker ends its drain")
        # Shutting down, and those connections still get their answers (within FRESH_CONNECTION_GRACE_SECONDS).
        for connection in late:
            connection.sendall(b"\r\n")
        for connection in late:
            with connection:
                assert _read_response(connection).startswith(b"HTTP/1.1 200 "), exitus.output()[-2000:]

        # New connections: none is accepted and then dropped; soon none is accepted at all.
        _poll(lambda: _answered_or_not_accepted(exitus.url), timeout=30, what="new connections are not accepted")
        assert not in_flight.done()
        assert exitus.popen.poll() is None
    created = in_flight.result(timeout=SHUTDOWN_TIMEOUT_SECONDS)
    assert created.status_code == 201, created.text
    assert exitus.wait(timeout=SHUTDOWN_TIMEOUT_SECONDS) == 0
    with superuser(postgres, name) as conn:
        assert conn.execute("select name from projects where id = %s", (created.json()["id"],)).fetchone() == (
            project_name,
        )
    assert "Application shutdown complete" in exitus.output()  # the lifespan ran: the pool was disposed
