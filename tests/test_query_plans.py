"""The list queries' plans, as the service's role (FORCEd row-level security) sees them: the planner walks the
tenant-scoped list index in order and stops at the page's end, for a search too, and knows how big a project is.

Plans, not timings: EXPLAIN without ANALYZE on a small seeded database (bench/seed.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from bench.datasize import named_statements
from bench.seed import Manifest, libpq_url, seed
from exitus.db import like_pattern
from exitus.dev.postgres import LocalPostgres

STATEMENTS = named_statements()


@pytest.fixture(scope="module")
def seeded(postgres: LocalPostgres) -> Iterator[tuple[str, Manifest]]:
    name = f"plans_{uuid.uuid4().hex[:12]}"
    url = postgres.create_database(name)
    manifest = seed(url, 20000, customers=4, projects_per_customer=3, sample_size=10, comment_percent=5)
    yield url, manifest
    postgres.drop_database(name)


def explain(url: str, customer_id: str, query: str, params: dict) -> dict:
    """The plan of `query` (named query name or SQL) for the owner role with the customer bound, as JSON."""
    sql = STATEMENTS.get(query, query)
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute("select set_config('exitus.customer_id', %s, true)", (customer_id,))
        return conn.execute("explain (format json) " + sql, params).fetchone()[0][0]["Plan"]


def nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def walks_in_order(plan: dict, index: str) -> bool:
    """The page is a Limit over an ordered index scan of `index`, with no Sort or Bitmap beneath it: the walk stops at
    the page's end. (Only the page's rows are then joined to their users and votes, and put in order again.)"""
    (page,) = [n for n in nodes(plan) if n["Node Type"] == "Limit"] or [None]
    if page is None:
        return False
    types = [n["Node Type"] for n in nodes(page)]
    scans = [n for n in nodes(page) if n["Node Type"] == "Index Scan"]
    return (
        "Sort" not in types
        and not any(t.startswith("Bitmap") for t in types)
        and [n["Index Name"] for n in scans] == [index]
    )


def issue_page(m: Manifest, pattern: str | None, offset: int = 0) -> dict:
    page = {"customer_id": m.customer_id, "project_id": m.project_id, "pattern": pattern, "limit": 50, "offset": offset}
    return {**page, "user_id": m.customer_id}  # the caller whose votes `voted` shows: here one who has none


@pytest.mark.parametrize("offset", [0, 1000])  # a deep page: a quarter of the way into the project
def test_pages_walk_the_list_index(seeded, offset):
    url, m = seeded
    plan = explain(url, m.customer_id, "list_issues", issue_page(m, None, offset))
    assert walks_in_order(plan, "issues_list_idx"), json.dumps(plan, indent=1)


@pytest.mark.parametrize("term", ["common_term", "rare_term"])
def test_a_search_walks_the_list_index_and_stops_at_the_page_end(seeded, term):
    # Under row-level security the planner has no statistics for ILIKE; without the query's coalesce() it guesses a
    # handful of matches, filters the whole project and sorts it, even when half the project matches.
    url, m = seeded
    plan = explain(url, m.customer_id, "list_issues", issue_page(m, like_pattern(getattr(m, term))))
    assert walks_in_order(plan, "issues_list_idx"), json.dumps(plan, indent=1)


def test_the_planner_knows_a_projects_size(seeded):
    # A project belongs to one customer: without the extended statistics (migrations/0003) the planner multiplies
    # the two selectivities and underestimates a big project several times over.
    url, m = seeded
    plan = explain(
        url,
        m.customer_id,
        "select id from issues where customer_id = %(c)s and project_id = %(p)s",
        {"c": m.customer_id, "p": m.project_id},
    )
    estimated = max(n["Plan Rows"] for n in nodes(plan))
    assert m.issues_in_project / 1.5 <= estimated <= m.issues_in_project * 1.5, estimated
