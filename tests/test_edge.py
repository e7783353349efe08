"""The edge (exitus.edge.EdgeMiddleware): request bodies over MAX_BODY_BYTES are refused with 413 before they are
read whole, whether they declare their length or not, and nothing is written; a path has one spelling, any other is
404 before routing; request heads are capped (431). (Its request ids and security headers are tested in
tests/api/test_health.py, its counts in tests/test_metrics.py, its access line in tests/test_logs.py, its admission
of requests in tests/test_edge_admission.py, the head cap while reading in tests/faults/test_protocol.py, its
Content-Type rules in tests/test_bodies.py.)"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterator

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exitus.app import create_app
from exitus.config import Config, ConfigError
from exitus.resources import SPEC_FILE
from tests.conftest import RunningServer, assert_problem, raw_request
from tests.test_metrics import requests_delta, scrape

LIMIT = Config.__dataclass_fields__["max_body_bytes"].default


def oversized_project(extra_bytes: int = 1) -> bytes:
    body = {"name": "too big", "labels": [], "description": ""}
    padding = LIMIT - len(json.dumps(body)) + extra_bytes
    return json.dumps({**body, "description": "x" * padding}).encode()


def project_names(api) -> list[str]:
    response = api.get("/v1/projects", params={"limit": 100})
    assert response.status_code == 200
    return [project["name"] for project in response.json()["projects"]]


def test_the_default_limit_is_one_mebibyte():
    assert LIMIT == 1024 * 1024


def test_a_declared_length_over_the_limit_is_413_before_the_body_is_read(tenant):
    api = tenant.api()
    body = oversized_project()
    assert len(body) == LIMIT + 1
    response = api.post("/v1/projects", content=body, headers={"Content-Type": "application/json"})
    assert_problem(response, 413, f"larger than {LIMIT} bytes")
    assert response.headers["x-request-id"]
    assert "too big" not in project_names(api)


def test_a_chunked_body_that_outgrows_the_limit_is_413(tenant):
    api = tenant.api()
    body = oversized_project(extra_bytes=64 * 1024)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the size shows only while reading
        for start in range(0, len(body), 16 * 1024):
            yield body[start : start + 16 * 1024]

    response = api.post("/v1/projects", content=chunks(), headers={"Content-Type": "application/json"})
    assert_problem(response, 413, f"larger than {LIMIT} bytes")
    assert "too big" not in project_names(api)


def test_a_chunked_body_within_the_limit_is_served(tenant):
    api = tenant.api()
    body = json.dumps({"name": "sent in chunks", "labels": ["chunked"]}).encode()

    def chunks() -> Iterator[bytes]:
        yield body[:10]
        yield body[10:]

    response = api.post("/v1/projects", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    assert response.json()["labels"] == ["chunked"]
    assert "sent in chunks" in project_names(api)


def test_a_body_at_the_limit_is_read(tenant):
    api = tenant.api()
    body = oversized_project(extra_bytes=0)
    assert len(body) == LIMIT
    response = api.post("/v1/projects", content=body, headers={"Content-Type": "application/json"})
    # Read and validated: the spec bounds a description far below a mebibyte, so this is the spec's 400, not 413.
    assert_problem(response, 400)


def test_the_spec_documents_what_the_edge_may_answer_to_any_operation():
    """The edge answers 503 (concurrency limit, database, shutdown) to any operation and 413 to any body: generated
    clients learn both, with Retry-After, from the spec."""
    spec = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    operations = [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in ("get", "put", "post", "delete", "patch")
    ]
    assert len(operations) > 20
    for path, method, operation in operations:
        responses = operation["responses"]
        assert responses["503"] == {"$ref": "#/components/responses/ServiceUnavailable"}, (method, path)
        if "requestBody" in operation:
            assert responses["413"] == {"$ref": "#/components/responses/PayloadTooLarge"}, (method, path)
    assert "Retry-After" in spec["components"]["responses"]["ServiceUnavailable"]["headers"]


# ---------------------------------------------------------------------------------------------- one spelling of a path


def path_variants(path: str) -> st.SearchStrategy[str]:
    """Spellings of `path` that routers may read as `path` but that are not its one canonical form: an empty
    segment, a dot segment (plain or escaped), an escaped unreserved character (either hex case), an escaped slash."""
    slashes = [i for i, c in enumerate(path) if c == "/"]
    letters = [i for i, c in enumerate(path) if c.isalnum() or c in "-._~"]

    def doubled(i: int) -> str:
        return path[:i] + "/" + path[i:]

    def dotted(i: int, dot: str) -> str:
        return path[:i] + "/" + dot + path[i:]

    def escaped(i: int, upper: bool) -> str:
        code = f"%{ord(path[i]):02X}" if upper else f"%{ord(path[i]):02x}"
        return path[:i] + code + path[i + 1 :]

    def escaped_slash(i: int, code: str) -> str:
        return path[:i] + code + path[i + 1 :]

    dots = st.sampled_from([".", "..", "%2e", "%2E", "%2e%2e", ".%2E", "x/.."])
    strategies = [
        st.sampled_from(slashes).map(doubled),
        st.builds(dotted, st.sampled_from(slashes[1:] or slashes), dots),
        st.builds(escaped, st.sampled_from(letters), st.booleans()),
        st.builds(lambda p: p + "/.", st.just(path)),
    ]
    if len(slashes) > 1:
        strategies.append(st.builds(escaped_slash, st.sampled_from(slashes[1:]), st.sampled_from(["%2F", "%2f"])))
    return st.one_of(strategies)


@pytest.fixture
def estate(tenant) -> dict[str, str]:
    """Canonical paths that each answer 200 to the tenant, one per kind of route, ids filled in."""
    project = tenant.create_project()
    issue = tenant.create_issue(project["id"])
    comment = tenant.create_comment(project["id"], issue["id"])
    me = tenant.api().get("/v1/users/me").json()
    base = f"/v1/projects/{project['id']}/issues/{issue['id']}"
    return {
        "/healthz": "/healthz",
        "/readyz": "/readyz",
        "/metrics": "/metrics",
        "/v1/customers": "/v1/customers",
        "/v1/customers/{id}": f"/v1/customers/{tenant.customer_id}",
        "/v1/projects/{id}": f"/v1/projects/{project['id']}",
        "/v1/projects/{project_id}/issues/{id}": base,
        "/v1/projects/{project_id}/issues/{issue_id}/comments/{id}": f"{base}/comments/{comment['id']}",
        "/v1/users/{id}": f"/v1/users/{me['id']}",
    }


def test_every_canonical_path_is_served(estate, tenant, server):
    for path in estate.values():
        response = raw_request(server.port, f"GET {path} HTTP/1.1\nHost: x\nAuthorization: Bearer {tenant.token()}")
        assert response.status == 200, (path, response.body)


def test_any_other_spelling_of_a_path_is_404_at_the_edge_and_counted_as_unmatched(
    estate, tenant, server, http, no_tracebacks
):
    """`//v1/customers`, `//healthz`, `/%6detrics`, `/v1/../healthz`... used to reach Flask's router (which merges
    slashes) past Connexion's security and validation, and answer 500 or serve the metrics."""
    token = tenant.token()
    sent: Counter[str] = Counter()
    before = scrape(http)

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(variant=st.sampled_from(sorted(estate.values())).flatmap(path_variants), method=st.sampled_from(METHODS))
    def spelled_otherwise(variant: str, method: str) -> None:
        body = b'{"name": "never", "labels": []}' if method != "GET" else b""
        head = f"{method} {variant} HTTP/1.1\nHost: x\nAuthorization: Bearer {token}\nContent-Type: application/json"
        response = raw_request(server.port, f"{head}\nContent-Length: {len(body)}", body)
        assert response.status == 404, (method, variant, response.body)
        response.problem()
        assert b"exitus_" not in response.body  # never the metrics
        sent[method] += 1

    spelled_otherwise()
    after = scrape(http)
    for method, count in sent.items():
        assert requests_delta(before, after, method, "unmatched", 404) == count, method
    assert "never" not in project_names(tenant.api())


