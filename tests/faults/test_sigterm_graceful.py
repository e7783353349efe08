"""SIGTERM: readiness fails at once while the server drains, in-flight requests then finish, and the process exits 0."""

from __future__ import annotations

import signal
import time

import httpx
import pytest

from bench.stack import new_customer, user_token
from tests.conftest import assert_problem
from tests.faults.conftest import project_creation_held, superuser

DRAIN_SECONDS = 2
SHUTDOWN_TIMEOUT_SECONDS = 15


def _poll(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


def _refused(url: str) -> bool:
    try:
        httpx.get(f"{url}/healthz", timeout=2)
    except httpx.ConnectError:
        return True
    return False


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_drains_then_finishes_in_flight_requests_and_exits_0(
    workers, postgres, fresh_database, start_exitus, issuer
):
    name, url = fresh_database
    exitus = start_exitus(
        url,
        WEB_CONCURRENCY=workers,
        SHUTDOWN_DRAIN_SECONDS=DRAIN_SECONDS,
        SHUTDOWN_TIMEOUT_SECONDS=SHUTDOWN_TIMEOUT_SECONDS,
    )
    customer = new_customer(exitus.url, issuer)
    project_name = "in flight at SIGTERM"
    with project_creation_held(postgres, name, exitus.url, customer.headers, project_name, 60) as in_flight:
        exitus.signal(signal.SIGTERM)

        # The drain: not ready any more, still alive, still serving, asking clients to go elsewhere.
        not_ready = _poll(
            lambda: (r := httpx.get(f"{exitus.url}/readyz", timeout=5)).status_code == 503 and r,
            timeout=DRAIN_SECONDS / 2,
            what="/readyz answers 503",
        )
        assert_problem(not_ready, 503, "shutting down")
        assert httpx.get(f"{exitus.url}/healthz", timeout=5).status_code == 200
        another_user = {"Authorization": f"Bearer {user_token(issuer, customer.id, 'another-user')}"}
        served = httpx.get(f"{exitus.url}/v1/users/me", headers=another_user, timeout=5)
        assert served.status_code == 200
        assert served.headers["connection"] == "close"

        # After the drain: new connections are refused while the in-flight request is still being served.
        _poll(lambda: _refused(exitus.url), timeout=DRAIN_SECONDS + 5, what="new connections are refused")
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
