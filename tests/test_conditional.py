"""Conditional requests through HTTP (exitus/conditional.py and the seam's ETag handling): every single resource is
served with a strong ETag that changes exactly when the resource does, If-None-Match answers 304, If-Match guards
updates in the write's own statement (412), and the body's version still answers 409."""

from __future__ import annotations

import collections
import concurrent.futures
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import yaml

from exitus.resources import SPEC_FILE
from tests.conftest import Api, Tenant, assert_problem

NEW_ISSUE = {"subject": "S", "content": "C", "severity": "low", "category": "bug", "labels": []}


@dataclass
class Resource:
    """One versioned resource of the tenant: where to read it, and an update of it for a given version."""

    url: str
    api: Api
    update: Callable[[int], dict[str, Any]]  # version -> body of a PUT that changes the resource
    field: str  # a field the update changes


def make_resource(kind: str, tenant: Tenant, admin: Api) -> Resource:
    api = tenant.api()
    project = tenant.create_project()
    if kind == "project":
        return Resource(
            f"/v1/projects/{project['id']}",
            api,
            lambda v: {"name": f"renamed {v}", "labels": [], "version": v},
            "name",
        )
    issue = tenant.create_issue(project["id"])
    if kind == "issue":
        return Resource(
            f"/v1/projects/{project['id']}/issues/{issue['id']}",
            api,
            lambda v: {**NEW_ISSUE, "subject": f"subject {v}", "version": v},
            "subject",
        )
    if kind == "comment":
        comment = tenant.create_comment(project["id"], issue["id"])
        return Resource(
            f"/v1/projects/{project['id']}/issues/{issue['id']}/comments/{comment['id']}",
            api,
            lambda v: {"content": f"content {v}", "version": v},
            "content",
        )
    assert kind == "customer"
    return Resource(
        f"/v1/customers/{tenant.customer_id}",
        admin,
        lambda v: {"name": tenant.name, "description": f"described {v}", "labels": [], "version": v},
        "description",
    )


WRITABLE = ["project", "issue", "comment", "customer"]


@pytest.fixture(params=WRITABLE)
def resource(request, tenant: Tenant, admin: Api) -> Resource:
    return make_resource(request.param, tenant, admin)


def read(resource: Resource, **headers: str) -> httpx.Response:
    return resource.api.get(resource.url, headers=headers)