METHODS = ["GET", "POST", "PUT", "DELETE"]


# ------------------------------------------------------------------------------------------------- request head caps


@pytest.fixture(scope="module")
def small_heads(config) -> Iterator[RunningServer]:
    """exitus with small head limits, under uvicorn's plain protocol: the edge's own check (exitus serve also caps
    the head while reading it: tests/faults/test_protocol.py)."""
    running = RunningServer(create_app(dataclasses.replace(config, max_header_bytes=4096, max_header_count=16)))
    yield running.start()
    running.stop()


def test_more_header_fields_than_the_cap_are_431(small_heads):
    fields = "\n".join(f"X-Field-{i}: {i}" for i in range(13))  # + Host, Connection: close = 15
    assert raw_request(small_heads.port, f"GET /healthz HTTP/1.1\nHost: x\n{fields}").status == 200
    fields += "\nX-Field-13: 13\nX-Field-14: 14"  # 17
    response = raw_request(small_heads.port, f"GET /healthz HTTP/1.1\nHost: x\n{fields}")
    assert response.status == 431
    assert "more than 16 header fields" in response.problem()["detail"]
    assert response.headers["x-request-id"] and response.headers["x-content-type-options"] == "nosniff"


def test_a_head_larger_than_the_cap_is_431(small_heads):
    assert raw_request(small_heads.port, f"GET /healthz HTTP/1.1\nHost: x\nX-Big: {'a' * 3000}").status == 200
    response = raw_request(small_heads.port, f"GET /healthz HTTP/1.1\nHost: x\nX-Big: {'a' * 5000}")
    assert response.status == 431
    assert "larger than 4096 bytes" in response.problem()["detail"]
    long_path = raw_request(small_heads.port, f"GET /healthz?{'q' * 5000} HTTP/1.1\nHost: x")
    assert long_path.status == 431


def test_head_limits_default_and_parse():
    defaults = Config.from_env({"PGDATASOURCE": "postgresql://x@h/db"}, need_oidc=False)
    assert (defaults.max_header_bytes, defaults.max_header_count) == (32_768, 100)
    assert defaults.body_read_timeout_seconds == 30.0
    configured = Config.from_env(
        {
            "PGDATASOURCE": "postgresql://x@h/db",
            "MAX_HEADER_BYTES": "8192",
            "MAX_HEADER_COUNT": "50",
            "BODY_READ_TIMEOUT_SECONDS": "2.5",
        },
        need_oidc=False,
    )
    assert (configured.max_header_bytes, configured.max_header_count) == (8192, 50)
    assert configured.body_read_timeout_seconds == 2.5
    for name, bad in [("MAX_HEADER_BYTES", "100"), ("MAX_HEADER_COUNT", "1"), ("BODY_READ_TIMEOUT_SECONDS", "0")]:
        with pytest.raises(ConfigError, match=name):
            Config.from_env({"PGDATASOURCE": "postgresql://x@h/db", name: bad}, need_oidc=False)
