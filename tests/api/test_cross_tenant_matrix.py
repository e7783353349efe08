"""Tenant isolation, driven by the spec: customer A, with every tenant scope, uses customer B's ids in every operation.

Customer B owns a project, an issue (assigned to B's user), a comment and that user. For every /v1 operation with a
path parameter, A sends a valid request with each mix of A's and B's ids in the path (B's issue under A's project,
A's issue under B's project, ...): every one is a 404 problem that names nothing of B, and afterwards B's rows read
back (as B) exactly as before, `version` included. The same requests with only A's ids succeed, so the bodies are
valid and the 404s come from tenancy alone. A's lists and searches (`q=` with B's names) show nothing of B.
Operations without a path parameter are listed by hand in COLLECTION_OPERATIONS; an operation added to the spec
and covered by neither fails test_every_v1_operation_is_covered.
"""

from __future__ import annotations

import itertools
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from exitus.resources import SPEC_FILE
from tests.conftest import ADMIN_SCOPES, CLIENT_ID, Api, Tenant, assert_problem, new_tenant

SPEC = yaml.safe_load(SPEC_FILE.read_text())
METHODS = ("get", "put", "post", "delete", "patch")
V1_OPERATIONS = {
    (method.upper(), path): operation
    for path, item in SPEC["paths"].items()
    if path.startswith("/v1/")
    for method, operation in item.items()
    if method in METHODS
}
PATH_OPERATIONS = sorted(key for key in V1_OPERATIONS if "{" in key[1])
# Operations without a path parameter, and the test that covers each for tenant isolation.
COLLECTION_OPERATIONS = {
    ("GET", "/v1/customers"): "test_lists_and_searches_show_nothing_of_the_other_customer",
    ("GET", "/v1/projects"): "test_lists_and_searches_show_nothing_of_the_other_customer",
    ("GET", "/v1/users"): "test_lists_and_searches_show_nothing_of_the_other_customer",
    ("GET", "/v1/users/me"): "test_me_is_the_callers_own_user",
    ("POST", "/v1/projects"): "test_project_names_do_not_collide_across_customers",
    ("POST", "/v1/customers"): "test_a_tenant_cannot_create_customers",
    ("GET", "/v1/audit-events"): "test_the_audit_trail_shows_nothing_of_the_other_customer",
    ("GET", "/v1/audit-events/verify"): "test_the_audit_trail_shows_nothing_of_the_other_customer",
}
# A path parameter names the resource of the collection segment before it.
RESOURCE_OF_SEGMENT = {
    "customers": "customer",
    "projects": "project",
    "issues": "issue",
    "comments": "comment",
    "users": "user",
    "by-number": "number",  # an issue's number: meaningful under its project only, so not a secret of its own
}
# Valid request bodies by schema; `version` is filled in with the target's current version.
BODIES = {
    "UpdatedCustomer": {"name": "renamed by another customer", "labels": ["x"]},
    "NewProject": {"name": "planted by another customer", "labels": []},
    "UpdatedProject": {"name": "renamed by another customer", "labels": ["x"]},
    "NewIssue": {"subject": "planted", "content": "by another customer", "severity": "low", "category": "bug",
                 "labels": []},
    "UpdatedIssue": {"subject": "changed", "content": "by another customer", "severity": "low", "category": "task",
                     "labels": [], "state": "closed"},
    "NewComment": {"content": "planted by another customer"},
    "UpdatedComment": {"content": "changed by another customer"},
}  # fmt: skip


@dataclass
class Estate:
    """What one customer owns: a project, an issue in it assigned to its user, a comment on the issue."""

    tenant: Tenant
    api: Api
    customer: dict[str, Any]
    user: dict[str, Any]
    project: dict[str, Any]
    issue: dict[str, Any]
    comment: dict[str, Any]

    def id_of(self, resource: str) -> str:
        return str(self.issue["number"]) if resource == "number" else getattr(self, resource)["id"]

    def url_of(self, resource: str) -> str:
        project, issue = f"/v1/projects/{self.project['id']}", f"/issues/{self.issue['id']}"
        return {
            "customer": f"/v1/customers/{self.customer['id']}",
            "user": f"/v1/users/{self.user['id']}",
            "project": project,
            "issue": project + issue,
            "comment": f"{project}{issue}/comments/{self.comment['id']}",
            "number": f"{project}/issues/by-number/{self.issue['number']}",
        }[resource]

    def snapshot(self) -> dict[str, Any]:
        """Everything the customer can read, read as the customer."""
        project, issue = f"/v1/projects/{self.project['id']}", f"/issues/{self.issue['id']}"
        responses = {url: self.api.get(url) for url in map(self.url_of, RESOURCE_OF_SEGMENT.values())}
        lists = ["/v1/customers", "/v1/projects", "/v1/users", f"{project}/issues", f"{project}{issue}/comments"]
        responses |= {url: self.api.get(url, params={"limit": 100}) for url in lists}
        assert all(response.status_code == 200 for response in responses.values()), responses
        return {url: response.json() for url, response in responses.items()}

    def secrets(self) -> list[str]:
        """Values that must never appear in an answer to another customer."""
        values = [self.customer["name"], self.user["sub"], self.user["email"], self.user["name"]]
        values += [self.project["name"], self.issue["subject"], self.issue["content"], self.comment["content"]]
        values += [self.id_of(resource) for resource in RESOURCE_OF_SEGMENT.values() if resource != "number"]
        return values


