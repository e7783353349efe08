"""The list queries' plans, as the service's role (FORCEd row-level security) sees them: the planner walks the
tenant-scoped list index in order and stops at the page's end, for a search too, and knows how big a project is.

Plans, not timings: EXPLAIN without ANALYZE on a small seeded database (bench/seed.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from functools import partial

import psycopg
import pytest

from bench.datasize import issue_list, named_statements
from bench.seed import Manifest, libpq_url, seed
from exitus.config import Config
from exitus.db import Database, Queries, RequestContext, like_pattern
from exitus.dev.postgres import SERVICE_LOGIN, LocalPostgres

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
    return issue_list(m, pattern=pattern, offset=offset)


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


def middle_issue(url: str, m: Manifest) -> dict:
    """An issue of the measured project, somewhere in its middle: a page after it is a deep keyset page."""
    with psycopg.connect(libpq_url(url), row_factory=psycopg.rows.dict_row) as conn:
        conn.execute("select set_config('exitus.customer_id', %s, true)", (m.customer_id,))
        return conn.execute(
            "select id, created_at, updated_at, exitus_severity_rank(severity) as rank, reporter, assignee"
            " from issues where customer_id = %s and project_id = %s and assignee is not null"
            " order by created_at offset %s limit 1",
            (m.customer_id, m.project_id, m.issues_in_project // 2),
        ).fetchone()


SORT_INDEXES = {
    "created": "issues_list_idx",
    "updated": "issues_updated_idx",
    "severity": "issues_severity_idx",
}


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("sort", sorted(SORT_INDEXES))
@pytest.mark.parametrize("after", [False, True], ids=["first page", "after a cursor"])
def test_each_sort_walks_its_index_in_order_from_the_cursor(seeded, sort, descending, after):
    url, m = seeded
    middle = middle_issue(url, m)
    time_key = "updated_at" if sort == "updated" else "created_at"
    position = {"after_time": middle[time_key], "after_rank": middle["rank"], "after_id": middle["id"]}
    params = issue_list(m, sort=f"{'-' if descending else ''}{sort}", **(position if after else {}))
    plan = explain(url, m.customer_id, "list_issues", params)
    assert walks_in_order(plan, SORT_INDEXES[sort]), json.dumps(plan, indent=1)
    if after:  # the cursor is an index condition (a row comparison), not a filter over what the walk skipped
        scan = next(n for n in nodes(plan) if n["Node Type"] == "Index Scan")
        assert "ROW(" in scan["Index Cond"], scan


@pytest.mark.parametrize(
    ("column", "index"), [("assignee", "issues_assignee_list_idx"), ("reporter", "issues_reporter_idx")]
)
def test_a_user_filter_takes_its_index(seeded, column, index):
    # A user's issues are few: fetched through the index and sorted (a walk in order is as good, when more).
    url, m = seeded
    middle = middle_issue(url, m)
    plan = explain(url, m.customer_id, "list_issues", issue_list(m, **{column: middle[column]}))
    (page,) = [n for n in nodes(plan) if n["Node Type"] == "Limit"]  # the page; its users and votes are joined after
    assert [n.get("Index Name") for n in nodes(page) if "Index Name" in n] == [index], json.dumps(plan, indent=1)


@pytest.fixture(scope="module")
def small_projects(postgres: LocalPostgres) -> Iterator[tuple[str, str, Manifest]]:
    """The bench's 10k database (bench/datasize.py): 40 projects, the measured one of 2,000 issues eight times the
    average. (The owner's URL, the service login's, the manifest.)"""
    name = f"plans_small_{uuid.uuid4().hex[:12]}"
    url = postgres.create_database(name)
    manifest = seed(url, 10000, customers=8, projects_per_customer=5, sample_size=10, comment_percent=5)
    yield url, postgres.url(name, SERVICE_LOGIN), manifest
    postgres.drop_database(name)


def list_page(params: dict, queries: Queries) -> list[dict]:
    return queries.list_issues(**params)


def test_the_service_never_settles_on_a_generic_plan_for_a_list(small_projects):
    """Prepared statements (exitus/db.py) are planned with their values five times; then PostgreSQL takes the generic
    plan if its estimate is below those custom plans' average, and keeps it for that connection. A generic plan of
    list_issues cannot fold the sort CASEs: it sorts the whole project for every page. It looks cheap beside deep
    pages of a big project (their custom plans count the rows skipped; a generic plan is costed for an average
    project), as in the bench's 10k database. Run as the service runs it, through exitus.db, on one connection."""
    url, service_url, m = small_projects
    middle = middle_issue(url, m)
    after = {"after_time": middle["created_at"], "after_rank": middle["rank"], "after_id": middle["id"]}
    sorts = ("created", "-updated", "severity", "-created")
    pages = [
        *(issue_list(m, sort=sort, offset=1500) for sort in sorts),  # deep pages first: the worst case
        *(issue_list(m, sort=sort, pattern=like_pattern(m.common_term)) for sort in sorts),
        *(issue_list(m, sort=sort, **after) for sort in sorts),  # keyset pages: Link rel=next
        *(issue_list(m, sort=sort) for sort in sorts),
    ]
    database = Database(Config(database_url=service_url, db_pool_size=1))  # one connection: one prepared statement
    try:
        for params in pages * 2:
            page = database.run(partial(list_page, params), context=RequestContext(m.customer_id))
            assert len(page) == 50
        pooled = database.engine.pool.connect()
        try:
            plans = pooled.driver_connection.execute(
                "select generic_plans, custom_plans from pg_prepared_statements"
                " where statement like '%%exitus_severity_rank%%' and statement not like '%%pg_prepared_statements%%'"
            ).fetchall()
        finally:
            pooled.close()
    finally:
        database.close()
    assert sum(generic for generic, _custom in plans) == 0, plans


def test_a_rare_term_is_found_through_the_search_index(seeded):
    url, m = seeded

    def search_index_scans(conn) -> int:
        conn.execute("select pg_stat_force_next_flush()")
        return conn.execute(
            "select idx_scan from pg_stat_user_indexes where indexrelname = 'issues_search_keys_idx'"
        ).fetchone()[0]

    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        before = search_index_scans(conn)
        with conn.transaction():
            conn.execute("select set_config('exitus.customer_id', %s, true)", (m.customer_id,))
            found = conn.execute(
                STATEMENTS["search_issues"], issue_list(m, pattern=like_pattern(m.rare_term), cap=200)
            ).fetchone()[0]
        assert len(found) == m.rare_matches_in_project
        assert search_index_scans(conn) > before


def test_a_frequent_term_is_not_collected_from_the_search_index(seeded):
    # Its GIN bitmap would hold every match before any limit applied: the search function answers null (frequent)
    # from a sample, and the list walks in order (test_a_search_walks_the_list_index_and_stops_at_the_page_end).
    url, m = seeded
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute("select set_config('exitus.customer_id', %s, true)", (m.customer_id,))
        found = conn.execute(
            STATEMENTS["search_issues"], issue_list(m, pattern=like_pattern(m.common_term), cap=200)
        ).fetchone()[0]
    assert found is None
