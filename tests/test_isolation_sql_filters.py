"""The SQL layer alone: every tenant query, with row-level security out of the way, returns and changes only the
right customer's rows under the right parent.

Row-level security hides a query's missing `customer_id` filter across customers, and cannot see a missing parent
filter at all (a search of one project matching the customer's other projects). So here the queries run as the
superuser, which bypasses row-level security, on a throwaway database holding two customers with look-alike data
(tests/isolation_world.py). Each named query has its checks below; a query added to queries/ without them fails
`test_every_named_query_is_checked_here_or_named_as_not_a_tenant_query`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest

from exitus.dev.postgres import LocalPostgres
from tests.isolation_world import World, load_statements, migrated_database, seed

DATABASE = "exitus_isolation_sql"

# Named queries that read or write no tenant table: what scopes them is said here, and tested elsewhere.
NOT_TENANT_QUERIES = {
    "set_request_customer": "the binding itself (tests/test_isolation_row_level_security.py, tests/test_db.py)",
    "list_applied_migrations": "the migration table, for readiness",
    "create_customer": "administrators only (the spec's scopes: tests/api/test_operation_scopes.py)",
    "get_customer": "by id; a tenant is held to its own id in exitus/api/customers.py (tests/api/test_customers.py)",
    "update_customer": "by id; a tenant is held to its own id in exitus/api/customers.py (tests/api/test_customers.py)",
    "set_request_context": "the binding itself (tests/test_isolation_row_level_security.py, tests/test_db.py)",
    "set_audited_customer": "an administrator's rebinding (tests/api/test_audit*.py)",
    "get_audit_head": "no parameter: the bound customer's chain head, through exitus_audit_head() (row-level security)",
    "list_next_states": "the workflow's rule for a state, the same for every customer (migrations/0006)",
    "list_customer_ids": "customers' ids only, for operators' tools (exitus prune-idempotency-keys)",
}

CHECKS: dict[str, Callable[[World, psycopg.Connection], None]] = {}
# The list queries' filters and keyset parameters, unset (the first page of everything).
CREATED = {"created_after": None, "created_before": None}
NO_CURSOR = {"after_time": None, "after_id": None}
PAGE = {**CREATED, **NO_CURSOR, "limit": 100, "offset": 0}
ISSUE_PAGE = {**NO_CURSOR, "after_rank": None, "sort": "created", "limit": 100, "offset": 0}


def issue_filters(**given) -> dict:
    unset = dict.fromkeys(
        ("states", "severities", "categories", "labels", "assignee", "reporter", "updated_after", "updated_before",
         "ids", "pattern"),
    )  # fmt: skip
    return {**unset, **CREATED, "unassigned": False, **given}


def checks(name: str):
    def register(function):
        CHECKS[name] = function
        return function

    return register


@pytest.fixture(scope="module")
def superuser(postgres: LocalPostgres) -> Iterator[psycopg.Connection]:
    migrated_database(postgres, DATABASE)
    with psycopg.connect(postgres.libpq_dsn(DATABASE, "postgres")) as connection:
        yield connection
    postgres.drop_database(DATABASE)


@pytest.fixture(scope="module")
def world(superuser: psycopg.Connection) -> World:
    return seed(superuser, DATABASE)


@pytest.fixture
def sql(superuser: psycopg.Connection, world: World) -> Iterator[psycopg.Connection]:
    """The superuser connection, every test's changes rolled back; row-level security provably out of the way."""
    unbound_projects = superuser.execute("select count(*) from projects").fetchone()[0]
    assert unbound_projects == 4, "row-level security is not out of the way: these tests would prove nothing"
    yield superuser
    superuser.rollback()


def ids(rows) -> set[str]:
    return {str(row["id"]) for row in rows}


def refused(world: World, connection: psycopg.Connection, query: str, /, **params) -> None:
    """The statement is refused by a foreign key: a parent of another customer or project is not a parent."""
    with pytest.raises(psycopg.errors.ForeignKeyViolation), connection.transaction():
        world.run(connection, query, **params)