def _estate(admin: Api, issuer, http, label: str) -> Estate:
    tenant = new_tenant(admin, issuer, http)
    marker = uuid.uuid4().hex[:10]
    api = tenant.api(subject=f"{label}-{marker}", email=f"{label}-{marker}@example.com", name=f"{label} {marker}")
    user = api.get("/v1/users/me").json()
    project = api.post("/v1/projects", json={"name": f"{label} project {marker}", "labels": []}).json()
    issue_body = {**BODIES["NewIssue"], "subject": f"{label} issue {marker}", "content": f"{label} text {marker}"}
    issue = api.post(f"/v1/projects/{project['id']}/issues", json={**issue_body, "assignee": user["id"]}).json()
    comment_url = f"/v1/projects/{project['id']}/issues/{issue['id']}/comments"
    comment = api.post(comment_url, json={"content": f"{label} comment {marker}"}).json()
    customer = api.get(f"/v1/customers/{tenant.customer_id}").json()
    return Estate(tenant, api, customer, user, project, issue, comment)


@pytest.fixture(scope="module")
def estates(http, issuer) -> tuple[Estate, Estate]:
    """(A, B): built once for the module; every test leaves B as it found it."""
    admin = Api(http, issuer.token(scopes=ADMIN_SCOPES, client_id=CLIENT_ID, subject="platform-admin"))
    return _estate(admin, issuer, http, "alpha"), _estate(admin, issuer, http, "bravo")


def _resources_of(path: str) -> list[str]:
    """The resource each path parameter names, in order."""
    segments = path.strip("/").split("/")
    return [RESOURCE_OF_SEGMENT[segments[i - 1]] for i, segment in enumerate(segments) if segment.startswith("{")]


def _fill(path: str, owners: tuple[Estate, ...]) -> str:
    resources = iter(zip(_resources_of(path), owners, strict=True))
    return re.sub(r"\{[^}]+\}", lambda _: (lambda resource, owner: owner.id_of(resource))(*next(resources)), path)


def _body(operation: dict[str, Any], target: Estate, path: str) -> dict[str, Any] | None:
    if "requestBody" not in operation:
        return None
    schema = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    if schema == "IssueTransition":  # a move the target's issue may make now: only tenancy can refuse
        state = target.api.get(target.url_of("issue")).json()["state"]
        return {"state": "closed" if state == "open" else "open", "comment": "planted by another customer"}
    body = dict(BODIES[schema])
    if "version" in SPEC["components"]["schemas"][schema]["properties"]:
        leaf = _resources_of(path)[-1]
        current = target.api.get(target.url_of(leaf)).json()
        body["version"] = current["version"]  # current: only tenancy can refuse
        if schema == "UpdatedCustomer":
            body["name"] = current["name"]  # tenants do not rename themselves (exitus/api/customers.py)
    return body


def _assert_reveals_nothing(response, victim: Estate) -> None:
    for secret in victim.secrets():
        assert secret not in response.text, (secret, response.text)


def test_every_v1_operation_is_covered():
    assert set(PATH_OPERATIONS) | set(COLLECTION_OPERATIONS) == set(V1_OPERATIONS)
    assert not set(PATH_OPERATIONS) & set(COLLECTION_OPERATIONS)
    assert len(PATH_OPERATIONS) >= 10  # customers, projects, issues, comments and users by id


@pytest.mark.parametrize(("method", "path"), PATH_OPERATIONS, ids=[f"{m} {p}" for m, p in PATH_OPERATIONS])
def test_another_customers_ids_are_404_and_change_nothing(estates, method, path):
    alpha, bravo = estates
    before = bravo.snapshot()
    operation = V1_OPERATIONS[(method, path)]
    parameters = len(_resources_of(path))
    resources = _resources_of(path)
    for owners in itertools.product((alpha, bravo), repeat=parameters):
        if all(owner is alpha or resource == "number" for resource, owner in zip(resources, owners, strict=True)):
            continue  # nothing of B's: B's issue number under A's project names A's issue
        target = owners[-1]
        url = _fill(path, owners)
        response = alpha.api.http.request(method, url, json=_body(operation, target, path), headers=alpha.api.headers())
        assert_problem(response, 404)
        _assert_reveals_nothing(response, bravo)
    assert bravo.snapshot() == before
    # The same request with only A's ids is served: the bodies are valid and the 404s above are tenancy's.
    own = alpha.api.http.request(
        method, _fill(path, (alpha,) * parameters), json=_body(operation, alpha, path), headers=alpha.api.headers()
    )
    assert 200 <= own.status_code < 300, own.text
    assert bravo.snapshot() == before


