"""Issues through HTTP."""

import concurrent.futures
import threading
import uuid

from tests.conftest import assert_problem

NEW_ISSUE = {"subject": "Crash", "content": "It crashes", "severity": "critical", "category": "bug", "labels": ["x"]}


def _me(api):
    return api.get("/v1/users/me").json()


def test_create_records_the_caller_as_reporter(tenant):
    project = tenant.create_project()
    api = tenant.api(subject="reporter-1", email="rep@example.com", name="Rep")
    created = api.post(f"/v1/projects/{project['id']}/issues", json=NEW_ISSUE)
    assert created.status_code == 201
    issue = created.json()
    assert created.headers["location"] == f"/v1/projects/{project['id']}/issues/{issue['id']}"
    assert issue["reporter"] == {"id": _me(api)["id"], "name": "Rep", "email": "rep@example.com"}
    assert issue["state"] == "open"
    assert issue["assignee"] is None
    assert (issue["number"], issue["votes"], issue["voted"]) == (1, 0, False)
    assert issue["project_id"] == project["id"]
    assert {k: issue[k] for k in NEW_ISSUE} == NEW_ISSUE
    assert api.get(created.headers["location"]).json() == issue


def test_reporter_cannot_be_set_from_the_body(tenant):
    project = tenant.create_project()
    body = {**NEW_ISSUE, "reporter": str(uuid.uuid4())}
    assert_problem(tenant.api().post(f"/v1/projects/{project['id']}/issues", json=body), 400)
    body = {**NEW_ISSUE, "state": "closed"}
    assert_problem(tenant.api().post(f"/v1/projects/{project['id']}/issues", json=body), 400)


def test_assignee_must_be_a_user_of_the_customer(tenant, other_tenant):
    project = tenant.create_project()
    assignee_api = tenant.api(subject="assignee")
    assignee = _me(assignee_api)["id"]
    issue = tenant.create_issue(project["id"], assignee=assignee)
    assert issue["assignee"] == {"id": assignee, "name": None, "email": None}  # the token named neither
    stranger = _me(other_tenant.api())["id"]
    bad = tenant.api().post(f"/v1/projects/{project['id']}/issues", json={**NEW_ISSUE, "assignee": stranger})
    assert_problem(bad, 409, "assignee")
    listed = tenant.api().get(f"/v1/projects/{project['id']}/issues").json()["issues"]
    assert [i["id"] for i in listed] == [issue["id"]]


def test_update_changes_state_and_keeps_it_when_omitted(tenant):
    project = tenant.create_project()
    issue = tenant.create_issue(project["id"])
    api = tenant.api()
    url = f"/v1/projects/{project['id']}/issues/{issue['id']}"
    closed = api.put(url, json={**NEW_ISSUE, "state": "closed", "version": 1})
    assert closed.status_code == 200
    assert closed.json()["state"] == "closed"
    assert closed.json()["version"] == 2
    kept = api.put(url, json={**NEW_ISSUE, "subject": "Renamed", "version": 2}).json()
    assert kept["state"] == "closed"
    assert kept["subject"] == "Renamed"
    assert kept["reporter"] == issue["reporter"]


def test_stale_issue_update_conflicts_and_changes_nothing(tenant):
    project = tenant.create_project()
    issue = tenant.create_issue(project["id"])
    api = tenant.api()
    url = f"/v1/projects/{project['id']}/issues/{issue['id']}"
    assert api.put(url, json={**NEW_ISSUE, "subject": "First", "version": 1}).status_code == 200
    assert_problem(
        api.put(url, json={**NEW_ISSUE, "subject": "Second", "version": 1}), 409, problem_type="version-conflict"
    )
    assert api.get(url).json()["subject"] == "First"


def test_issue_in_unknown_project_is_404(tenant):
    api = tenant.api()
    missing = uuid.uuid4()
    assert_problem(api.post(f"/v1/projects/{missing}/issues", json=NEW_ISSUE), 404, "project not found")
    assert_problem(api.get(f"/v1/projects/{missing}/issues"), 404)
    assert_problem(api.get(f"/v1/projects/{missing}/issues/{uuid.uuid4()}"), 404)