def owner_of(connection: psycopg.Connection, table: str, row_id: str) -> tuple[str, ...]:
    """(customer_id, and the parent ids) of a row, read without any query of queries/."""
    parents = {"projects": "", "issues": ", project_id", "comments": ", project_id, issue_id", "users": ""}[table]
    row = connection.execute(f"select customer_id{parents} from {table} where id = %s", (row_id,)).fetchone()
    return tuple(str(value) for value in row)


def test_every_named_query_is_checked_here_or_named_as_not_a_tenant_query():
    loaded = set(load_statements("-"))
    assert not set(CHECKS) & set(NOT_TENANT_QUERIES)
    assert set(CHECKS) | set(NOT_TENANT_QUERIES) == loaded, (
        f"unchecked: {sorted(loaded - set(CHECKS) - set(NOT_TENANT_QUERIES))}; "
        f"gone: {sorted((set(CHECKS) | set(NOT_TENANT_QUERIES)) - loaded)}"
    )


# -- projects ------------------------------------------------------------------------------------------------------


@checks("list_projects")
def _(w: World, sql: psycopg.Connection) -> None:
    a, b = w.customers["A"], w.customers["B"]
    for pattern in (None, "%a%"):  # both customers' projects are named alpha and beta
        rows = w.run(sql, "list_projects", customer_id=a.id, pattern=pattern, **PAGE)
        assert ids(rows) == set(a.projects.values())
    rows = w.run(sql, "list_projects", customer_id=b.id, pattern="%alpha%", **PAGE)
    assert ids(rows) == {b.projects["alpha"]}


@checks("count_projects")
def _(w: World, sql: psycopg.Connection) -> None:
    a, b = w.customers["A"], w.customers["B"]
    assert w.run(sql, "count_projects", customer_id=a.id, pattern=None, **CREATED) == len(a.projects)
    assert w.run(sql, "count_projects", customer_id=b.id, pattern="%alpha%", **CREATED) == 1


@checks("get_project")
def _(w: World, sql: psycopg.Connection) -> None:
    a, b = w.customers["A"], w.customers["B"]
    assert str(w.run(sql, "get_project", customer_id=a.id, id=a.projects["alpha"])["id"]) == a.projects["alpha"]
    assert w.run(sql, "get_project", customer_id=a.id, id=b.projects["alpha"]) is None


@checks("create_project")
def _(w: World, sql: psycopg.Connection) -> None:
    a = w.customers["A"]
    row = w.run(sql, "create_project", customer_id=a.id, name="gamma", description="", labels=[])
    assert owner_of(sql, "projects", row["id"]) == (a.id,)


@checks("update_project")
def _(w: World, sql: psycopg.Connection) -> None:
    a, b = w.customers["A"], w.customers["B"]
    params = {"name": "renamed", "description": "", "labels": [], "version": 1, "if_match": None}
    assert w.run(sql, "update_project", customer_id=a.id, id=b.projects["alpha"], **params) is None
    assert w.run(sql, "update_project", customer_id=a.id, id=b.projects["alpha"], **{**params, "if_match": [1]}) is None
    assert sql.execute("select count(*) from projects where name = 'renamed'").fetchone()[0] == 0
    assert (
        str(w.run(sql, "update_project", customer_id=a.id, id=a.projects["alpha"], **params)["id"])
        == (a.projects["alpha"])
    )
    renamed = sql.execute("select id from projects where name = 'renamed'").fetchall()
    assert [str(r[0]) for r in renamed] == [a.projects["alpha"]]


# -- issues --------------------------------------------------------------------------------------------------------