def test_a_read_is_not_modified_while_its_etag_is_current_and_modified_after_a_change(resource: Resource):
    first = read(resource)
    assert first.status_code == 200, first.text
    tag = first.headers["etag"]
    assert tag.startswith('"') and tag.endswith('"') and not tag.startswith("W/")  # strong
    assert first.headers["cache-control"] == "private, no-cache"
    assert read(resource).headers["etag"] == tag  # unchanged resource, unchanged tag

    unchanged = read(resource, **{"If-None-Match": tag})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == tag
    assert unchanged.headers["cache-control"] == "private, no-cache"
    assert "content-type" not in unchanged.headers

    updated = resource.api.put(resource.url, json=resource.update(first.json()["version"]))
    assert updated.status_code == 200, updated.text
    changed = read(resource, **{"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.json() == updated.json()
    assert changed.headers["etag"] == updated.headers["etag"] != tag  # the write's answer carries the new tag


@pytest.mark.parametrize(
    "header, modified",
    [
        ("*", False),
        ('"something-else", {tag}', False),  # one of a list
        ("W/{tag}", False),  # weak comparison: a weak tag with the same opaque value matches
        ('"something-else"', True),
        ('W/"something-else", "0"', True),
    ],
)
def test_if_none_match_compares_weakly_and_accepts_lists_and_any(tenant: Tenant, header: str, modified: bool):
    project = tenant.create_project()
    api = tenant.api()
    url = f"/v1/projects/{project['id']}"
    tag = api.get(url).headers["etag"]
    response = api.get(url, headers={"If-None-Match": header.format(tag=tag)})
    assert response.status_code == (200 if modified else 304), response.text


def test_every_single_resource_read_has_an_etag_users_included(tenant: Tenant, admin: Api):
    """Users have a version too: it changes with their profile (queries/users.sql), so must their tag."""
    subject = "etag-user"
    me = tenant.api(subject=subject, name="Ada").get("/v1/users/me")
    assert me.status_code == 200
    tag = me.headers["etag"]
    by_id = tenant.api().get(f"/v1/users/{me.json()['id']}", headers={"If-None-Match": tag})
    assert by_id.status_code == 304 and by_id.headers["etag"] == tag
    renamed = tenant.api(subject=subject, name="Ada Lovelace").get("/v1/users/me", headers={"If-None-Match": tag})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Ada Lovelace"
    assert renamed.headers["etag"] != tag
    for kind in WRITABLE:
        resource = make_resource(kind, tenant, admin)
        assert read(resource).headers["etag"], kind


def test_a_created_resource_answers_with_the_tag_a_read_gives(tenant: Tenant):
    api = tenant.api()
    created = api.post("/v1/projects", json={"name": "tagged", "labels": []})
    assert created.status_code == 201
    assert api.get(created.headers["location"]).headers["etag"] == created.headers["etag"]


def test_what_is_not_an_entity_tag_names_nothing(tenant: Tenant):
    project = tenant.create_project()
    api = tenant.api()
    url = f"/v1/projects/{project['id']}"
    bare = api.get(url).headers["etag"].strip('"')  # the tag without its quotes is no entity tag
    assert api.get(url, headers={"If-None-Match": bare}).status_code == 200
    refused = api.put(url, json={"name": "n", "labels": [], "version": 1}, headers={"If-Match": bare})
    assert_problem(refused, 412, problem_type="precondition-failed")
    assert api.get(url).json()["version"] == 1


def test_a_stale_if_match_answers_412_and_changes_nothing(resource: Resource):
    before = read(resource)
    stale_tag = before.headers["etag"]
    version = before.json()["version"]
    assert resource.api.put(resource.url, json=resource.update(version), headers={"If-Match": stale_tag}).is_success
    current = read(resource)

    refused = resource.api.put(resource.url, json=resource.update(version + 1), headers={"If-Match": stale_tag})
    assert_problem(refused, 412, problem_type="precondition-failed")
    after = read(resource)
    assert after.json() == current.json()  # unchanged: the same fields and version
    assert after.headers["etag"] == current.headers["etag"]


@pytest.mark.parametrize(
    "if_match, body_version, status, problem_type",
    [
        ("{current}", "current", 200, None),
        ("*", "current", 200, None),
        ('"other", {current}', "current", 200, None),
        ("W/{current}", "current", 412, "precondition-failed"),  # strong comparison: weak tags never match
        ('"other"', "current", 412, "precondition-failed"),
        ("{stale}", "stale", 412, "precondition-failed"),  # If-Match is checked first
        ("{stale}", "current", 412, "precondition-failed"),
        ("{current}", "stale", 409, "version-conflict"),  # both must hold
        (None, "stale", 409, "version-conflict"),
    ],
)
def test_if_match_and_the_body_version_must_both_hold(
    tenant: Tenant, if_match: str | None, body_version: str, status: int, problem_type: str | None
):
    project = tenant.create_project()
    api = tenant.api()
    url = f"/v1/projects/{project['id']}"
    stale = api.get(url).headers["etag"]
    assert api.put(url, json={"name": "second", "labels": [], "version": 1}).status_code == 200
    now = api.get(url)
    tags = {"current": now.headers["etag"], "stale": stale}
    headers = {"If-Match": if_match.format(**tags)} if if_match else {}
    version = {"current": 2, "stale": 1}[body_version]
    response = api.put(url, json={"name": "third", "labels": [], "version": version}, headers=headers)
    if status == 200:
        assert response.status_code == 200, response.text
        assert response.json()["version"] == 3
    else:
        assert_problem(response, status, problem_type=problem_type)
        assert api.get(url).json() == now.json()


def test_a_precondition_on_a_missing_resource_answers_404(tenant: Tenant):
    """RFC 9110 §13.2.2: preconditions are ignored when the answer without them would not be 2xx."""
    missing = "/v1/projects/00000000-0000-4000-8000-000000000000"
    response = tenant.api().put(
        missing, json={"name": "x", "labels": [], "version": 1}, headers={"If-Match": '"anything"'}
    )
    assert_problem(response, 404)


def test_fifty_concurrent_updates_of_one_version_let_exactly_one_win(tenant: Tenant, server):
    project = tenant.create_project()
    url = f"/v1/projects/{project['id']}"
    token = tenant.token()
    read_back = tenant.api().get(url)
    tag = read_back.headers["etag"]
    start = threading.Barrier(50)

    def update(number: int) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        if number % 2:
            headers["If-Match"] = tag  # half guard with If-Match, half with the body's version alone
        with httpx.Client(base_url=server.url, timeout=60) as client:
            start.wait()
            return client.put(url, json={"name": f"writer {number}", "labels": [], "version": 1}, headers=headers)

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(update, range(50)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 409, 412}, [a.text for a in answers if a.status_code not in (200, 409, 412)]
    (winner,) = [a for a in answers if a.status_code == 200]
    final = tenant.api().get(url).json()
    assert final == winner.json() and final["version"] == 2
    events = tenant.api().get("/v1/audit-events", params={"resource_id": project["id"], "action": "project.updated"})
    assert len(events.json()["events"]) == 1  # one change, one audit event


# -- the spec declares it everywhere ---------------------------------------------------------------------------------

SPEC = yaml.safe_load(SPEC_FILE.read_text())


def resolved(node: dict) -> dict:
    while "$ref" in node:
        target = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def operations():
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "operationId" in operation:
                parameters = [resolved(p) for p in [*item.get("parameters", []), *operation.get("parameters", [])]]
                headers = {p["name"] for p in parameters if p["in"] == "header"}
                yield method, path, operation, headers


def versioned_response(response: dict) -> bool:
    """A response whose body is one resource with an id and a version."""
    schema = resolved(response).get("content", {}).get("application/json", {}).get("schema")
    return schema is not None and {"id", "version"} <= set(resolved(schema).get("properties", {}))


def test_the_spec_declares_the_headers_on_every_operation_they_belong_to():
    """What the seam does is driven by these declarations (exitus/request_scope.py: OperationTraits)."""
    seen = collections.Counter()
    for method, path, operation, headers in operations():
        for status, response in operation["responses"].items():
            if versioned_response(response):
                assert "ETag" in resolved(response).get("headers", {}), (method, path, status)
                seen["etag"] += 1
        if method == "post":
            assert "Idempotency-Key" in headers, path
            seen["post"] += 1
        if method == "put" and versioned_response(operation["responses"].get("200", {})):
            assert "If-Match" in headers and "412" in operation["responses"], path
            seen["put"] += 1
        if method == "get" and versioned_response(operation["responses"].get("200", {})):
            assert "If-None-Match" in headers and "304" in operation["responses"], path
            seen["get"] += 1
    # 16 tagged answers: 7 reads (the current user and an issue by number among them), 4 creates, 1 transition,
    # 4 updates
    assert seen == {"etag": 16, "post": 5, "put": 4, "get": 7}
