"""The request seam: one transaction per request, and a caller recorded once per process while its profile holds."""

from __future__ import annotations

import uuid

import httpx

from exitus.request_scope import OperationTraits
from tests.conftest import CLIENT_ID, Tenant
from tests.test_metrics import scrape


def query_calls(samples, name: str) -> float:
    return sum(
        value
        for (metric, labels), value in samples.items()
        if metric == "exitus_db_query_duration_seconds_count" and ("query", name) in labels
    )


def calls_during(http: httpx.Client, action) -> dict[str, float]:
    before = scrape(http)
    action()
    after = scrape(http)
    names = ("upsert_user", "get_project", "list_projects", "create_issue")
    return {name: query_calls(after, name) - query_calls(before, name) for name in names}


def test_a_known_caller_costs_no_upsert_and_a_read_is_one_statement(http, tenant: Tenant):
    project = tenant.create_project()
    api = tenant.api(subject=f"reader-{uuid.uuid4().hex}")
    first = calls_during(http, lambda: api.get(f"/v1/projects/{project['id']}").raise_for_status())
    assert first["upsert_user"] == 1 and first["get_project"] == 1
    again = calls_during(http, lambda: api.get(f"/v1/projects/{project['id']}").raise_for_status())
    assert again == {"upsert_user": 0, "get_project": 1, "list_projects": 0, "create_issue": 0}


def test_a_changed_profile_is_recorded_again(http, tenant: Tenant):
    subject = f"renamed-{uuid.uuid4().hex}"
    me = tenant.api(subject=subject, name="Ada").get("/v1/users/me")
    assert me.status_code == 200 and me.json()["name"] == "Ada"
    renamed = tenant.api(subject=subject, name="Ada Lovelace")
    calls = calls_during(http, lambda: renamed.get("/v1/users/me").raise_for_status())
    assert calls["upsert_user"] == 1
    after = renamed.get("/v1/users/me").json()
    assert after["name"] == "Ada Lovelace" and after["id"] == me.json()["id"]


def test_a_rolled_back_first_request_leaves_no_caller_behind(tenant: Tenant):
    """The first request of a new user inserts its `users` row; when that request fails and rolls back, the row is
    gone, and the next request must record the user again rather than trust a user id that never committed."""
    project = tenant.create_project()
    api = tenant.api(subject=f"newcomer-{uuid.uuid4().hex}")
    issue = {"subject": "s", "content": "c", "severity": "low", "category": "bug", "labels": []}
    refused = api.post(f"/v1/projects/{project['id']}/issues", json={**issue, "assignee": str(uuid.uuid4())})
    assert refused.status_code == 409, refused.text
    created = api.post(f"/v1/projects/{project['id']}/issues", json=issue)
    assert created.status_code == 201, created.text
    me = api.get("/v1/users/me").json()
    assert created.json()["reporter"]["id"] == me["id"]


def test_a_caller_of_a_missing_customer_is_never_remembered(http, issuer):
    """403 each time, and each time asked of the database: the customer may be created later."""
    token = issuer.token(scopes=["exitus/project.read"], customer=str(uuid.uuid4()), client_id=CLIENT_ID)
    statuses = []

    def list_projects() -> None:
        statuses.append(http.get("/v1/projects", headers={"Authorization": f"Bearer {token}"}).status_code)

    assert [calls_during(http, list_projects)["upsert_user"] for _ in range(2)] == [1, 1]
    assert statuses == [403, 403]


def test_what_the_seam_does_per_operation_is_read_from_every_place_the_spec_may_say_it():
    """Path-level parameters count as the operation's own; a path item's other members (summary, description, an
    extension, a `parameters` list) are not operations."""
    spec = {
        "components": {"parameters": {"IfNoneMatch": {"name": "If-None-Match", "in": "header"}}},
        "paths": {
            "/things/{id}": {
                "summary": "one thing",
                "description": "its operations share a header; each has an operationId",
                "x-owner": {"team": "tracker"},
                "parameters": [{"$ref": "#/components/parameters/IfNoneMatch"}],
                "get": {"operationId": "get_thing", "responses": {"200": {"headers": {"ETag": {}}}}},
                "put": {
                    "operationId": "put_thing",
                    "parameters": [{"name": "Idempotency-Key", "in": "header"}],
                    "responses": {"200": {"description": "no tag"}, "default": {"headers": {"ETag": {}}}},
                },
            }
        },
    }
    assert OperationTraits.of_spec(spec) == {
        "get_thing": OperationTraits(frozenset({200}), conditional_read=True, idempotent=False),
        "put_thing": OperationTraits(frozenset(), conditional_read=True, idempotent=True),
    }