def test_lists_and_searches_show_nothing_of_the_other_customer(estates):
    alpha, bravo = estates
    mine = alpha.snapshot()  # A's rows as they are now (other tests of this module update them)
    project, issue = f"/v1/projects/{alpha.project['id']}", f"/issues/{alpha.issue['id']}"
    own_issue, own_comment = mine[alpha.url_of("issue")], mine[alpha.url_of("comment")]
    # list URL -> (B's values to search for, a value of A's own row that the same search finds)
    searches = {
        "/v1/customers": ([bravo.customer["name"]], mine[alpha.url_of("customer")]["name"]),
        "/v1/projects": ([bravo.project["name"]], mine[alpha.url_of("project")]["name"]),
        "/v1/users": ([bravo.user["sub"], bravo.user["email"], bravo.user["name"]], alpha.user["email"]),
        f"{project}/issues": ([bravo.issue["subject"], bravo.issue["content"]], own_issue["subject"]),
        f"{project}{issue}/comments": ([bravo.comment["content"]], own_comment["content"]),
    }
    for url, (theirs, own) in searches.items():
        key = url.rsplit("/", 1)[-1]
        for params in [{}, {"q": own}, *({"q": term} for term in theirs)]:
            response = alpha.api.get(url, params={**params, "limit": 100})
            assert response.status_code == 200, response.text
            _assert_reveals_nothing(response, bravo)
            found = response.json()[key]
            if params.get("q") in theirs:
                assert found == [], response.text
            else:  # the search works: it finds A's own row
                assert found, response.text


def test_me_is_the_callers_own_user(estates):
    alpha, bravo = estates
    me = alpha.api.get("/v1/users/me")
    assert me.json()["id"] == alpha.user["id"]
    _assert_reveals_nothing(me, bravo)


def test_project_names_do_not_collide_across_customers(estates, tenant):
    """B's project name is free in another customer: a 409 there would tell that B has such a project."""
    _, bravo = estates
    before = bravo.snapshot()
    created = tenant.api().post("/v1/projects", json={"name": bravo.project["name"].upper(), "labels": []})
    assert created.status_code == 201, created.text
    assert bravo.snapshot() == before


def test_an_assignee_of_another_customer_is_refused_like_an_unknown_one(estates):
    alpha, bravo = estates
    before = bravo.snapshot()
    url = f"/v1/projects/{alpha.project['id']}/issues"
    answers = [
        alpha.api.post(url, json={**BODIES["NewIssue"], "assignee": assignee})
        for assignee in (bravo.user["id"], str(uuid.uuid4()))
    ]
    bodies = [assert_problem(answer, 409, "assignee") for answer in answers]
    assert bodies[0]["detail"] == bodies[1]["detail"]
    _assert_reveals_nothing(answers[0], bravo)
    assert bravo.snapshot() == before


def test_a_tenant_cannot_create_customers(estates):
    """Customer administration is a platform scope; the tenant scopes do not include it."""
    alpha, _ = estates
    body = assert_problem(alpha.api.post("/v1/customers", json={"name": f"x {uuid.uuid4()}", "labels": []}), 403)
    assert body["required_scopes"] == ["exitus/customer.admin"]


def test_the_audit_trail_shows_nothing_of_the_other_customer(estates):
    alpha, bravo = estates
    trail = alpha.api.get("/v1/audit-events", params={"limit": 100})
    assert trail.status_code == 200, trail.text
    _assert_reveals_nothing(trail, bravo)
    assert trail.json()["events"], "A's own trail is there"
    assert {event["customer_id"] for event in trail.json()["events"]} == {alpha.id_of("customer")}
    for resource in ("customer", "user", "project", "issue", "comment"):
        theirs = alpha.api.get("/v1/audit-events", params={"resource_id": bravo.id_of(resource)})
        assert theirs.json()["events"] == [], resource
    export = alpha.api.get("/v1/audit-events", headers={"Accept": "application/x-ndjson"})
    assert export.status_code == 200
    _assert_reveals_nothing(export, bravo)
    named = alpha.api.get("/v1/audit-events", params={"customer_id": bravo.id_of("customer")})
    assert_problem(named, 403)
    verdict = alpha.api.get("/v1/audit-events/verify")
    assert verdict.json()["ok"] is True
    assert verdict.json()["verified"] == len(alpha.api.get("/v1/audit-events", params={"limit": 100}).json()["events"])
    assert_problem(alpha.api.get("/v1/audit-events/verify", params={"customer_id": bravo.id_of("customer")}), 403)