@checks("list_issues")
def _(w: World, sql: psycopg.Connection) -> None:
    a, b = w.customers["A"], w.customers["B"]
    for pattern in (None, "%needle%", "%needle subject%", "%needle content%"):
        for ids_ in (None, [a.issues["alpha"], b.issues["alpha"], a.issues["beta"]]):
            params = issue_filters(pattern=pattern, ids=ids_)
            page = {**params, **ISSUE_PAGE, "user_id": a.users["alice"]}
            rows = w.run(sql, "list_issues", customer_id=a.id, project_id=a.projects["alpha"], **page)
            assert ids(rows) == {a.issues["alpha"]}, pattern
            assert people(rows[0]) == (a.users["alice"], a.users["bob"], True), pattern
            rows = w.run(sql, "list_issues", customer_id=a.id, project_id=b.projects["alpha"], **page)
            assert rows == [], pattern
    # Another customer's users as filters find nothing of this customer's.
    for by_user in ({"assignee": b.users["bob"]}, {"reporter": b.users["alice"]}):
        rows = w.run(
            sql, "list_issues", customer_id=a.id, project_id=a.projects["alpha"], **issue_filters(**by_user),
            **ISSUE_PAGE, user_id=a.users["alice"],
        )  # fmt: skip
        assert rows == [], by_user
    # B's alice voted for B's issue; her id means nothing to A's issue (and A's alice's vote nothing to B's)
    page = {**issue_filters(), **ISSUE_PAGE, "user_id": b.users["alice"]}
    rows = w.run(sql, "list_issues", customer_id=a.id, project_id=a.projects["alpha"], **page)
    assert [row["voted"] for row in rows] == [False]


def people(row) -> tuple:
    """(reporter id, assignee id, voted) of an issue row."""
    return (str(row["reporter_id"]), row["assignee_id"] and str(row["assignee_id"]), row["voted"])


@checks("count_issues")
def _(w: World, sql: psycopg.Connection) -> None:
    a, b = w.customers["A"], w.customers["B"]
    for pattern in (None, "%needle%"):
        params = issue_filters(pattern=pattern)
        assert w.run(sql, "count_issues", customer_id=a.id, project_id=a.projects["alpha"], **params) == 1
        assert w.run(sql, "count_issues", customer_id=a.id, project_id=b.projects["alpha"], **params) == 0


@checks("search_issues")
def _(w: World, sql: psycopg.Connection) -> None:
    # exitus_search_issues reads the bound customer's rows only: also when the caller names another customer, or
    # another customer's project, and when it names none (unbound).
    # Both of its searches: by trigram keys, and through the project's rows for a pattern without a trigram.
    a, b = w.customers["A"], w.customers["B"]
    for pattern in ("%needle%", "%ee%"):
        search = {"pattern": pattern, "cap": 100}
        sql.execute("select set_config('exitus.customer_id', '', true)")
        assert w.run(sql, "search_issues", customer_id=a.id, project_id=a.projects["alpha"], **search) == []
        sql.execute("select set_config('exitus.customer_id', %s, true)", (a.id,))
        found = w.run(sql, "search_issues", customer_id=a.id, project_id=a.projects["alpha"], **search)
        assert {str(i) for i in found} == {a.issues["alpha"]}, pattern
        assert w.run(sql, "search_issues", customer_id=a.id, project_id=b.projects["alpha"], **search) == []
        assert w.run(sql, "search_issues", customer_id=b.id, project_id=b.projects["alpha"], **search) == []


@checks("get_issue")
def _(w: World, sql: psycopg.Connection) -> None:
    a, b = w.customers["A"], w.customers["B"]
    alice = {"user_id": a.users["alice"]}
    found = w.run(sql, "get_issue", customer_id=a.id, project_id=a.projects["alpha"], id=a.issues["alpha"], **alice)
    assert str(found["id"]) == a.issues["alpha"]
    assert people(found) == (a.users["alice"], a.users["bob"], True)
    assert found["votes"] == 1
    by_b_alice = w.run(
        sql, "get_issue", customer_id=a.id, project_id=a.projects["alpha"], id=a.issues["alpha"],
        user_id=b.users["alice"],
    )  # fmt: skip
    assert by_b_alice["voted"] is False
    for project_id, issue_id in (
        (a.projects["beta"], a.issues["alpha"]),
        (b.projects["alpha"], b.issues["alpha"]),
        (a.projects["alpha"], b.issues["alpha"]),
    ):
        assert w.run(sql, "get_issue", customer_id=a.id, project_id=project_id, id=issue_id, **alice) is None


