"""PostgreSQL goes away and comes back, or has no connection to spare: exitus answers 503 problem+json with
Retry-After (never a 500, never a hang) and recovers by itself, with no wedged pool."""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from bench.stack import migrated_database, new_customer, traversable_tempdir, user_token
from exitus.dev.postgres import LocalPostgres
from tests.faults.conftest import assert_retryable_503, project_creation_held

POOL_TIMEOUT_SECONDS = 1
# A request still unanswered after this long counts as a hang (the pool timeout plus libpq's connect timeout, 5 s,
# is the longest exitus may legitimately wait).
HANG_SECONDS = 10
OUTAGE_SECONDS = 2
RECOVERY_BOUND_SECONDS = 10
SUCCESSES_TO_CALL_IT_RECOVERED = 10


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[LocalPostgres]:
    """A cluster of this module's own, so stopping it leaves the session's untouched."""
    workdir = traversable_tempdir("exitus-faults-")
    cluster = LocalPostgres(workdir / "postgres").start()
    yield cluster
    cluster.stop("immediate")
    shutil.rmtree(workdir, ignore_errors=True)


@dataclass
class Outcome:
    started: float
    response: httpx.Response | None = None
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        return self.response is not None and self.response.is_success


def test_requests_during_a_postgres_restart_are_503_and_then_succeed(own_postgres, start_exitus, issuer):
    _name, url = migrated_database(own_postgres, "restart")
    exitus = start_exitus(url, DB_POOL_SIZE=4, DB_POOL_TIMEOUT=POOL_TIMEOUT_SECONDS)
    customer = new_customer(exitus.url, issuer)
    outcomes: list[Outcome] = []
    stop = threading.Event()

    def traffic() -> None:
        with httpx.Client(base_url=exitus.url, headers=customer.headers, timeout=HANG_SECONDS) as client:
            for count in range(100_000):
                if stop.is_set():
                    return
                started = time.monotonic()
                try:
                    if count % 2:
                        response = client.get("/v1/projects")
                    else:
                        response = client.post("/v1/projects", json={"name": f"p {uuid.uuid4()}", "labels": []})
                    outcomes.append(Outcome(started, response=response))
                except httpx.HTTPError as error:
                    outcomes.append(Outcome(started, error=error))
                time.sleep(0.02)

    thread = threading.Thread(target=traffic, daemon=True)
    thread.start()
    try:
        time.sleep(1)
        own_postgres.stop("fast")
        outage_began = time.monotonic()
        time.sleep(OUTAGE_SECONDS)
        restart_began = time.monotonic()
        own_postgres.start()
        restarted = time.monotonic()
        deadline = restarted + RECOVERY_BOUND_SECONDS + 5
        while time.monotonic() < deadline and not _recovered(outcomes, restarted):
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(timeout=HANG_SECONDS + 5)

    errors = [o.error for o in outcomes if o.error is not None]
    assert not errors, f"requests failed or hung: {errors[:3]}"
    for outcome in outcomes:
        if not outcome.ok:
            assert_retryable_503(outcome.response)
    during_outage = [o for o in outcomes if outage_began + 0.5 < o.started < restart_began]
    assert during_outage and not any(o.ok for o in during_outage), "the outage was not observed"
    assert any(o.ok for o in outcomes if o.started < outage_began), "nothing succeeded before the outage"

    failures_after_restart = [o for o in outcomes if o.started >= restarted and not o.ok]
    recovered_at = failures_after_restart[-1].started if failures_after_restart else restarted
    assert recovered_at - restarted < RECOVERY_BOUND_SECONDS
    assert _recovered(outcomes, restarted), "requests did not all succeed again after the restart"


def _recovered(outcomes: list[Outcome], restarted: float) -> bool:
    tail = outcomes[-SUCCESSES_TO_CALL_IT_RECOVERED:]
    return (
        len(tail) == SUCCESSES_TO_CALL_IT_RECOVERED
        and all(o.ok and o.started >= restarted for o in tail)
        and all(o.ok for o in outcomes if o.started >= tail[0].started)
    )


def test_pool_exhaustion_is_503_with_retry_after_and_the_pool_recovers(postgres, fresh_database, start_exitus, issuer):
    name, url = fresh_database
    exitus = start_exitus(url, DB_POOL_SIZE=1, DB_POOL_TIMEOUT=POOL_TIMEOUT_SECONDS)
    customer = new_customer(exitus.url, issuer)
    holding_name = "created while the pool was exhausted"
    with project_creation_held(postgres, name, exitus.url, customer.headers, holding_name) as holding:
        # it holds the only pooled connection now
        another_user = {"Authorization": f"Bearer {user_token(issuer, customer.id, 'another-user')}"}
        starved = httpx.get(f"{exitus.url}/v1/users/me", headers=another_user, timeout=HANG_SECONDS)
        assert_retryable_503(starved)
        assert "database" in starved.json()["detail"]
    created = holding.result(timeout=30)
    assert created.status_code == 201, created.text
    assert httpx.get(f"{exitus.url}/v1/users/me", headers=customer.headers, timeout=HANG_SECONDS).status_code == 200
