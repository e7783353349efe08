"""Admission to the service's work (exitus.edge.AdmissionMiddleware), with raw sockets against a running server:
probes are always answered; a body is read after the token is checked and before the request takes a place among
MAX_CONCURRENCY, within BODY_READ_TIMEOUT_SECONDS (else 408); a client that goes away while sending is let go at
once. (The 503 beyond MAX_CONCURRENCY itself: tests/faults/test_serving.py.)"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator

import httpx
import pytest

from bench.stack import new_customer, user_token
from exitus.app import create_app
from tests.conftest import RawConnection, RunningServer
from tests.faults.conftest import assert_retryable_503, project_creation_held
from tests.test_metrics import requests_delta, scrape, value

SLOTS = 3
BODY = json.dumps({"name": "sent slowly", "labels": []}).encode()


@pytest.fixture
def gated(config) -> Iterator[RunningServer]:
    """exitus with MAX_CONCURRENCY=3 and an hour to send a body: only the admission rules let a trickle go."""
    running = RunningServer(
        create_app(dataclasses.replace(config, max_concurrency=SLOTS, body_read_timeout_seconds=3600))
    )
    yield running.start()
    running.stop()


def trickle(port: int, authorization: str | None, framing: str) -> RawConnection:
    """A POST /v1/projects that sends its head and the first byte of its body, then idles."""
    head = ["POST /v1/projects HTTP/1.1", "Host: x", "Content-Type: application/json"]
    if authorization:
        head.append(f"Authorization: {authorization}")
    if framing == "chunked":
        head.append("Transfer-Encoding: chunked")
        first = b"1\r\n" + BODY[:1] + b"\r\n"
    else:
        head.append(f"Content-Length: {len(BODY)}")
        first = BODY[:1]
    return RawConnection(port).send(("\r\n".join(head) + "\r\n\r\n").encode() + first)


@pytest.mark.parametrize("framing", ["chunked", "content-length"])
@pytest.mark.parametrize("token", ["none", "invalid", "valid"])
def test_bodies_that_trickle_in_hold_no_place_and_probes_stay_answered(gated, issuer, framing, token):
    """Three sockets trickling a body into a MAX_CONCURRENCY=3 instance held every place: /healthz answered 503
    and a load balancer would have replaced a healthy task. Twice as many now take none, token or not."""
    customer = new_customer(gated.url, issuer)
    authorization = {"none": None, "invalid": "Bearer not-a-token", "valid": f"Bearer {customer.token}"}[token]
    trickles = [trickle(gated.port, authorization, framing) for _ in range(2 * SLOTS)]
    try:
        if token != "valid":  # refused before a byte of the body is read
            for connection in trickles:
                assert connection.response().status == 401
        assert httpx.get(f"{gated.url}/healthz", timeout=10).status_code == 200
        assert httpx.get(f"{gated.url}/readyz", timeout=10).status_code == 200
        for subject in ("first", "second", "third", "fourth"):
            headers = {"Authorization": f"Bearer {user_token(issuer, customer.id, subject)}"}
            assert httpx.get(f"{gated.url}/v1/users/me", headers=headers, timeout=10).status_code == 200
    finally:
        for connection in trickles:
            connection.close()


def test_probes_are_answered_when_every_place_is_taken(config, postgres, issuer):
    server = RunningServer(create_app(dataclasses.replace(config, max_concurrency=1))).start()
    try:
        customer = new_customer(server.url, issuer)
        with project_creation_held(postgres, "exitus_test", server.url, customer.headers, "holds the only place"):
            assert_retryable_503(httpx.get(f"{server.url}/v1/users/me", headers=customer.headers, timeout=10))
            assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
            assert httpx.get(f"{server.url}/readyz", timeout=10).status_code == 200
    finally:
        server.stop()


@pytest.fixture(scope="module")
def impatient(config) -> Iterator[RunningServer]:
    running = RunningServer(create_app(dataclasses.replace(config, body_read_timeout_seconds=0.5)))
    yield running.start()
    running.stop()


@pytest.mark.parametrize("framing", ["chunked", "content-length"])
def test_a_body_that_does_not_arrive_in_time_is_408_and_nothing_is_written(impatient, issuer, http, framing):
    customer = new_customer(impatient.url, issuer)
    before = scrape(http)
    with trickle(impatient.port, f"Bearer {customer.token}", framing) as connection:
        response = connection.response()
    assert response.status == 408
    assert "did not arrive whole within 0.5 seconds" in response.problem()["detail"]
    assert response.headers["connection"] == "close"
    assert requests_delta(before, scrape(http), "POST", "/v1/projects", 408) == 1
    projects = httpx.get(f"{impatient.url}/v1/projects", headers=customer.headers, timeout=10).json()["projects"]
    assert projects == []


def test_a_body_sent_in_time_in_pieces_is_served(impatient, issuer):
    customer = new_customer(impatient.url, issuer)
    with trickle(impatient.port, f"Bearer {customer.token}", "content-length") as connection:
        response = connection.send(BODY[1:]).response()
    assert response.status == 201, response.body
    assert json.loads(response.body)["name"] == "sent slowly"


def test_a_client_that_goes_away_while_sending_is_let_go_at_once(gated, issuer, http):
    """With an hour to send, only noticing the closed connection ends the request: it is counted as 499 (the client
    went away, not a server error) and leaves the requests in flight."""
    customer = new_customer(gated.url, issuer)
    before = scrape(http)
    trickles = [trickle(gated.port, f"Bearer {customer.token}", framing) for framing in ("chunked", "content-length")]
    wait_for(lambda: value(scrape(http), "exitus_http_requests_in_flight") >= 2)
    for connection in trickles:
        connection.close()
    wait_for(lambda: requests_delta(before, scrape(http), "POST", "/v1/projects", 499) == 2)
    assert value(scrape(http), "exitus_http_requests_in_flight") == 1  # the scrape itself


def wait_for(condition, timeout: float = 30.0) -> None:
    """Polls `condition` (a state the server reaches, not a duration being measured)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the server never reached the expected state"
        time.sleep(0.05)
