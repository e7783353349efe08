"""Who may call what, written down by hand and checked against the served spec and over HTTP.

tests/api/test_security_matrix.py derives its expectations from the spec, so it agrees with any mistake made there
(a lowered scope, an operation left open). This table is the independent statement of intent: a spec whose security
differs from it, or that has an operation it does not list, fails here; and each operation is called with every
scope but its own (403), with its own (not 403), and, for a tenant resource, with its own but no customer (403).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from exitus.dev.issuer import ALL_SCOPES
from tests.conftest import CLIENT_ID


@dataclass(frozen=True)
class Grant:
    """One way to be allowed: a scope, and whether the token must name a customer (a tenant resource)."""

    scope: str
    tenant: bool


ADMIN = Grant("exitus/customer.admin", tenant=False)
ADMIN_OF_ITS_CUSTOMER = Grant("exitus/customer.admin", tenant=True)


def tenant(scope: str) -> Grant:
    return Grant(scope, tenant=True)


NEW_ISSUE = {"subject": "s", "content": "c", "severity": "low", "category": "task", "labels": []}

# operationId -> (method, path, the grants that allow it (any one suffices), a valid body). No grants: public.
OPERATIONS: dict[str, tuple[str, str, tuple[Grant, ...], Any]] = {
    "check_liveness": ("GET", "/healthz", (), None),
    "check_readiness": ("GET", "/readyz", (), None),
    "get_problem_type": ("GET", "/problems/{slug}", (), None),
    "list_customers": ("GET", "/v1/customers", (ADMIN, tenant("exitus/customer.read")), None),
    "create_customer": ("POST", "/v1/customers", (ADMIN,), "customer"),
    "get_customer": ("GET", "/v1/customers/{id}", (ADMIN, tenant("exitus/customer.read")), None),
    "update_customer": (
        "PUT",
        "/v1/customers/{id}",
        (ADMIN, tenant("exitus/customer.write")),
        {"name": "n", "labels": [], "version": 1},
    ),
    "list_projects": ("GET", "/v1/projects", (tenant("exitus/project.read"),), None),
    "create_project": ("POST", "/v1/projects", (tenant("exitus/project.write"),), "project"),
    "get_project": ("GET", "/v1/projects/{id}", (tenant("exitus/project.read"),), None),
    "update_project": (
        "PUT",
        "/v1/projects/{id}",
        (tenant("exitus/project.write"),),
        {"name": "n", "labels": [], "version": 1},
    ),
    "list_issues": ("GET", "/v1/projects/{project_id}/issues", (tenant("exitus/issue.read"),), None),
    "create_issue": (
        "POST",
        "/v1/projects/{project_id}/issues",
        (tenant("exitus/issue.write"),),
        NEW_ISSUE,
    ),
    "get_issue": ("GET", "/v1/projects/{project_id}/issues/{id}", (tenant("exitus/issue.read"),), None),
    "update_issue": (
        "PUT",
        "/v1/projects/{project_id}/issues/{id}",
        (tenant("exitus/issue.write"),),
        {**NEW_ISSUE, "version": 1},
    ),
    "get_issue_by_number": (
        "GET",
        "/v1/projects/{project_id}/issues/by-number/{number}",
        (tenant("exitus/issue.read"),),
        None,
    ),
    "transition_issue": (
        "POST",
        "/v1/projects/{project_id}/issues/{id}/transitions",
        (tenant("exitus/issue.write"),),
        {"state": "closed"},
    ),
    "vote_for_issue": ("PUT", "/v1/projects/{project_id}/issues/{id}/votes/me", (tenant("exitus/issue.write"),), None),
    "withdraw_vote": (
        "DELETE",
        "/v1/projects/{project_id}/issues/{id}/votes/me",
        (tenant("exitus/issue.write"),),
        None,
    ),
    "list_comments": (
        "GET",
        "/v1/projects/{project_id}/issues/{issue_id}/comments",
        (tenant("exitus/comment.read"),),
        None,
    ),
    "create_comment": (
        "POST",
        "/v1/projects/{project_id}/issues/{issue_id}/comments",
        (tenant("exitus/comment.write"),),
        {"content": "c"},
    ),
    "get_comment": (
        "GET",
        "/v1/projects/{project_id}/issues/{issue_id}/comments/{id}",
        (tenant("exitus/comment.read"),),
        None,
    ),
    "update_comment": (
        "PUT",
        "/v1/projects/{project_id}/issues/{issue_id}/comments/{id}",
        (tenant("exitus/comment.write"),),
        {"content": "c", "version": 1},
    ),
    "list_users": ("GET", "/v1/users", (tenant("exitus/user.read"),), None),
    "get_current_user": ("GET", "/v1/users/me", (tenant("exitus/user.read"),), None),
    "get_user": ("GET", "/v1/users/{id}", (tenant("exitus/user.read"),), None),
    # An administrator's token without a customer must name one (`customer_id`): tests/api/test_audit*.py.
    "list_audit_events": ("GET", "/v1/audit-events", (tenant("exitus/audit.read"), ADMIN_OF_ITS_CUSTOMER), None),
    "verify_audit_events": (
        "GET",
        "/v1/audit-events/verify",
        (tenant("exitus/audit.read"), ADMIN_OF_ITS_CUSTOMER),
        None,
    ),
    "list_issue_history": (
        "GET",
        "/v1/projects/{project_id}/issues/{id}/history",
        (tenant("exitus/issue.read"),),
        None,
    ),
}
SECURED = sorted(name for name, (_, _, grants, _) in OPERATIONS.items() if grants)
PUBLIC = sorted(set(OPERATIONS) - set(SECURED))
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


# A token is accepted under either scheme (an OpenID Connect login or a pasted bearer token), with the same scopes.
SCHEMES = ("oidc", "bearerAuth")


def served_operations(http) -> dict[str, tuple[str, str, dict[str, set[frozenset[str]]]]]:
    """operationId -> (method, path, {scheme: its security requirements}) as the running service serves its spec."""
    spec = http.get("/openapi.json").json()
    served = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in HTTP_METHODS:
                by_scheme: dict[str, set[frozenset[str]]] = {}
                for requirement in op.get("security", spec.get("security", [])):
                    assert len(requirement) <= 1, f"{op['operationId']}: schemes required together: {requirement}"
                    for scheme, scopes in requirement.items():
                        by_scheme.setdefault(scheme, set()).add(frozenset(scopes))
                served[op["operationId"]] = (method.upper(), path, by_scheme)
    return served


def test_the_served_spec_secures_each_operation_as_intended(http):
    served = served_operations(http)
    assert sorted(set(served) - set(OPERATIONS)) == [], "operations this table does not know: add them"
    assert sorted(set(OPERATIONS) - set(served)) == [], "operations the spec no longer serves"
    for name, (method, path, grants, _) in OPERATIONS.items():
        # none: `security: []`, public
        expected = {scheme: {frozenset({grant.scope}) for grant in grants} for scheme in SCHEMES} if grants else {}
        assert served[name] == (method, path, expected), name


def call(http, issuer, operation: str, scopes, customer: str | None):
    method, path, _, body = OPERATIONS[operation]
    for name in ("{id}", "{project_id}", "{issue_id}"):
        path = path.replace(name, str(uuid.uuid4()))
    path = path.replace("{number}", "1")
    if body in ("customer", "project"):  # created for real: a fresh name each time
        body = {"name": f"{body} {uuid.uuid4()}", "labels": []}
    token = issuer.token(scopes=list(scopes), customer=customer, client_id=CLIENT_ID, subject=f"scopes-{customer}")
    return http.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("operation", SECURED)
def test_every_scope_but_the_required_one_is_refused(http, issuer, tenant, operation):
    granting = {grant.scope for grant in OPERATIONS[operation][2]}
    response = call(http, issuer, operation, [s for s in ALL_SCOPES if s not in granting], tenant.customer_id)
    assert response.status_code == 403, response.text
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


@pytest.mark.parametrize("operation", SECURED)
def test_each_granting_scope_alone_is_enough(http, issuer, tenant, operation):
    for grant in OPERATIONS[operation][2]:
        response = call(http, issuer, operation, [grant.scope], tenant.customer_id if grant.tenant else None)
        assert response.status_code not in (401, 403), (grant, response.text)


@pytest.mark.parametrize("operation", SECURED)
def test_a_tenant_grant_needs_a_customer(http, issuer, operation):
    for grant in OPERATIONS[operation][2]:
        if grant.tenant:
            response = call(http, issuer, operation, [grant.scope], None)
            assert response.status_code == 403, (grant, response.text)
            assert "customer" in response.json()["detail"], response.json()


@pytest.mark.parametrize("operation", PUBLIC)
def test_a_public_operation_needs_no_token(http, operation):
    method, path, _, _ = OPERATIONS[operation]
    assert http.request(method, path).status_code not in (401, 403)
