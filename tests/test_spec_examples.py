"""The spec's examples are what Swagger UI's "Try it out" sends and shows: each must be valid against its schema (by the
validators the service itself applies), every request body and every success response must have one, and each
request body's example must be accepted by the running service as it is."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from connexion.json_schema import Draft4RequestValidator, Draft4ResponseValidator, resolve_refs
from connexion.validators.parameter import draft4_format_checker

from exitus.resources import SPEC_FILE
from tests.conftest import Api, Tenant

RAW_SPEC = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
SPEC = resolve_refs(RAW_SPEC)
HTTP_METHODS = ("get", "put", "post", "delete", "patch")


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method, path, operation


def media_examples(media: dict[str, Any]) -> list[Any]:
    """The examples a media type object (or a parameter) gives, or its schema gives, or its list items give."""
    if "example" in media:
        return [media["example"]]
    if "examples" in media:
        return [example["value"] for example in media["examples"].values()]
    schema = media.get("schema", {})
    if "example" in schema:
        return [schema["example"]]
    # A list wrapper ({"projects": [...], "offset", "limit"}): Swagger UI builds its example from the items'.
    items = [p["items"] for p in schema.get("properties", {}).values() if p.get("type") == "array" and "items" in p]
    return [item["example"] for item in items if "example" in item]


def all_examples(node: Any, where: str = "#") -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """(where, example, schema) for every example in the resolved spec: a schema's own `example`, and a media type's
    or a parameter's `example`/`examples` against its `schema`."""
    if isinstance(node, dict):
        if "schema" in node and isinstance(node["schema"], dict):
            if "example" in node:
                yield where, node["example"], node["schema"]
            for name, example in node.get("examples", {}).items():
                yield f"{where}/examples/{name}", example["value"], node["schema"]
        elif "example" in node and ("type" in node or "properties" in node or "allOf" in node):
            yield where, node["example"], node
        for key, value in node.items():
            if key not in ("example", "examples"):
                yield from all_examples(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from all_examples(value, f"{where}/{index}")


EXAMPLES = list(all_examples(SPEC))


def test_the_walk_finds_the_examples():
    found = {where for where, _, _ in EXAMPLES}
    for schema in ("NewProject", "UpdatedIssue", "Comment", "Uuid"):
        assert f"#/components/schemas/{schema}" in found
    # A named example is checked where a media type uses it, against that media type's schema.
    assert any(where.endswith("/get/responses/200/content/application/json/examples/page") for where in found)


@pytest.mark.parametrize(("where", "example", "schema"), EXAMPLES, ids=[where for where, _, _ in EXAMPLES])
def test_every_example_is_valid_against_its_schema(where, example, schema):
    for validator in (Draft4RequestValidator, Draft4ResponseValidator):
        errors = [e.message for e in validator(schema, format_checker=draft4_format_checker).iter_errors(example)]
        assert errors == [], f"{where}: {errors}"


def test_a_broken_example_is_caught():
    schema = SPEC["components"]["schemas"]["NewIssue"]
    broken = {**schema["example"], "severity": "apocalyptic"}
    assert list(Draft4RequestValidator(schema, format_checker=draft4_format_checker).iter_errors(broken))


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [op for op in operations() if "requestBody" in op[2]],
    ids=[op["operationId"] for _, _, op in operations() if "requestBody" in op],
)
def test_every_request_body_has_an_example(method, path, operation):
    for media_type, media in operation["requestBody"]["content"].items():
        assert media_examples(media), f"{method.upper()} {path} ({media_type}): no example for Try it out"


SUCCESS_RESPONSES = [
    (method, path, status, media_type, media)
    for method, path, operation in operations()
    for status, response in operation["responses"].items()
    if status.startswith("2")
    for media_type, media in response.get("content", {}).items()
    if media_type == "application/json"
]


@pytest.mark.parametrize(
    ("method", "path", "status", "media_type", "media"),
    SUCCESS_RESPONSES,
    ids=[f"{m.upper()} {p} {s}" for m, p, s, _, _ in SUCCESS_RESPONSES],
)
def test_every_success_response_has_an_example(method, path, status, media_type, media):
    assert media_examples(media), f"{method.upper()} {path} {status} ({media_type}): no example"


def body_example(operation_id: str) -> Any:
    (operation,) = [op for _, _, op in operations() if op["operationId"] == operation_id]
    (example,) = media_examples(operation["requestBody"]["content"]["application/json"])
    return example


def renamed(example: dict[str, Any], suffix: str) -> dict[str, Any]:
    return {**example, "name": example["name"] + suffix}


def test_request_body_examples_are_accepted_as_they_are(admin: Api, tenant: Tenant):
    """What "Try it out" sends unchanged: each create answers 201, each update of what it created (version 1) 200.
    Customer names are unique across the service, and the fuzzing run sends the same examples: the customer examples
    get a fresh name, all else as it is."""
    fresh = f" {uuid.uuid4()}"
    customer = admin.post("/v1/customers", json=renamed(body_example("create_customer"), fresh))
    assert customer.status_code == 201, customer.text
    updated = admin.put(f"/v1/customers/{customer.json()['id']}", json=renamed(body_example("update_customer"), fresh))
    assert updated.status_code == 200, updated.text

    api = tenant.api()
    project = api.post("/v1/projects", json=body_example("create_project"))
    assert project.status_code == 201, project.text
    project_url = f"/v1/projects/{project.json()['id']}"
    issue = api.post(f"{project_url}/issues", json=body_example("create_issue"))
    assert issue.status_code == 201, issue.text
    issue_url = f"{project_url}/issues/{issue.json()['id']}"
    comment = api.post(f"{issue_url}/comments", json=body_example("create_comment"))
    assert comment.status_code == 201, comment.text

    for url, operation_id in (
        (project_url, "update_project"),
        (issue_url, "update_issue"),
        (f"{issue_url}/comments/{comment.json()['id']}", "update_comment"),
    ):
        response = api.put(url, json=body_example(operation_id))
        assert response.status_code == 200, (operation_id, response.text)
        assert response.json()["version"] == 2