@checks("get_issue_id_by_number")
def _(w: World, sql: psycopg.Connection) -> None:
    a, b = w.customers["A"], w.customers["B"]
    # Every project's only issue is number 1: a query that forgot the customer or the project would find another.
    found = w.run(sql, "get_issue_id_by_number", customer_id=a.id, project_id=a.projects["beta"], number=1)
    assert str(found) == a.issues["beta"]
    assert w.run(sql, "get_issue_id_by_number", customer_id=a.id, project_id=b.projects["beta"], number=1) is None
    assert w.run(sql, "get_issue_id_by_number", customer_id=a.id, project_id=a.projects["beta"], number=2) is None


@checks("update_issue_state")
def _(w: World, sql: psycopg.Connection) -> None:
    a, b = w.customers["A"], w.customers["B"]
    for project_id, issue_id in ((a.projects["beta"], a.issues["alpha"]), (b.projects["alpha"], b.issues["alpha"])):
        row = w.run(
            sql, "update_issue_state", customer_id=a.id, project_id=project_id, id=issue_id, state="closed",
            if_match=None,
        )  # fmt: skip
        assert row is None, (project_id, issue_id)
    assert sql.execute("select count(*) from issues where state = 'closed'").fetchone()[0] == 0
    row = w.run(
        sql, "update_issue_state", customer_id=a.id, project_id=a.projects["alpha"], id=a.issues["alpha"],
        state="closed", if_match=None,
    )  # fmt: skip
    assert str(row["id"]) == a.issues["alpha"]
    closed = sql.execute("select id from issues where state = 'closed'").fetchall()
    assert [str(r[0]) for r in closed] == [a.issues["alpha"]]


def votes(sql: psycopg.Connection) -> dict:
    """issue id -> (its counter, its vote rows), read without any query of queries/."""
    rows = sql.execute(
        "select i.id, i.votes, (select count(*) from issue_votes v where v.customer_id = i.customer_id"
        " and v.project_id = i.project_id and v.issue_id = i.id) from issues i"
    ).fetchall()
    return {str(issue): (counter, count) for issue, counter, count in rows}


@checks("create_vote")
def _(w: World, sql: psycopg.Connection) -> None:
    a, b = w.customers["A"], w.customers["B"]
    before = votes(sql)
    # bob of A votes for A's alpha issue: through another project, and for B's issue, refused; B's bob (a user of B)
    # is no voter of A's issue.
    for project_id, issue_id, user_id in (
        (a.projects["beta"], a.issues["alpha"], a.users["bob"]),
        (b.projects["alpha"], b.issues["alpha"], a.users["bob"]),
        (a.projects["alpha"], a.issues["alpha"], b.users["bob"]),
    ):
        refused(w, sql, "create_vote", customer_id=a.id, project_id=project_id, issue_id=issue_id, user_id=user_id)
    assert votes(sql) == before
    count = w.run(
        sql, "create_vote", customer_id=a.id, project_id=a.projects["alpha"], issue_id=a.issues["alpha"],
        user_id=a.users["bob"],
    )  # fmt: skip
    assert count == 2
    assert votes(sql) == {**before, a.issues["alpha"]: (2, 2)}


@checks("delete_vote")
def _(w: World, sql: psycopg.Connection) -> None:
    a, b = w.customers["A"], w.customers["B"]
    before = votes(sql)
    for project_id, issue_id, user_id in (
        (a.projects["beta"], a.issues["alpha"], a.users["alice"]),
        (b.projects["alpha"], b.issues["alpha"], a.users["alice"]),
        (b.projects["alpha"], b.issues["alpha"], b.users["alice"]),  # B's own vote, named by A
        (a.projects["alpha"], a.issues["alpha"], b.users["alice"]),
    ):
        withdrawn = w.run(
            sql, "delete_vote", customer_id=a.id, project_id=project_id, issue_id=issue_id, user_id=user_id
        )
        assert withdrawn is None, (project_id, issue_id, user_id)
    assert votes(sql) == before
    count = w.run(
        sql, "delete_vote", customer_id=a.id, project_id=a.projects["alpha"], issue_id=a.issues["alpha"],
        user_id=a.users["alice"],
    )  # fmt: skip
    assert count == 0
    assert votes(sql) == {**before, a.issues["alpha"]: (0, 0)}


