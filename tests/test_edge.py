"""The edge (exitus.edge.EdgeMiddleware): request bodies over MAX_BODY_BYTES are refused with 413 before they are
read whole, whether they declare their length or not, and nothing is written. (Its request ids and security headers
are tested in tests/api/test_health.py, its counts in tests/test_metrics.py, its access line in tests/test_logs.py,
its concurrency limit in tests/faults/test_serving.py.)"""

from __future__ import annotations

import json
from collections.abc import Iterator

import yaml

from exitus.config import Config
from exitus.resources import SPEC_FILE
from tests.conftest import assert_problem

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