def test_unknown_issue_is_404(tenant):
    project = tenant.create_project()
    api = tenant.api()
    url = f"/v1/projects/{project['id']}/issues/{uuid.uuid4()}"
    assert_problem(api.get(url), 404, "issue not found")
    assert_problem(api.put(url, json={**NEW_ISSUE, "version": 1}), 404)


def test_issue_of_another_project_is_404(tenant):
    first, second = tenant.create_project(), tenant.create_project()
    issue = tenant.create_issue(first["id"])
    assert_problem(tenant.api().get(f"/v1/projects/{second['id']}/issues/{issue['id']}"), 404)


def test_another_customers_issues_are_invisible(tenant, other_tenant):
    project = other_tenant.create_project()
    issue = other_tenant.create_issue(project["id"])
    api = tenant.api()
    base = f"/v1/projects/{project['id']}/issues"
    assert_problem(api.get(base), 404)
    assert_problem(api.get(f"{base}/{issue['id']}"), 404)
    assert_problem(api.post(base, json=NEW_ISSUE), 404)
    assert_problem(api.put(f"{base}/{issue['id']}", json={**NEW_ISSUE, "subject": "pwned", "version": 1}), 404)
    assert other_tenant.api().get(f"{base}/{issue['id']}").json()["subject"] == issue["subject"]


def test_list_searches_subject_and_content_and_pages(tenant):
    project = tenant.create_project()
    for subject, content in (("Login fails", "500 on submit"), ("Slow page", "the LOGIN page"), ("Typo", "none")):
        tenant.create_issue(project["id"], subject=subject, content=content)
    api = tenant.api()
    base = f"/v1/projects/{project['id']}/issues"
    assert [i["subject"] for i in api.get(base, params={"q": "login"}).json()["issues"]] == ["Login fails", "Slow page"]
    page = api.get(base, params={"offset": 2, "limit": 1}).json()
    assert [i["subject"] for i in page["issues"]] == ["Typo"]
    assert api.get(base, params={"offset": 10}).json()["issues"] == []


def test_invalid_issue_bodies_are_400(tenant):
    project = tenant.create_project()
    api = tenant.api()
    base = f"/v1/projects/{project['id']}/issues"
    for body in (
        {**NEW_ISSUE, "severity": "apocalyptic"},
        {**NEW_ISSUE, "category": "rant"},
        {k: v for k, v in NEW_ISSUE.items() if k != "subject"},
        {**NEW_ISSUE, "assignee": "not-a-uuid"},
        {**NEW_ISSUE, "content": "a\u0000b"},
    ):
        assert_problem(api.post(base, json=body), 400)
    assert api.get(base).json()["issues"] == []


def test_put_issue_requires_a_body(tenant):
    project = tenant.create_project()
    issue = tenant.create_issue(project["id"])
    url = f"/v1/projects/{project['id']}/issues/{issue['id']}"
    assert_problem(tenant.api().put(url), 400)


def test_search_is_a_literal_case_insensitive_substring_of_this_project_only(tenant):
    project, other_project = tenant.create_project(), tenant.create_project()
    for subject, content in (
        ("Disk 100% full", "df says so"),
        ("Disk 100 full", "a percent sign is missing"),
        ("snake_case keys", "rejected"),
        ("snakeXcase keys", "an underscore is not any character"),
        ("Quiet", "the ZEPPELIN build hangs"),
    ):
        tenant.create_issue(project["id"], subject=subject, content=content)
    tenant.create_issue(other_project["id"], subject="Disk 100% full elsewhere", content="zeppelin too")
    api = tenant.api()
    base = f"/v1/projects/{project['id']}/issues"

    def subjects(q: str, **params) -> list[str]:
        response = api.get(base, params={"q": q, **params})
        assert response.status_code == 200, response.text
        return [i["subject"] for i in response.json()["issues"]]

    assert subjects("100%") == ["Disk 100% full"]
    assert subjects("e_c") == ["snake_case keys"]
    assert subjects("zeppelin") == subjects("Zeppelin") == ["Quiet"]
    assert subjects("\\") == []
    assert subjects("disk") == ["Disk 100% full", "Disk 100 full"]  # oldest first
    assert subjects("disk", offset=1, limit=1) == ["Disk 100 full"]