def issue_fields(w: World, customer: str, **overrides) -> dict:
    c = w.customers[customer]
    fields = {
        "customer_id": c.id,
        "project_id": c.projects["alpha"],
        "subject": "s",
        "content": "c",
        "severity": "low",
        "category": "task",
        "labels": [],
        "reporter": c.users["alice"],
        "assignee": None,
    }
    return {**fields, **overrides}


@checks("create_issue")
def _(w: World, sql: psycopg.Connection) -> None:
    a, b = w.customers["A"], w.customers["B"]
    row = w.run(sql, "create_issue", **issue_fields(w, "A"))
    assert owner_of(sql, "issues", row["id"]) == (a.id, a.projects["alpha"])
    refused(w, sql, "create_issue", **issue_fields(w, "A", project_id=b.projects["alpha"]))
    refused(w, sql, "create_issue", **issue_fields(w, "A", reporter=b.users["alice"]))
    refused(w, sql, "create_issue", **issue_fields(w, "A", assignee=b.users["bob"]))


@checks("update_issue")
def _(w: World, sql: psycopg.Connection) -> None:
    a, b = w.customers["A"], w.customers["B"]
    fields = issue_fields(w, "A", subject="moved", version=1, state="closed", if_match=None)
    del fields["customer_id"], fields["project_id"], fields["reporter"]
    assert (
        w.run(sql, "update_issue", customer_id=a.id, project_id=a.projects["beta"], id=a.issues["alpha"], **fields)
        is None
    )
    assert (
        w.run(sql, "update_issue", customer_id=a.id, project_id=b.projects["alpha"], id=b.issues["alpha"], **fields)
        is None
    )
    assert sql.execute("select count(*) from issues where subject = 'moved'").fetchone()[0] == 0
    with pytest.raises(psycopg.errors.ForeignKeyViolation), sql.transaction():
        w.run(sql, "update_issue", customer_id=a.id, project_id=a.projects["alpha"], id=a.issues["alpha"],
              **{**fields, "assignee": b.users["bob"]})  # fmt: skip
    row = w.run(sql, "update_issue", customer_id=a.id, project_id=a.projects["alpha"], id=a.issues["alpha"], **fields)
    assert (str(row["id"]), row["state"], row["previous_state"]) == (a.issues["alpha"], "closed", "open")
    moved = sql.execute("select id from issues where subject = 'moved'").fetchall()
    assert [str(r[0]) for r in moved] == [a.issues["alpha"]]
    # previous_state is the updated row's own, not another issue's of the project: among 20 closed ones, a sub-select
    # that lost its id would pick the open row (which one it picks is up to the plan) once in 21.
    sql.execute(
        "insert into issues (customer_id, project_id, subject, content, severity, category, reporter, state)"
        " select customer_id, project_id, subject, content, severity, category, reporter, 'closed'"
        " from issues, generate_series(1, 20) where id = %s",
        (a.issues["alpha"],),
    )
    newer = w.run(sql, "create_issue", **issue_fields(w, "A"))
    row = w.run(sql, "update_issue", customer_id=a.id, project_id=a.projects["alpha"], id=newer["id"], **fields)
    assert (row["state"], row["previous_state"]) == ("closed", "open")


# -- comments ------------------------------------------------------------------------------------------------------


