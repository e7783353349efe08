"""Every secured operation of the spec: no token is 401 with a Bearer challenge, a token without its scopes is 403."""

import uuid

import pytest
import yaml

from exitus.resources import SPEC_FILE

SPEC = yaml.safe_load(SPEC_FILE.read_text())
OPERATIONS = [
    (method.upper(), path, op)
    for path, item in SPEC["paths"].items()
    for method, op in item.items()
    if method in ("get", "post", "put", "delete") and op.get("security", SPEC["security"])
]


def _url(path: str) -> str:
    for name in ("{id}", "{project_id}", "{issue_id}"):
        path = path.replace(name, str(uuid.uuid4()))
    return path.replace("{number}", "1")


def test_every_v1_operation_is_secured():
    secured = {(m, p) for m, p, _ in OPERATIONS}
    v1 = {(m.upper(), p) for p, item in SPEC["paths"].items() for m in item if m in ("get", "post", "put", "delete")}
    assert {(m, p) for m, p in v1 if p.startswith("/v1/")} <= secured
    assert len(OPERATIONS) == 26  # all but /healthz and /readyz


@pytest.mark.parametrize(("method", "path", "op"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_without_a_token_is_401(http, method, path, op):
    response = http.request(method, _url(path), json={} if method != "GET" else None)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"].startswith('Bearer realm="exitus"')


@pytest.mark.parametrize(("method", "path", "op"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_without_the_scope_is_403_naming_it(tenant, method, path, op):
    api = tenant.api(scopes=["exitus/unrelated"])
    response = api.http.request(method, _url(path), json={} if method != "GET" else None, headers=api.headers())
    assert response.status_code == 403, response.text
    allowed = {scope for requirement in op["security"] for scopes in requirement.values() for scope in scopes}
    assert set(response.json()["required_scopes"]) <= allowed
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
