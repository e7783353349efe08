"""Comments through HTTP."""

import uuid

from tests.conftest import assert_problem


def _issue(tenant):
    project = tenant.create_project()
    return project, tenant.create_issue(project["id"])


def test_create_records_the_caller_as_author(tenant):
    project, issue = _issue(tenant)
    api = tenant.api(subject="commenter", name="Commenter", email="c@example.com")
    base = f"/v1/projects/{project['id']}/issues/{issue['id']}/comments"
    created = api.post(base, json={"content": "Me too"})
    assert created.status_code == 201
    comment = created.json()
    assert created.headers["location"] == f"{base}/{comment['id']}"
    me = api.get("/v1/users/me").json()
    assert comment["author"] == {"id": me["id"], "name": "Commenter", "email": "c@example.com"}
    assert comment["issue_id"] == issue["id"]
    assert comment["content"] == "Me too"
    assert api.get(created.headers["location"]).json() == comment


def test_list_is_a_flat_page_and_searchable(tenant):
    project, issue = _issue(tenant)
    for text in ("first", "second", "third FIRST"):
        tenant.create_comment(project["id"], issue["id"], text)
    api = tenant.api()
    base = f"/v1/projects/{project['id']}/issues/{issue['id']}/comments"
    listed = api.get(base).json()
    assert [c["content"] for c in listed["comments"]] == ["first", "second", "third FIRST"]
    assert [c["content"] for c in api.get(base, params={"q": "first"}).json()["comments"]] == ["first", "third FIRST"]
    assert [c["content"] for c in api.get(base, params={"limit": 1, "offset": 1}).json()["comments"]] == ["second"]


def test_update_and_conflict(tenant):
    project, issue = _issue(tenant)
    comment = tenant.create_comment(project["id"], issue["id"])
    api = tenant.api()
    url = f"/v1/projects/{project['id']}/issues/{issue['id']}/comments/{comment['id']}"
    updated = api.put(url, json={"content": "edited", "version": 1})
    assert updated.status_code == 200
    assert updated.json()["content"] == "edited"
    assert updated.json()["version"] == 2
    assert_problem(api.put(url, json={"content": "again", "version": 1}), 409, problem_type="version-conflict")
    assert api.get(url).json()["content"] == "edited"


def test_unknown_issue_or_comment_is_404(tenant):
    project, issue = _issue(tenant)
    api = tenant.api()
    missing_issue = f"/v1/projects/{project['id']}/issues/{uuid.uuid4()}/comments"
    assert_problem(api.get(missing_issue), 404)
    assert_problem(api.post(missing_issue, json={"content": "x"}), 404, "issue not found")
    url = f"/v1/projects/{project['id']}/issues/{issue['id']}/comments/{uuid.uuid4()}"
    assert_problem(api.get(url), 404, "comment not found")
    assert_problem(api.put(url, json={"content": "x", "version": 1}), 404)


def test_another_customers_comments_are_invisible(tenant, other_tenant):
    project, issue = _issue(other_tenant)
    comment = other_tenant.create_comment(project["id"], issue["id"], "private")
    api = tenant.api()
    base = f"/v1/projects/{project['id']}/issues/{issue['id']}/comments"
    assert_problem(api.get(base), 404)
    assert_problem(api.post(base, json={"content": "spam"}), 404)
    assert_problem(api.get(f"{base}/{comment['id']}"), 404)
    assert_problem(api.put(f"{base}/{comment['id']}", json={"content": "pwned", "version": 1}), 404)
    assert [c["content"] for c in other_tenant.api().get(base).json()["comments"]] == ["private"]


def test_invalid_comment_bodies_are_400(tenant):
    project, issue = _issue(tenant)
    api = tenant.api()
    base = f"/v1/projects/{project['id']}/issues/{issue['id']}/comments"
    for body in ({}, {"content": ""}, {"content": "x", "author": str(uuid.uuid4())}, {"content": 5}):
        assert_problem(api.post(base, json=body), 400)
    assert api.get(base).json()["comments"] == []


def test_comment_scopes(tenant):
    project, issue = _issue(tenant)
    base = f"/v1/projects/{project['id']}/issues/{issue['id']}/comments"
    body = assert_problem(tenant.api(scopes=["exitus/comment.read"]).post(base, json={"content": "x"}), 403)
    assert body["required_scopes"] == ["exitus/comment.write"]