@checks("list_comments")
@checks("count_comments")  # checked with the list
def _(w: World, sql: psycopg.Connection) -> None:
    a, b = w.customers["A"], w.customers["B"]
    page = {"limit": 100, "offset": 0}
    for pattern in (None, "%needle%"):
        rows = w.run(
            sql, "list_comments", customer_id=a.id, project_id=a.projects["alpha"], issue_id=a.issues["alpha"],
            pattern=pattern, **page, **CREATED, **NO_CURSOR,
        )  # fmt: skip
        assert ids(rows) == {a.comments["alpha"]}, pattern
        assert rows[0]["author"] == {"id": a.users["alice"], "name": "alice", "email": "alice@x"}, pattern
        for project_id, issue_id in (
            (a.projects["beta"], a.issues["alpha"]),  # the issue under another project of the customer
            (a.projects["alpha"], a.issues["beta"]),
            (b.projects["alpha"], b.issues["alpha"]),  # another customer's
        ):
            rows = w.run(
                sql, "list_comments", customer_id=a.id, project_id=project_id, issue_id=issue_id, pattern=pattern,
                **page, **CREATED, **NO_CURSOR,
            )  # fmt: skip
            assert rows == [], (pattern, project_id, issue_id)
            counted = w.run(
                sql, "count_comments", customer_id=a.id, project_id=project_id, issue_id=issue_id, pattern=pattern,
                **CREATED,
            )  # fmt: skip
            assert counted == 0, (pattern, project_id, issue_id)


@checks("get_comment")
def _(w: World, sql: psycopg.Connection) -> None:
    a, b = w.customers["A"], w.customers["B"]
    found = w.run(
        sql, "get_comment", customer_id=a.id, project_id=a.projects["alpha"], issue_id=a.issues["alpha"],
        id=a.comments["alpha"],
    )  # fmt: skip
    assert str(found["id"]) == a.comments["alpha"]
    assert found["author"] == {"id": a.users["alice"], "name": "alice", "email": "alice@x"}
    for project_id, issue_id, comment_id in (
        (a.projects["beta"], a.issues["alpha"], a.comments["alpha"]),
        (a.projects["alpha"], a.issues["beta"], a.comments["alpha"]),
        (a.projects["alpha"], a.issues["alpha"], a.comments["beta"]),
        (b.projects["alpha"], b.issues["alpha"], b.comments["alpha"]),
        (a.projects["alpha"], a.issues["alpha"], b.comments["alpha"]),
    ):
        row = w.run(sql, "get_comment", customer_id=a.id, project_id=project_id, issue_id=issue_id, id=comment_id)
        assert row is None, (project_id, issue_id, comment_id)


@checks("create_comment")
def _(w: World, sql: psycopg.Connection) -> None:
    a, b = w.customers["A"], w.customers["B"]
    mine = {"customer_id": a.id, "project_id": a.projects["alpha"], "issue_id": a.issues["alpha"], "content": "x"}
    row = w.run(sql, "create_comment", **mine, author=a.users["bob"])
    assert owner_of(sql, "comments", row["id"]) == (a.id, a.projects["alpha"], a.issues["alpha"])
    refused(w, sql, "create_comment", **{**mine, "project_id": a.projects["beta"]}, author=a.users["bob"])
    refused(w, sql, "create_comment", **{**mine, "project_id": b.projects["alpha"], "issue_id": b.issues["alpha"]},
            author=a.users["bob"])  # fmt: skip
    refused(w, sql, "create_comment", **mine, author=b.users["bob"])


@checks("update_comment")
def _(w: World, sql: psycopg.Connection) -> None:
    a, b = w.customers["A"], w.customers["B"]
    for project_id, issue_id, comment_id in (
        (a.projects["beta"], a.issues["alpha"], a.comments["alpha"]),
        (a.projects["alpha"], a.issues["beta"], a.comments["alpha"]),
        (a.projects["alpha"], a.issues["alpha"], a.comments["beta"]),
        (b.projects["alpha"], b.issues["alpha"], b.comments["alpha"]),
    ):
        row = w.run(
            sql, "update_comment", customer_id=a.id, project_id=project_id, issue_id=issue_id, id=comment_id,
            content="edited", version=1, if_match=[1],
        )  # fmt: skip
        assert row is None, (project_id, issue_id, comment_id)
    assert sql.execute("select count(*) from comments where content = 'edited'").fetchone()[0] == 0
    row = w.run(
        sql, "update_comment", customer_id=a.id, project_id=a.projects["alpha"], issue_id=a.issues["alpha"],
        id=a.comments["alpha"], content="edited", version=1, if_match=None,
    )  # fmt: skip
    assert str(row["id"]) == a.comments["alpha"]
    edited = sql.execute("select id from comments where content = 'edited'").fetchall()
    assert [str(r[0]) for r in edited] == [a.comments["alpha"]]


