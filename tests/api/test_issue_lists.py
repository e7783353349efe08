"""GET /v1/projects/{project_id}/issues as a list that scales: filters, sorts, keyset cursors (Link rel=next), counts,
and the search path (exitus/api/issues.py, queries/issues.sql, migrations/0007.list-indexes.sql)."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from exitus.api import issues as issues_api
from tests.conftest import Api, Tenant

NEXT = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


def issues_path(project_id: str) -> str:
    return f"/v1/projects/{project_id}/issues"


def listed(api: Api, project_id: str, **params: Any) -> list[dict[str, Any]]:
    response = api.get(issues_path(project_id), params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    assert "link" not in response.headers  # fewer than 100 here: one page
    return response.json()["issues"]


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["id"] for row in rows]


def walk(api: Api, first: str, between_pages=lambda page: None) -> tuple[list[str], int]:
    """Every page from `first` by the Link headers: the ids in the order seen, and how many pages."""
    seen, url, pages = [], first, 0
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.text
        pages += 1
        seen += ids(response.json()["issues"])
        link = response.headers.get("link")
        url = NEXT.match(link)["url"] if link else None
        if url:
            between_pages(pages)
    return seen, pages


@pytest.fixture
def world(tenant: Tenant) -> dict[str, Any]:
    """A project with issues that differ in every filtered field; two reporters; in a known creation order."""
    alice, bob = tenant.api(subject="alice"), tenant.api(subject="bob")
    alice_id = alice.get("/v1/users/me").json()["id"]
    bob_id = bob.get("/v1/users/me").json()["id"]
    project = tenant.create_project()["id"]
    specs = [
        # (reporter, severity, category, labels, assignee, subject)
        (alice, "low", "bug", ["ui"], None, "crash in the login form"),
        (alice, "critical", "feature", ["ui", "api"], bob_id, "export to zeppelin format"),
        (bob, "medium", "task", [], alice_id, "tidy the build"),
        (bob, "high", "bug", ["api"], None, "timeout on big exports"),
        (alice, "critical", "question", ["ui", "api", "docs"], bob_id, "why does the Zeppelin view lag"),
        (bob, "low", "improvement", ["docs"], bob_id, "typo in the docs"),
    ]
    created = []
    for api, severity, category, labels, assignee, subject in specs:
        body = {"subject": subject, "content": "body", "severity": severity, "category": category, "labels": labels}
        if assignee:
            body["assignee"] = assignee
        response = api.post(issues_path(project), json=body)
        assert response.status_code == 201, response.text
        created.append(response.json())
    closed = created[3]
    response = alice.put(
        f"{issues_path(project)}/{closed['id']}",
        json={**{k: closed[k] for k in ("subject", "content", "severity", "category", "labels", "version")},
              "state": "closed", "assignee": None},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    created[3] = response.json()
    return {"api": alice, "project": project, "issues": created, "alice": alice_id, "bob": bob_id}


def pick(world: dict[str, Any], *positions: int) -> set[str]:
    return {world["issues"][i]["id"] for i in positions}


# Expectations by position in `world`'s creation list (0..5), written from the table above, not from the service.
FILTERS = [
    ({"state": "open"}, {0, 1, 2, 4, 5}),
    ({"state": "closed"}, {3}),
    ({"state": ["closed", "in_progress"]}, {3}),
    ({"severity": "critical"}, {1, 4}),
    ({"severity": ["low", "high"]}, {0, 3, 5}),
    ({"category": "bug"}, {0, 3}),
    ({"category": ["question", "task"]}, {2, 4}),
    ({"labels": "ui"}, {0, 1, 4}),
    ({"labels": ["ui", "api"]}, {1, 4}),
    ({"labels": ["api", "docs"]}, {4}),
    ({"assignee": "none"}, {0, 3}),
    ({"assignee": "@bob"}, {1, 4, 5}),
    ({"reporter": "@bob"}, {2, 3, 5}),
    ({"q": "zeppelin"}, {1, 4}),
    ({"q": "export"}, {1, 3}),
    # combined
    ({"severity": "critical", "labels": "docs"}, {4}),
    ({"state": "open", "category": "bug"}, {0}),
    ({"reporter": "@alice", "assignee": "@bob", "q": "zeppelin"}, {1, 4}),
    ({"reporter": "@bob", "assignee": "none", "state": "closed", "labels": "api", "q": "timeout"}, {3}),
    ({"severity": ["low", "medium"], "reporter": "@alice"}, {0}),
]


def resolve(world: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return {k: world[v[1:]] if isinstance(v, str) and v.startswith("@") else v for k, v in params.items()}


@pytest.mark.parametrize(("params", "expected"), FILTERS, ids=[json.dumps(p) for p, _ in FILTERS])
def test_each_filter_alone_and_combined(world, params, expected):
    params = resolve(world, params)
    rows = listed(world["api"], world["project"], **params)
    assert set(ids(rows)) == pick(world, *expected)
    response = world["api"].get(issues_path(world["project"]), params={**params, "count": "true"})
    assert response.headers["x-total-count"] == str(len(expected))


def test_the_search_finds_the_same_issues_when_it_walks_instead_of_asking_the_index(world, monkeypatch):
    # Above SEARCH_CAP matches the list walks the project and filters; below, it takes the ids the index found.
    for cap in (issues_api.SEARCH_CAP, 1):
        monkeypatch.setattr(issues_api, "SEARCH_CAP", cap)
        for params, expected in (
            ({"q": "zeppelin"}, {1, 4}),
            ({"q": "ZEPPELIN", "severity": "critical", "labels": "docs"}, {4}),
            ({"q": "e", "state": "open"}, {0, 1, 2, 4, 5}),
            ({"q": "the d"}, {5}),
        ):
            assert set(ids(listed(world["api"], world["project"], **params))) == pick(world, *expected), (cap, params)


def test_created_and_updated_time_filters(world):
    api, project, made = world["api"], world["project"], world["issues"]
    # made[3] was updated last (closed after everything was created).
    assert set(ids(listed(api, project, created_after=made[2]["created_at"]))) == pick(world, 3, 4, 5)
    assert set(ids(listed(api, project, created_before=made[2]["created_at"]))) == pick(world, 0, 1)
    between = {"created_after": made[0]["created_at"], "created_before": made[5]["created_at"]}
    assert set(ids(listed(api, project, **between))) == pick(world, 1, 2, 3, 4)
    assert set(ids(listed(api, project, updated_after=made[5]["updated_at"]))) == pick(world, 3)
    assert set(ids(listed(api, project, updated_before=made[5]["updated_at"]))) == pick(world, 0, 1, 2, 4)


SEVERITY_ORDER = {"low": 1, "medium": 2, "high": 3, "critical": 4}


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("created", [0, 1, 2, 3, 4, 5]),
        ("-created", [5, 4, 3, 2, 1, 0]),
        ("updated", [0, 1, 2, 4, 5, 3]),  # 3 was changed after all were created
        ("-updated", [3, 5, 4, 2, 1, 0]),
        ("severity", [0, 5, 2, 3, 1, 4]),  # low (oldest first), medium, high, critical
        ("-severity", [4, 1, 3, 2, 5, 0]),
    ],
)
def test_each_sort_in_both_directions(world, sort, expected):
    rows = listed(world["api"], world["project"], sort=sort)
    assert ids(rows) == [world["issues"][i]["id"] for i in expected]


@pytest.mark.parametrize("sort", ["created", "-created", "updated", "-updated", "severity", "-severity"])
@pytest.mark.parametrize("limit", [1, 2, 5])
def test_walking_by_link_visits_every_issue_once_in_order(world, sort, limit):
    api, project = world["api"], world["project"]
    everything = ids(listed(api, project, sort=sort))
    seen, pages = walk(api, f"{issues_path(project)}?limit={limit}&sort={sort}")
    assert seen == everything
    assert pages == -(-len(everything) // limit)  # no empty last page: Link is absent on the last one


def test_filters_and_sort_travel_in_the_link(world):
    api, project = world["api"], world["project"]
    first = f"{issues_path(project)}?limit=1&sort=-severity&labels=ui&labels=api&state=open"
    seen, pages = walk(api, first)
    assert seen == [world["issues"][i]["id"] for i in (4, 1)]
    assert pages == 2


def test_a_walk_while_issues_are_inserted_visits_each_existing_and_each_new_one_once(tenant):
    api = tenant.api()
    project = tenant.create_project()["id"]
    before = [tenant.create_issue(project, subject=f"old {i}")["id"] for i in range(7)]
    inserted: list[str] = []

    def insert(page: int) -> None:
        inserted.extend(tenant.create_issue(project, subject=f"new {page}.{i}")["id"] for i in range(2))

    seen, _ = walk(api, f"{issues_path(project)}?limit=3", between_pages=insert)
    assert len(seen) == len(set(seen))
    assert seen == before + inserted  # oldest first: what is inserted during the walk comes after, and is reached
    # Newest first: what is inserted lands before the walk's position; nothing is repeated or skipped.
    inserted.clear()
    everything = list(reversed(ids(listed(api, project))))
    seen, _ = walk(api, f"{issues_path(project)}?limit=3&sort=-created", between_pages=insert)
    assert seen == everything


def test_a_walk_by_updated_tells_changed_issues_where_they_now_sort(world):
    """Documented (the spec's `sort`): an issue changed after it was listed comes again at the end (ascending)."""
    api, project, made = world["api"], world["project"], world["issues"]
    first = made[0]

    def touch(page: int) -> None:
        if page == 1:
            body = {k: first[k] for k in ("subject", "content", "severity", "category", "labels", "version")}
            assert (
                api.put(f"{issues_path(project)}/{first['id']}", json=body | {"subject": "touched"}).status_code == 200
            )

    seen, _ = walk(api, f"{issues_path(project)}?limit=2&sort=updated", between_pages=touch)
    assert seen == [made[i]["id"] for i in (0, 1, 2, 4, 5, 3, 0)]


def test_offset_still_pages_and_combines_with_the_cursor(world):
    api, project = world["api"], world["project"]
    everything = ids(listed(api, project))
    response = api.get(issues_path(project), params={"offset": 2, "limit": 2})
    assert ids(response.json()["issues"]) == everything[2:4]
    assert response.json()["offset"] == 2
    nxt = NEXT.match(response.headers["link"])["url"]
    assert "offset" not in nxt
    assert ids(api.get(nxt).json()["issues"]) == everything[4:6]


def cursor_of(response) -> str:
    return re.search(r"cursor=([^&>]+)", response.headers["link"])[1]


def test_a_tampered_or_foreign_cursor_is_400(world, other_tenant):
    api, project = world["api"], world["project"]
    response = api.get(issues_path(project), params={"limit": 2, "sort": "severity"})
    cursor = cursor_of(response)
    decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))

    def encoded(value: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    fingerprint, position = decoded
    bad = {
        "flipped": cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1],
        "not base64 json": "bm90IGpzb24",
        "a list of one": encoded([fingerprint]),
        "another fingerprint": encoded(["0" * 24, position]),
        "a rank that is text": encoded([fingerprint, {**position, "after_rank": "3"}]),
        "a time that is not one": encoded([fingerprint, {**position, "after_time": "yesterday"}]),
        "an id that is not one": encoded([fingerprint, {**position, "after_id": 7}]),
        "a key missing": encoded([fingerprint, {"after_id": position["after_id"]}]),
    }
    for name, value in bad.items():
        refused = api.get(issues_path(project), params={"limit": 2, "sort": "severity", "cursor": value})
        assert refused.status_code == 400, (name, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["type"] == "/problems/invalid-cursor", name
    assert api.get(issues_path(project), params={"limit": 2, "sort": "severity", "cursor": cursor}).status_code == 200
    # Made for other filters, another sort, another list, another customer: refused.
    for params in ({"sort": "created"}, {"sort": "severity", "state": "open"}, {"sort": "severity", "q": "x"}):
        refused = api.get(issues_path(project), params={"limit": 2, "cursor": cursor, **params})
        assert refused.json()["type"] == "/problems/invalid-cursor", params
    assert api.get("/v1/projects", params={"cursor": cursor}).json()["type"] == "/problems/invalid-cursor"
    foreign_project = other_tenant.create_project()["id"]
    other = other_tenant.api()
    refused = other.get(issues_path(foreign_project), params={"limit": 2, "sort": "severity", "cursor": cursor})
    assert refused.json()["type"] == "/problems/invalid-cursor"


def test_another_customers_ids_in_filters_and_paths_find_nothing(world, other_tenant):
    theirs = other_tenant.create_project()["id"]
    other_tenant.create_issue(theirs, subject="zeppelin of theirs")
    them = other_tenant.api()
    their_user = them.get("/v1/users/me").json()["id"]
    api, project = world["api"], world["project"]
    assert listed(api, project, assignee=their_user) == []
    assert listed(api, project, reporter=their_user) == []
    assert set(ids(listed(api, project, q="zeppelin"))) == pick(world, 1, 4)
    assert api.get(issues_path(theirs), params={"count": "true"}).status_code == 404
    assert them.get(issues_path(project), params={"q": "zeppelin"}).status_code == 404


def test_counts_follow_the_filters_not_the_page(world):
    api, project = world["api"], world["project"]
    response = api.get(issues_path(project), params={"count": "true", "limit": 1, "labels": "ui"})
    assert response.headers["x-total-count"] == "3"
    assert len(response.json()["issues"]) == 1
    nxt = NEXT.match(response.headers["link"])["url"]
    assert "x-total-count" not in api.get(nxt).headers  # asked per request


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "number-of-legs"},
        {"state": "sleeping"},
        {"assignee": "nobody"},
        {"created_after": "yesterday"},
        {"cursor": "not a cursor!"},
    ],
)
def test_malformed_parameters_are_400(world, params):
    response = world["api"].get(issues_path(world["project"]), params=params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