def test_concurrent_creates_in_one_project_are_numbered_1_to_20(tenant):
    project, other = tenant.create_project(), tenant.create_project()
    base = f"/v1/projects/{project['id']}/issues"
    tokens = [tenant.token(subject=f"creator-{n}") for n in range(20)]
    for token in tokens:  # known users: a new one's first request writes (and waits on) the customer's audit chain
        assert tenant.http.get("/v1/users/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    start = threading.Barrier(len(tokens))

    def create(token: str) -> int:
        start.wait()
        response = tenant.http.post(base, json=NEW_ISSUE, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.text
        return response.json()["number"]

    with concurrent.futures.ThreadPoolExecutor(len(tokens)) as pool:
        numbers = list(pool.map(create, tokens))
    assert sorted(numbers) == list(range(1, 21))
    listed = tenant.api().get(base, params={"limit": 100}).json()["issues"]
    assert sorted(i["number"] for i in listed) == list(range(1, 21))
    assert tenant.create_issue(other["id"])["number"] == 1  # each project counts its own


def test_a_failed_create_uses_no_number(tenant, other_tenant):
    project = tenant.create_project()
    base = f"/v1/projects/{project['id']}/issues"
    assert tenant.create_issue(project["id"])["number"] == 1
    stranger = _me(other_tenant.api())["id"]
    assert_problem(tenant.api().post(base, json={**NEW_ISSUE, "assignee": stranger}), 409)  # rolled back
    assert tenant.create_issue(project["id"])["number"] == 2


def test_an_issue_is_found_by_its_number_in_its_project_only(tenant, other_tenant):
    first, second = tenant.create_project(), tenant.create_project()
    one = tenant.create_issue(first["id"], subject="one")
    two = tenant.create_issue(first["id"], subject="two")
    elsewhere = tenant.create_issue(second["id"], subject="elsewhere")
    api = tenant.api()
    for project, issue in ((first, one), (first, two), (second, elsewhere)):
        found = api.get(f"/v1/projects/{project['id']}/issues/by-number/{issue['number']}")
        assert found.status_code == 200, found.text
        assert found.json() == issue
    assert_problem(api.get(f"/v1/projects/{first['id']}/issues/by-number/3"), 404, "no issue #3")
    assert_problem(api.get(f"/v1/projects/{uuid.uuid4()}/issues/by-number/1"), 404)
    for bad in ("0", "-1", "2147483648"):
        assert_problem(api.get(f"/v1/projects/{first['id']}/issues/by-number/{bad}"), 400)
    for not_a_number in ("x", "1.5"):  # the route takes integers only: no such resource
        assert_problem(api.get(f"/v1/projects/{first['id']}/issues/by-number/{not_a_number}"), 404)
    theirs = other_tenant.create_project()
    other_tenant.create_issue(theirs["id"])
    assert_problem(api.get(f"/v1/projects/{theirs['id']}/issues/by-number/1"), 404)


def test_reporter_and_assignee_are_users_with_their_current_profile(tenant):
    project = tenant.create_project()
    reporter = tenant.api(subject="rep", name="Rita", email="rita@example.com")
    assignee = _me(tenant.api(subject="ass", name="Sam", email="sam@example.com"))
    created = reporter.post(f"/v1/projects/{project['id']}/issues", json={**NEW_ISSUE, "assignee": assignee["id"]})
    issue = created.json()
    assert issue["reporter"] == {"id": _me(reporter)["id"], "name": "Rita", "email": "rita@example.com"}
    assert issue["assignee"] == {"id": assignee["id"], "name": "Sam", "email": "sam@example.com"}
    _me(tenant.api(subject="ass", name="Samantha", email="sam@example.com"))  # a new token, a new name
    url = f"/v1/projects/{project['id']}/issues/{issue['id']}"
    for shown in (
        tenant.api().get(url).json(),
        tenant.api().get(f"/v1/projects/{project['id']}/issues").json()["issues"][0],
    ):
        assert shown["assignee"]["name"] == "Samantha"
    unassigned = tenant.api().put(url, json={**NEW_ISSUE, "version": 1})  # the body still names users by id
    assert unassigned.json()["assignee"] is None
    reassigned = tenant.api().put(url, json={**NEW_ISSUE, "assignee": assignee["id"], "version": 2}).json()
    assert reassigned["assignee"]["id"] == assignee["id"]
    assert_problem(tenant.api().put(url, json={**NEW_ISSUE, "assignee": assignee, "version": 3}), 400)