# -- users ---------------------------------------------------------------------------------------------------------


@checks("list_users")
@checks("count_users")  # checked with the list
def _(w: World, sql: psycopg.Connection) -> None:
    a = w.customers["A"]
    for pattern in (None, "%alice%", "%@x%", "%o%"):
        rows = w.run(sql, "list_users", customer_id=a.id, pattern=pattern, **PAGE)
        expected = {a.users[s] for s in a.users if pattern is None or pattern.strip("%") in f"{s} {s}@x"}
        assert ids(rows) == expected, pattern
        assert w.run(sql, "count_users", customer_id=a.id, pattern=pattern, **CREATED) == len(expected), pattern


@checks("get_user")
def _(w: World, sql: psycopg.Connection) -> None:
    a, b = w.customers["A"], w.customers["B"]
    assert str(w.run(sql, "get_user", customer_id=a.id, id=a.users["alice"])["id"]) == a.users["alice"]
    assert w.run(sql, "get_user", customer_id=a.id, id=b.users["alice"]) is None


@checks("upsert_user")
def _(w: World, sql: psycopg.Connection) -> None:
    a, b = w.customers["A"], w.customers["B"]
    # Known (unchanged) and changed profiles find the customer's own row, never the look-alike of the other customer.
    assert (
        str(w.run(sql, "upsert_user", customer_id=a.id, sub="alice", email="alice@x", name="alice")) == a.users["alice"]
    )
    assert str(w.run(sql, "upsert_user", customer_id=b.id, sub="bob", email="new@x", name="bob")) == b.users["bob"]
    assert sql.execute("select customer_id from users where email = 'new@x'").fetchall() == [(uuid.UUID(b.id),)]
    # A subject only the other customer knows is a new user of this one.
    sql.execute(
        "insert into users (customer_id, sub, email, name) values (%s, 'only-b', 'o@x', 'o')", (b.id,)
    )  # fmt: skip
    new = str(w.run(sql, "upsert_user", customer_id=a.id, sub="only-b", email="o@x", name="o"))
    assert owner_of(sql, "users", new) == (a.id,)
    # Another subject with the same profile is another user, not the first one's id.
    twin = str(w.run(sql, "upsert_user", customer_id=a.id, sub="alice-twin", email="alice@x", name="alice"))
    assert twin != a.users["alice"]
    assert owner_of(sql, "users", twin) == (a.id,)
    assert w.run(sql, "upsert_user", customer_id=str(uuid.uuid4()), sub="alice", email="alice@x", name="alice") is None


# -- customers -----------------------------------------------------------------------------------------------------


@checks("list_customers")
@checks("count_customers")  # checked with the list
def _(w: World, sql: psycopg.Connection) -> None:
    a = w.customers["A"]
    for pattern in (None, "%customer%"):
        rows = w.run(sql, "list_customers", only_id=a.id, pattern=pattern, **PAGE)
        assert ids(rows) == {a.id}, pattern
        assert w.run(sql, "count_customers", only_id=a.id, pattern=pattern, **CREATED) == 1
    everyone = w.run(sql, "list_customers", only_id=None, pattern="%customer%", **PAGE)
    assert ids(everyone) == {c.id for c in w.customers.values()}  # administrators: every customer
    searched = w.run(sql, "list_customers", only_id=None, pattern="%customer B%", **PAGE)
    assert ids(searched) == {w.customers["B"].id}


# -- audit events ---------------------------------------------------------------------------------------------------


