"""Problem types: one catalogue (the spec's `components.x-problem-types`), every failure a `type` of it, each type
documented in the `Problem` schema and served at `GET /problems/<slug>`."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import pytest
import yaml

from exitus import errors
from exitus.errors import PROBLEM_TYPE_PREFIX, ExitusError, problem_types
from exitus.resources import SPEC_FILE
from tests.conftest import assert_problem

ROOT = Path(__file__).resolve().parents[1]
# Listed before the code that raises them lands (empty when the catalogue and the code agree). Once a slug is raised,
# this test asks for it to leave this set, so the check below becomes whole again.
PENDING: set[str] = set()
# Classes that only group others: never raised themselves.
GROUPS = {"ExitusError", "Conflict"}


def slugs_in_source() -> set[str]:
    """Every slug the code can answer with: those of the exception classes it raises, and string constants assigned
    to `problem_type` outside a class, passed as `problem_type=`, or in the table of rejections by status."""
    used = raised_class_names()
    found = {cls.problem_type for cls in all_subclasses(ExitusError) if cls.__name__ in used and cls.problem_type}
    for path in (ROOT / "exitus").rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        in_classes = {id(n) for c in ast.walk(tree) if isinstance(c, ast.ClassDef) for n in c.body}
        for node in ast.walk(tree):
            values: list[ast.AST] = []
            if isinstance(node, ast.Assign) and id(node) not in in_classes:
                if any(isinstance(t, ast.Name) and t.id in ("problem_type", "_REJECTION_TYPES") for t in node.targets):
                    values.append(node.value)
            elif isinstance(node, ast.keyword) and node.arg == "problem_type":
                values.append(node.value)
            for value in values:
                found |= {c.value for c in ast.walk(value) if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return found


def raised_class_names() -> set[str]:
    """Names called or raised as exceptions anywhere in exitus/ (`raise X(...)`, `return X(...)`, table entries)."""
    names = set()
    for path in (ROOT / "exitus").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                names.add(node.func.id)
            if isinstance(node, ast.Tuple) and node.elts and isinstance(node.elts[0], ast.Name):
                names.add(node.elts[0].id)  # CONSTRAINT_ERRORS: (class, detail)
    return names


def all_subclasses(cls: type) -> list[type]:
    return [cls, *(sub for direct in cls.__subclasses__() for sub in all_subclasses(direct))]


def test_every_slug_the_service_answers_with_is_in_the_catalogue_and_every_listed_one_is_answered():
    raised = slugs_in_source()
    catalogue = set(problem_types())
    assert raised - catalogue == set(), "add these to components.x-problem-types in openapi/exitus.yaml"
    assert PENDING & raised == set(), "these are raised now: remove them from PENDING in this test"
    assert catalogue - raised == PENDING, "listed but never answered: remove them from the catalogue or raise them"


def test_the_source_scan_sees_what_it_is_meant_to():
    # The scan above must find class attributes, keywords and the rejection table, or it would pass vacuously.
    raised = slugs_in_source()
    assert {"version-conflict", "request-timeout", "internal-error", "method-not-allowed"} <= raised


def test_every_exception_that_is_raised_has_a_type_of_its_status():
    used = raised_class_names()
    catalogue = problem_types()
    for cls in all_subclasses(ExitusError):
        if cls.__name__ in GROUPS:
            assert cls.__name__ not in used or cls is ExitusError, f"raise a subclass of {cls.__name__}, not it"
            continue
        assert cls.problem_type in catalogue, f"{cls.__name__} has no problem type of the catalogue"
        assert catalogue[cls.problem_type]["status"] == cls.status, cls.__name__


def test_the_problem_schema_lists_every_type_with_what_to_do():
    spec = yaml.safe_load(SPEC_FILE.read_text())
    description = spec["components"]["schemas"]["Problem"]["properties"]["type"]["description"]
    rows = [line for line in description.splitlines() if line.startswith(f"| `{PROBLEM_TYPE_PREFIX}")]
    expected = [
        f"| `{PROBLEM_TYPE_PREFIX}{slug}` | {entry['status']} | {entry['title']}: {one_line(entry['description'])} |"
        for slug, entry in problem_types().items()
    ]
    assert rows == expected, "the Problem schema's table differs from the catalogue; its rows should be:\n" + "\n".join(
        expected
    )


def one_line(text: str) -> str:
    return " ".join(text.split())


def test_each_catalogue_entry_is_complete():
    for slug, entry in problem_types().items():
        assert set(entry) == {"title", "status", "description"}, slug
        assert 400 <= entry["status"] <= 599 and entry["title"] and len(entry["description"]) > 20, slug


def test_every_type_is_served_at_its_url(http):
    for slug, entry in problem_types().items():
        response = http.get(PROBLEM_TYPE_PREFIX + slug)
        assert response.status_code == 200, response.text
        served = response.json()
        assert served["type"] == PROBLEM_TYPE_PREFIX + slug
        assert (served["title"], served["status"]) == (entry["title"], entry["status"])
        assert served["description"] == " ".join(entry["description"].split())


def test_an_unknown_type_is_not_found(http):
    assert_problem(http.get("/problems/no-such-thing"), 404, "no-such-thing", problem_type="not-found")
    assert_problem(http.get("/problems/Not_A_Slug"), 400, problem_type="validation")


def test_a_types_url_resolves_against_the_requests_url(tenant, http):
    body = assert_problem(tenant.api().get(f"/v1/projects/{uuid.uuid4()}"), 404, problem_type="not-found")
    assert http.get(str(http.base_url.join(body["type"]))).json()["title"] == body["title"]


# --- each failure has its own type --------------------------------------------------------------------------------


def issue_body(**fields):
    return {"subject": "s", "content": "c", "severity": "high", "category": "bug", "labels": [], **fields}


def test_a_stale_version_is_a_version_conflict_with_the_current_version(tenant):
    api = tenant.api()
    project = tenant.create_project()
    issue = tenant.create_issue(project["id"])
    path = f"/v1/projects/{project['id']}/issues/{issue['id']}"
    assert api.put(path, json=issue_body(version=issue["version"])).status_code == 200
    stale = api.put(path, json=issue_body(version=issue["version"]))
    body = assert_problem(stale, 409, problem_type="version-conflict")
    assert body["current_version"] == issue["version"] + 1

    stale_project = api.put(f"/v1/projects/{project['id']}", json={"name": "n", "labels": [], "version": 99})
    assert assert_problem(stale_project, 409, problem_type="version-conflict")["current_version"] == project["version"]
    comment = tenant.create_comment(project["id"], issue["id"])
    stale_comment = api.put(f"{path}/comments/{comment['id']}", json={"content": "x", "version": 99})
    assert assert_problem(stale_comment, 409, problem_type="version-conflict")["current_version"] == 1


def test_a_stale_customer_version_is_a_version_conflict(tenant):
    api = tenant.api()
    customer = api.get(f"/v1/customers/{tenant.customer_id}").json()
    body = {"name": tenant.name, "labels": [], "version": customer["version"] + 5}
    problem = assert_problem(api.put(f"/v1/customers/{tenant.customer_id}", json=body), 409)
    assert problem["type"] == "/problems/version-conflict" and problem["current_version"] == customer["version"]


def test_a_taken_name_is_a_duplicate_name(tenant):
    project = tenant.create_project()
    again = tenant.api().post("/v1/projects", json={"name": project["name"], "labels": []})
    assert_problem(again, 409, problem_type="duplicate-name")


def test_an_assignee_who_is_no_user_is_an_unknown_assignee(tenant):
    project = tenant.create_project()
    response = tenant.api().post(f"/v1/projects/{project['id']}/issues", json=issue_body(assignee=str(uuid.uuid4())))
    assert_problem(response, 409, problem_type="unknown-assignee")


def test_schema_errors_list_every_invalid_member_without_echoing_long_values(tenant):
    project = tenant.create_project()
    long_subject = "x" * 5000
    body = issue_body(subject=long_subject, severity="apocalyptic", labels=[""])
    del body["content"]
    response = tenant.api().post(f"/v1/projects/{project['id']}/issues", json=body)
    problem = assert_problem(response, 400, problem_type="validation")
    pointers = {error["pointer"] for error in problem["errors"]}
    assert {"/subject", "/severity", "/labels/0", ""} <= pointers, problem["errors"]  # "": `content` is missing
    assert all(len(error["message"]) <= 200 for error in problem["errors"])
    assert "x" * 100 not in response.text


def test_parameter_errors_name_the_parameter(tenant):
    response = tenant.api().get("/v1/projects", params={"limit": 1000, "unknown": "1"})
    problem = assert_problem(response, 400, problem_type="validation")
    assert problem["errors"] == [{"parameter": "unknown", "message": "is not a parameter of this operation"}]
    problem = assert_problem(tenant.api().get("/v1/projects", params={"limit": 1000}), 400, problem_type="validation")
    assert problem["errors"] == [{"parameter": "limit", "message": "1000 is greater than the maximum of 100"}]


JSON = {"Content-Type": "application/json"}
TEXT = {"Content-Type": "text/plain"}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "slug"),
    [
        ("get", "/v1/projects", {"headers": {"Authorization": ""}}, 401, "missing-token"),
        ("get", "/v1/projects", {"headers": {"Authorization": "Bearer not-a-jwt"}}, 401, "invalid-token"),
        (
            "post",
            "/v1/projects",
            {"content": b"{", "headers": {"Content-Type": "application/json"}},
            400,
            "malformed-body",
        ),
        (
            "post",
            "/v1/projects",
            {"content": b"{}", "headers": {"Content-Type": "text/plain"}},
            415,
            "unsupported-media-type",
        ),
        ("delete", "/v1/projects", {}, 405, "method-not-allowed"),
        ("get", "/v1//projects", {}, 404, "not-found"),
        ("get", "/nowhere", {}, 404, "not-found"),
    ],
)
def test_rejections_have_their_types(tenant, method, path, kwargs, status, slug):
    api = tenant.api()
    headers = api.headers(kwargs.pop("headers", None))
    if headers.get("Authorization") == "":
        del headers["Authorization"]
    response = api.http.request(method.upper(), path, headers=headers, **kwargs)
    assert_problem(response, status, problem_type=slug)


def test_a_missing_scope_is_insufficient_scope_and_a_token_without_customer_tenant_required(tenant, issuer, http):
    api = tenant.api(scopes=["exitus/issue.read"])
    assert_problem(api.get("/v1/projects"), 403, problem_type="insufficient-scope")
    token = issuer.token(scopes=["exitus/project.read"], client_id="exitus-test", subject="nobody")
    response = http.get("/v1/projects", headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 403, problem_type="tenant-required")


def test_a_tenant_renaming_itself_is_forbidden(tenant):
    customer = tenant.api().get(f"/v1/customers/{tenant.customer_id}").json()
    body = {"name": "another name", "labels": [], "version": customer["version"]}
    assert_problem(tenant.api().put(f"/v1/customers/{tenant.customer_id}", json=body), 403, problem_type="forbidden")


def test_a_problem_without_a_type_is_about_blank():
    # The renderer's fallback, for a status the catalogue has no type of (none is raised today).
    response = errors.problem_response(418, "teapot")
    assert b'"type": "about:blank"' in response.body.encode() and b"I'm a Teapot" in response.body.encode()
