"""Customers: platform administration, and a tenant reading or updating itself."""

import uuid

from tests.conftest import assert_problem


def test_admin_creates_lists_and_reads_customers(admin):
    name = f"Acme {uuid.uuid4()}"
    created = admin.post("/v1/customers", json={"name": name, "description": "d", "labels": ["gold"]})
    assert created.status_code == 201
    customer = created.json()
    assert created.headers["location"] == f"/v1/customers/{customer['id']}"
    assert admin.get(created.headers["location"]).json() == customer
    found = admin.get("/v1/customers", params={"q": name.upper()}).json()["customers"]
    assert found == [customer]


def test_customer_names_are_unique_case_insensitively(admin, tenant):
    assert_problem(admin.post("/v1/customers", json={"name": tenant.name.upper(), "labels": []}), 409)


def test_admin_updates_with_versions(admin, tenant):
    url = f"/v1/customers/{tenant.customer_id}"
    renamed = admin.put(url, json={"name": f"{tenant.name} renamed", "labels": [], "version": 1})
    assert renamed.status_code == 200
    assert renamed.json()["version"] == 2
    assert_problem(
        admin.put(url, json={"name": "stale", "labels": [], "version": 1}), 409, problem_type="version-conflict"
    )
    assert admin.get(url).json()["name"] == f"{tenant.name} renamed"
    assert_problem(admin.put(f"/v1/customers/{uuid.uuid4()}", json={"name": "x", "labels": [], "version": 1}), 404)


def test_tenant_sees_only_itself(tenant, other_tenant):
    api = tenant.api(scopes=["exitus/customer.read"])
    listed = api.get("/v1/customers").json()["customers"]
    assert [c["id"] for c in listed] == [tenant.customer_id]
    assert api.get(f"/v1/customers/{tenant.customer_id}").json()["name"] == tenant.name
    assert_problem(api.get(f"/v1/customers/{other_tenant.customer_id}"), 404)


def test_tenant_updates_only_itself(tenant, other_tenant):
    api = tenant.api(scopes=["exitus/customer.write"])
    own = api.put(
        f"/v1/customers/{tenant.customer_id}",
        json={"name": tenant.name, "description": "ours", "labels": ["gold"], "version": 1},
    )
    assert own.status_code == 200, own.text
    assert (own.json()["description"], own.json()["labels"], own.json()["version"]) == ("ours", ["gold"], 2)
    other = api.put(f"/v1/customers/{other_tenant.customer_id}", json={"name": "taken", "labels": [], "version": 1})
    assert_problem(other, 404)


def test_a_tenant_cannot_rename_itself_and_learns_nothing_of_other_names(admin, tenant, other_tenant):
    """A tenant's rename is 403 whatever the name: taken by another customer (in any case), free, or its own in
    another case. The answers are the same, so a tenant cannot probe which names other customers have (nor take
    a name before its owner signs up); nothing changes."""
    url = f"/v1/customers/{tenant.customer_id}"
    api = tenant.api(scopes=["exitus/customer.write"])
    names = [other_tenant.name, other_tenant.name.upper(), f"free {uuid.uuid4()}", tenant.name.upper()]
    answers = set()
    for name in names:
        response = api.put(url, json={"name": name, "labels": [], "version": 1})
        body = assert_problem(response, 403, "only platform administrators may rename a customer")
        answers.add((response.status_code, body["detail"], body["title"]))
    assert len(answers) == 1
    current = admin.get(url).json()
    assert (current["name"], current["version"]) == (tenant.name, 1)


def test_admins_rename_customers(admin, tenant, other_tenant):
    url = f"/v1/customers/{tenant.customer_id}"
    assert_problem(admin.put(url, json={"name": other_tenant.name, "labels": [], "version": 1}), 409)
    renamed = admin.put(url, json={"name": f"{tenant.name} renamed", "labels": [], "version": 1})
    assert renamed.status_code == 200
    assert renamed.json()["name"] == f"{tenant.name} renamed"


def test_only_admins_create_customers(tenant):
    body = assert_problem(tenant.api().post("/v1/customers", json={"name": "Mine", "labels": []}), 403)
    assert body["required_scopes"] == ["exitus/customer.admin"]


def test_admin_without_customer_cannot_use_tenant_resources(admin):
    assert_problem(admin.get("/v1/projects"), 403)


def test_unknown_customer_is_404(admin):
    assert_problem(admin.get(f"/v1/customers/{uuid.uuid4()}"), 404, "customer not found")
