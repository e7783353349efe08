"""Projects through HTTP: the happy path and every error the spec declares."""

import uuid

from tests.conftest import assert_problem


def test_create_then_read_a_project(tenant):
    api = tenant.api()
    created = api.post("/v1/projects", json={"name": "Apollo", "description": "moon", "labels": ["space", "nasa"]})
    assert created.status_code == 201
    project = created.json()
    assert created.headers["location"] == f"/v1/projects/{project['id']}"
    assert project["name"] == "Apollo"
    assert project["description"] == "moon"
    assert project["labels"] == ["space", "nasa"]
    assert project["version"] == 1
    assert project["created_at"] == project["updated_at"]
    fetched = api.get(created.headers["location"])
    assert fetched.status_code == 200
    assert fetched.json() == project


def test_description_defaults_to_empty(tenant):
    assert tenant.create_project("Plain")["description"] == ""


def test_names_are_unique_per_customer_case_insensitively(tenant, other_tenant):
    tenant.create_project("Gemini")
    duplicate = tenant.api().post("/v1/projects", json={"name": "GEMINI", "labels": []})
    assert_problem(duplicate, 409, "already exists")
    # another customer may use the same name
    assert other_tenant.create_project("Gemini")["name"] == "Gemini"


def test_list_pages_and_searches(tenant):
    for name in ("alpha one", "beta two", "Alpha three", "gamma 100%_done"):
        tenant.create_project(name)
    api = tenant.api()
    everything = api.get("/v1/projects").json()
    assert [p["name"] for p in everything["projects"]] == ["alpha one", "beta two", "Alpha three", "gamma 100%_done"]
    assert everything["offset"] == 0 and everything["limit"] == 50
    page = api.get("/v1/projects", params={"offset": 1, "limit": 2}).json()
    assert [p["name"] for p in page["projects"]] == ["beta two", "Alpha three"]
    assert page["offset"] == 1 and page["limit"] == 2
    found = api.get("/v1/projects", params={"q": "ALPHA"}).json()
    assert [p["name"] for p in found["projects"]] == ["alpha one", "Alpha three"]
    # LIKE wildcards in q are literal characters
    assert [p["name"] for p in api.get("/v1/projects", params={"q": "%_"}).json()["projects"]] == ["gamma 100%_done"]
    assert api.get("/v1/projects", params={"q": "_"}).json()["projects"] == [
        p for p in everything["projects"] if "_" in p["name"]
    ]


def test_list_limits_are_enforced(tenant):
    api = tenant.api()
    assert_problem(api.get("/v1/projects", params={"limit": 101}), 400)
    assert_problem(api.get("/v1/projects", params={"limit": 0}), 400)
    assert_problem(api.get("/v1/projects", params={"offset": -1}), 400)
    assert_problem(api.get("/v1/projects", params={"unknown": "x"}), 400)


def test_update_with_current_version(tenant):
    project = tenant.create_project("Mercury")
    api = tenant.api()
    body = {"name": "Mercury 7", "description": "seven", "labels": ["x"], "version": 1}
    updated = api.put(f"/v1/projects/{project['id']}", json=body)
    assert updated.status_code == 200
    assert updated.json()["version"] == 2
    assert updated.json()["name"] == "Mercury 7"
    assert updated.json()["updated_at"] > project["updated_at"]
    assert api.get(f"/v1/projects/{project['id']}").json() == updated.json()


def test_stale_version_conflicts_and_changes_nothing(tenant):
    project = tenant.create_project("Vostok")
    api = tenant.api()
    assert api.put(f"/v1/projects/{project['id']}", json={"name": "V1", "labels": [], "version": 1}).status_code == 200
    stale = api.put(f"/v1/projects/{project['id']}", json={"name": "V2", "labels": [], "version": 1})
    assert_problem(stale, 409, "version 1", problem_type="version-conflict")
    assert api.get(f"/v1/projects/{project['id']}").json()["name"] == "V1"


def test_rename_to_an_existing_name_conflicts(tenant):
    tenant.create_project("Soyuz")
    other = tenant.create_project("Salyut")
    api = tenant.api()
    clash = api.put(f"/v1/projects/{other['id']}", json={"name": "soyuz", "labels": [], "version": 1})
    assert_problem(clash, 409, "already exists")
    assert api.get(f"/v1/projects/{other['id']}").json()["name"] == "Salyut"


def test_unknown_project_is_404(tenant):
    api = tenant.api()
    missing = uuid.uuid4()
    assert_problem(api.get(f"/v1/projects/{missing}"), 404, "project not found")
    assert_problem(api.put(f"/v1/projects/{missing}", json={"name": "x", "labels": [], "version": 1}), 404)


def test_another_customers_project_is_invisible(tenant, other_tenant):
    theirs = other_tenant.create_project("Secret")
    api = tenant.api()
    assert_problem(api.get(f"/v1/projects/{theirs['id']}"), 404)
    assert_problem(api.put(f"/v1/projects/{theirs['id']}", json={"name": "Mine", "labels": [], "version": 1}), 404)
    assert api.get("/v1/projects").json()["projects"] == []
    assert other_tenant.api().get(f"/v1/projects/{theirs['id']}").json()["name"] == "Secret"


def test_invalid_bodies_are_400_and_change_nothing(tenant):
    api = tenant.api()
    bad_bodies = [
        {},
        {"name": "", "labels": []},
        {"name": "   ", "labels": []},
        {"name": "x" * 201, "labels": []},
        {"name": "nul\u0000byte", "labels": []},
        {"name": "ok", "labels": "not-an-array"},
        {"name": "ok", "labels": ["x" * 65]},
        {"name": "ok", "labels": [str(i) for i in range(33)]},
        {"name": "ok", "labels": [], "id": str(uuid.uuid4())},
        {"name": "ok", "labels": [], "customer_id": str(uuid.uuid4())},
        {"name": "ok", "labels": [], "version": 5},
    ]
    for body in bad_bodies:
        assert_problem(api.post("/v1/projects", json=body), 400)
    assert_problem(api.post("/v1/projects", content=b"{not json", headers={"Content-Type": "application/json"}), 400)
    assert_problem(api.post("/v1/projects", content=b"name=x", headers={"Content-Type": "text/plain"}), 415)
    assert api.get("/v1/projects").json()["projects"] == []


def test_validation_errors_do_not_echo_large_values(tenant):
    huge = "A" * 5000
    body = assert_problem(tenant.api().post("/v1/projects", json={"name": huge, "labels": []}), 400)
    assert huge not in body["detail"]
    assert len(body["detail"]) <= 500


def test_malformed_ids_are_400(tenant):
    api = tenant.api()
    assert_problem(api.get("/v1/projects/not-a-uuid"), 400)
    assert_problem(api.get("/v1/projects/%00"), 400)


def test_scopes_are_enforced(tenant):
    read_only = tenant.api(scopes=["exitus/project.read"])
    body = assert_problem(read_only.post("/v1/projects", json={"name": "x", "labels": []}), 403)
    assert body["required_scopes"] == ["exitus/project.write"]
    write_only = tenant.api(scopes=["exitus/project.write"])
    assert_problem(write_only.get("/v1/projects"), 403)


def test_missing_token_is_401_with_challenge(http):
    response = http.get("/v1/projects")
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