def audit_rows(w: World, sql: psycopg.Connection, query: str, **params) -> list:
    rows = w.run(sql, query, limit=1000, **params)
    assert rows, f"{query}: the world has no audit events to tell customers apart"
    return rows


@checks("list_audit_events")
def _(w: World, sql: psycopg.Connection) -> None:
    a = w.customers["A"]
    filters = dict.fromkeys(("before", "resource_type", "resource_id", "actor", "action", "since", "until"))
    rows = audit_rows(w, sql, "list_audit_events", customer_id=a.id, **filters)
    assert {str(row["customer_id"]) for row in rows} == {a.id}


@checks("list_audit_chain")
def _(w: World, sql: psycopg.Connection) -> None:
    a = w.customers["A"]
    rows = audit_rows(w, sql, "list_audit_chain", customer_id=a.id, after=0)
    assert {str(row["customer_id"]) for row in rows} == {a.id}


@checks("list_issue_history")
def _(w: World, sql: psycopg.Connection) -> None:
    a = w.customers["A"]
    name, project = next(iter(a.projects.items()))
    issue = a.issues[name]
    rows = audit_rows(w, sql, "list_issue_history", customer_id=a.id, project_id=project, issue_id=issue, after=0)
    assert {str(row["customer_id"]) for row in rows} == {a.id}
    assert all(issue in (str(row["resource_id"]), str(row["issue_id"])) for row in rows)


# -- idempotency keys -----------------------------------------------------------------------------------------------


def stored_keys(sql: psycopg.Connection) -> set[tuple[str, str, str]]:
    rows = sql.execute("select customer_id, key, fingerprint from idempotency_keys").fetchall()
    return {(str(customer_id), key, fingerprint) for customer_id, key, fingerprint in rows}


@checks("get_idempotency_key")
def _(w: World, sql: psycopg.Connection) -> None:
    a = w.customers["A"]
    found = w.run(sql, "get_idempotency_key", customer_id=a.id, key="same-key")
    assert (found["claimed"], found["fingerprint"]) == (True, "fingerprint of customer A")
    missing = w.run(sql, "get_idempotency_key", customer_id=a.id, key="only-B")  # only the other customer's
    assert (missing["claimed"], missing["fingerprint"]) == (True, None)
    assert w.run(sql, "get_idempotency_key", customer_id=a.id, key="expired")["fingerprint"] is None


@checks("upsert_idempotency_key")
def _(w: World, sql: psycopg.Connection) -> None:
    a, b = w.customers["A"], w.customers["B"]
    before = stored_keys(sql)
    params = {"fingerprint": "new", "status": 201, "headers": "{}", "body": "{}", "ttl_seconds": 60, "prune": 10}
    assert w.run(sql, "upsert_idempotency_key", customer_id=a.id, key="same-key", **params) is None  # A's is live
    assert w.run(sql, "upsert_idempotency_key", customer_id=a.id, key="only-B", **params) is not None
    # A's new key is A's alone; its expired key went in passing, B's stayed.
    expected = (before | {(a.id, "only-B", "new")}) - {(a.id, "expired", "fingerprint of customer A")}
    assert stored_keys(sql) == expected
    assert (b.id, "expired", "fingerprint of customer B") in expected


@checks("delete_expired_idempotency_keys")
def _(w: World, sql: psycopg.Connection) -> None:
    a, b = w.customers["A"], w.customers["B"]
    before = stored_keys(sql)
    assert w.run(sql, "delete_expired_idempotency_keys", customer_id=a.id, limit=100) == 1
    assert stored_keys(sql) == before - {(a.id, "expired", "fingerprint of customer A")}
    assert (b.id, "expired", "fingerprint of customer B") in stored_keys(sql)


# Last: after every check above has registered itself (the audit and idempotency checks too).
@pytest.mark.parametrize("name", sorted(CHECKS))
def test_the_query_keeps_to_its_customer_and_parent(name: str, world: World, sql: psycopg.Connection):
    CHECKS[name](world, sql)
