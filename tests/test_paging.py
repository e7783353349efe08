"""Keyset paging on every list (exitus/paging.py): projects, users, customers and comments walked by their `Link`
headers, `count=true`, the created_after/before filters, and cursors that belong to another list or customer.
(The issue list, with its filters and sorts: tests/api/test_issue_lists.py.)"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import Api, Tenant

NEXT = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


def walk(api: Api, first: str, key: str, between_pages=lambda: None) -> tuple[list[str], int]:
    seen, url, pages = [], first, 0
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.text
        pages += 1
        seen += [row["id"] for row in response.json()[key]]
        link = response.headers.get("link")
        url = NEXT.match(link)["url"] if link else None
        if url:
            between_pages()
    return seen, pages


def all_ids(api: Api, path: str, key: str, **params: Any) -> list[str]:
    response = api.get(path, params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    assert "link" not in response.headers
    return [row["id"] for row in response.json()[key]]


@pytest.fixture
def projects(tenant: Tenant) -> list[str]:
    return [tenant.create_project(f"project {i}")["id"] for i in range(5)]


def test_projects_walk_by_link_with_inserts_and_count(tenant, projects):
    api = tenant.api()
    added: list[str] = []

    def add() -> None:
        added.append(tenant.create_project(f"added {len(added)}")["id"])

    seen, _ = walk(api, "/v1/projects?limit=2", "projects", add)
    assert seen == projects + added  # oldest first: what is created during the walk comes after, and is reached
    assert len(set(seen)) == len(seen) and added
    response = api.get("/v1/projects", params={"count": "true", "limit": 1, "q": "project "})
    assert response.headers["x-total-count"] == "5"
    assert api.get("/v1/projects", params={"count": "true"}).headers["x-total-count"] == str(5 + len(added))
    assert "link" in response.headers


def test_projects_created_filters(tenant, projects):
    api = tenant.api()
    rows = api.get("/v1/projects", params={"limit": 100}).json()["projects"]
    at = {row["id"]: row["created_at"] for row in rows}
    assert all_ids(api, "/v1/projects", "projects", created_after=at[projects[1]]) == projects[2:]
    assert all_ids(api, "/v1/projects", "projects", created_before=at[projects[3]]) == projects[:3]


def test_comments_walk_by_link_and_count(tenant):
    project = tenant.create_project()["id"]
    issue = tenant.create_issue(project)["id"]
    path = f"/v1/projects/{project}/issues/{issue}/comments"
    made = [tenant.create_comment(project, issue, f"comment {i}")["id"] for i in range(5)]
    api = tenant.api()
    seen, pages = walk(api, f"{path}?limit=2", "comments")
    assert (seen, pages) == (made, 3)
    assert api.get(path, params={"count": "true", "q": "comment 3"}).headers["x-total-count"] == "1"
    # A cursor of this issue's comments is not one of another issue's.
    other = tenant.create_issue(project)["id"]
    cursor = re.search(r"cursor=([^&>]+)", api.get(path, params={"limit": 2}).headers["link"])[1]
    refused = api.get(f"/v1/projects/{project}/issues/{other}/comments", params={"cursor": cursor})
    assert refused.status_code == 400
    assert refused.json()["type"] == "/problems/invalid-cursor"


def test_users_walk_by_link_and_count(tenant):
    made = [tenant.api(subject=f"walker-{i}").get("/v1/users/me").json()["id"] for i in range(4)]
    api = tenant.api(subject="walker-0")
    seen, _ = walk(api, "/v1/users?limit=3&q=walker", "users")
    assert seen == made
    assert api.get("/v1/users", params={"q": "walker", "count": "true"}).headers["x-total-count"] == "4"


def test_customers_walk_by_link_for_administrators_and_tenants(admin, tenant, other_tenant):
    first = "/v1/customers?" + urlencode({"limit": 1, "created_after": created_at(admin, tenant)})
    seen, _ = walk(admin, first, "customers")
    assert other_tenant.customer_id in seen and tenant.customer_id not in seen
    assert len(seen) == len(set(seen))
    mine = tenant.api()
    response = mine.get("/v1/customers", params={"count": "true"})
    assert (response.headers["x-total-count"], "link" in response.headers) == ("1", False)
    # An administrator's cursor is not a tenant's.
    first = admin.get("/v1/customers", params={"limit": 1})
    cursor = re.search(r"cursor=([^&>]+)", first.headers["link"])[1]
    assert mine.get("/v1/customers", params={"cursor": cursor}).json()["type"] == "/problems/invalid-cursor"


def created_at(api: Api, tenant: Tenant) -> str:
    return api.get(f"/v1/customers/{tenant.customer_id}").json()["created_at"]


def test_a_cursor_of_another_customer_is_refused(tenant, other_tenant):
    for owner in (tenant, other_tenant):
        for i in range(3):
            owner.create_project(f"p{i}")
    cursor = re.search(r"cursor=([^&>]+)", tenant.api().get("/v1/projects", params={"limit": 1}).headers["link"])[1]
    refused = other_tenant.api().get("/v1/projects", params={"cursor": cursor, "limit": 1})
    assert refused.status_code == 400
    assert refused.json()["type"] == "/problems/invalid-cursor"
