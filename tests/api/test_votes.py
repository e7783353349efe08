"""Votes through HTTP: idempotent per user, counted on the issue, `voted` per caller, audited, kept to the customer."""

from __future__ import annotations

import concurrent.futures
import threading
import uuid

from tests.conftest import Tenant, assert_problem


def voters_issue(tenant: Tenant) -> tuple[str, str]:
    """A new issue: its URL and its votes/me URL."""
    project = tenant.create_project()
    issue = tenant.create_issue(project["id"])
    url = f"/v1/projects/{project['id']}/issues/{issue['id']}"
    return url, f"{url}/votes/me"


def test_votes_are_counted_per_user_and_repeating_one_changes_nothing(tenant: Tenant):
    url, me = voters_issue(tenant)
    ann, ben = tenant.api(subject="ann"), tenant.api(subject="ben")

    def seen_by(api) -> tuple[int, bool]:
        issue = api.get(url).json()
        return issue["votes"], issue["voted"]

    assert seen_by(ann) == seen_by(ben) == (0, False)
    for _ in range(2):
        response = ann.put(me)
        assert response.status_code == 204, response.text
        assert response.content == b""
    assert (seen_by(ann), seen_by(ben)) == ((1, True), (1, False))
    assert ben.put(me).status_code == 204
    assert (seen_by(ann), seen_by(ben)) == ((2, True), (2, True))
    for _ in range(2):
        assert ann.delete(me).status_code == 204
    assert (seen_by(ann), seen_by(ben)) == ((1, False), (1, True))
    assert ben.delete(me).status_code == 204
    assert (seen_by(ann), seen_by(ben)) == ((0, False), (0, False))
    assert ann.get(url).json()["version"] == 1  # a vote is no edit: clients' updates based on version 1 still apply


def test_a_list_shows_each_callers_own_votes(tenant: Tenant):
    project = tenant.create_project()
    first, second = tenant.create_issue(project["id"]), tenant.create_issue(project["id"])
    ann, ben = tenant.api(subject="ann"), tenant.api(subject="ben")
    base = f"/v1/projects/{project['id']}/issues"
    assert ann.put(f"{base}/{first['id']}/votes/me").status_code == 204
    assert ben.put(f"{base}/{first['id']}/votes/me").status_code == 204
    assert ben.put(f"{base}/{second['id']}/votes/me").status_code == 204

    def listed(api) -> list[tuple[int, bool]]:
        return [(i["votes"], i["voted"]) for i in api.get(base).json()["issues"]]

    assert listed(ann) == [(2, True), (1, False)]
    assert listed(ben) == [(2, True), (1, True)]
    assert listed(tenant.api(subject="cid")) == [(2, False), (1, False)]


def test_concurrent_votes_of_many_users_are_all_counted(tenant: Tenant):
    url, me = voters_issue(tenant)
    tokens = [tenant.token(subject=f"voter-{n}") for n in range(12)]
    for token in tokens:  # known users, so the votes themselves are what runs concurrently
        assert tenant.http.get("/v1/users/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    start = threading.Barrier(len(tokens))

    def vote_twice(token: str) -> tuple[int, int]:
        start.wait()
        headers = {"Authorization": f"Bearer {token}"}
        return tenant.http.put(me, headers=headers).status_code, tenant.http.put(me, headers=headers).status_code

    with concurrent.futures.ThreadPoolExecutor(len(tokens)) as pool:
        assert set(pool.map(vote_twice, tokens)) == {(204, 204)}
    assert tenant.api().get(url).json()["votes"] == len(tokens)


def test_voting_for_an_unknown_issue_is_404(tenant: Tenant):
    project = tenant.create_project()
    missing = f"/v1/projects/{project['id']}/issues/{uuid.uuid4()}/votes/me"
    assert_problem(tenant.api().put(missing), 404, "issue not found")
    assert_problem(tenant.api().delete(missing), 404, "issue not found")
    assert_problem(tenant.api().put(f"/v1/projects/{uuid.uuid4()}/issues/{uuid.uuid4()}/votes/me"), 404)
    assert_problem(tenant.api().put(f"/v1/projects/{project['id']}/issues/not-an-id/votes/me"), 400)


def test_another_customers_issue_cannot_be_voted_for_or_unvoted(tenant: Tenant, other_tenant: Tenant):
    url, me = voters_issue(other_tenant)
    assert other_tenant.api().put(me).status_code == 204
    assert_problem(tenant.api().put(me), 404)
    assert_problem(tenant.api().delete(me), 404)
    issue = other_tenant.api().get(url).json()
    assert (issue["votes"], issue["voted"]) == (1, True)


def test_votes_need_the_issue_write_scope(tenant: Tenant):
    _, me = voters_issue(tenant)
    reader = tenant.api(scopes=["exitus/issue.read"])
    assert reader.put(me).status_code == 403
    assert reader.delete(me).status_code == 403


def test_a_vote_changes_the_issues_tag_for_every_reader_but_not_what_if_match_guards(tenant: Tenant):
    """`votes` and `voted` change without a new version: the ETag must still change (If-None-Match sees a new
    representation), while an edit guarded by the tag read before the vote still applies (If-Match compares id and
    version)."""
    url, me = voters_issue(tenant)
    ann, ben = tenant.api(subject="ann"), tenant.api(subject="ben")
    before = {name: api.get(url).headers["etag"] for name, api in (("ann", ann), ("ben", ben))}
    assert ann.put(me).status_code == 204
    for name, api in (("ann", ann), ("ben", ben)):
        reread = api.get(url, headers={"If-None-Match": before[name]})
        assert reread.status_code == 200, (name, reread.status_code)  # the count changed, and ann's `voted`
        assert reread.headers["etag"] != before[name], name
    issue = ann.get(url).json()
    update = {key: issue[key] for key in ("subject", "content", "severity", "category", "labels", "version")}
    edited = ann.put(url, json={**update, "subject": "edited after a vote"}, headers={"If-Match": before["ann"]})
    assert edited.status_code == 200, edited.text
    stale = ann.put(url, json={**update, "version": 2}, headers={"If-Match": before["ann"]})
    assert_problem(stale, 412, problem_type="precondition-failed")


def test_a_vote_with_a_stale_tag_is_refused_and_not_counted(tenant: Tenant):
    url, me = voters_issue(tenant)
    api = tenant.api()
    tag = api.get(url).headers["etag"]
    issue = api.get(url).json()
    update = {key: issue[key] for key in ("subject", "content", "severity", "category", "labels", "version")}
    assert api.put(url, json={**update, "subject": "changed"}).status_code == 200
    assert_problem(api.put(me, headers={"If-Match": tag}), 412, problem_type="precondition-failed")
    assert api.get(url).json()["votes"] == 0
    assert api.put(me, headers={"If-Match": api.get(url).headers["etag"]}).status_code == 204
    assert api.get(url).json()["votes"] == 1
