"""Schema migrations against fresh databases: up, status, down, concurrent starts, and the readiness probe."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from exitus import migrations
from exitus.app import create_app
from exitus.dev.postgres import LocalPostgres
from tests.conftest import RunningServer, assert_problem

SCHEMA_TABLES = {"customers", "users", "projects", "issues", "comments"}
AUDIT_TABLES = {"audit_events", "audit_chains"}
ALL = [
    "0001.schema",
    "0002.row-level-security",
    "0003.search-plans",
    "0004.label-limits",
    "0005.audit",
    "0006.tracker",
    "0007.list-indexes",
    "0008.idempotency",
    "0009.service-login",
    "0010.search-scoped",
]
NEWEST_FIRST = list(reversed(ALL))


@pytest.fixture
def fresh_url(postgres: LocalPostgres) -> Iterator[str]:
    """An empty database of its own, owned by the application role, dropped afterwards."""
    name = f"mig_{uuid.uuid4().hex}"
    url = postgres.create_database(name)
    yield url
    postgres.drop_database(name)


def libpq(url: str) -> str:
    parsed = make_url(url)
    return f"host={parsed.host} port={parsed.port} dbname={parsed.database} user={parsed.username}"


def public_tables(url: str) -> set[str]:
    with psycopg.connect(libpq(url)) as conn:
        rows = conn.execute("select tablename from pg_tables where schemaname = 'public'").fetchall()
    return {row[0] for row in rows}


def row_security(url: str, table: str) -> bool:
    with psycopg.connect(libpq(url)) as conn:
        return conn.execute("select relrowsecurity from pg_class where relname = %s", (table,)).fetchone()[0]


def statistics_objects(url: str) -> set[str]:
    with psycopg.connect(libpq(url)) as conn:
        return {row[0] for row in conn.execute("select stxname from pg_statistic_ext")}


def index_names(url: str) -> set[str]:
    with psycopg.connect(libpq(url)) as conn:
        return {row[0] for row in conn.execute("select indexname from pg_indexes where schemaname = 'public'")}


TRIGRAM_INDEXES_UNDER_RLS = {
    "issues_subject_trgm_idx",
    "issues_content_trgm_idx",
    "comments_content_trgm_idx",
    "projects_name_trgm_idx",
}


def applied_ids(url: str) -> list[str]:
    with psycopg.connect(libpq(url)) as conn:
        return [row[0] for row in conn.execute("select migration_id from _yoyo_migration order by applied_at_utc")]


def test_up_applies_the_schema(fresh_url):
    assert SCHEMA_TABLES.isdisjoint(public_tables(fresh_url))
    assert migrations.up(fresh_url) == ALL
    assert public_tables(fresh_url) >= SCHEMA_TABLES
    assert applied_ids(fresh_url) == ALL


def test_up_twice_applies_nothing_the_second_time(fresh_url):
    migrations.up(fresh_url)
    assert migrations.up(fresh_url) == []
    assert applied_ids(fresh_url) == ALL


def test_status_lists_pending_then_applied(fresh_url):
    assert migrations.status(fresh_url) == [migrations.MigrationStatus(m, applied=False) for m in ALL]
    migrations.up(fresh_url)
    assert migrations.status(fresh_url) == [migrations.MigrationStatus(m, applied=True) for m in ALL]


def test_expected_ids_match_the_migrations_directory(fresh_url):
    assert {item.id for item in migrations.status(fresh_url)} == migrations.expected_migration_ids()


def constraint_exists(url: str, name: str) -> bool:
    with psycopg.connect(libpq(url)) as conn:
        return conn.execute("select exists (select from pg_constraint where conname = %s)", (name,)).fetchone()[0]


def function_exists(url: str, name: str) -> bool:
    with psycopg.connect(libpq(url)) as conn:
        return conn.execute("select exists (select from pg_proc where proname = %s)", (name,)).fetchone()[0]


def search_function_owner(url: str) -> str:
    with psycopg.connect(libpq(url)) as conn:
        query = "select proowner::regrole::text from pg_proc where proname = 'exitus_search_issues'"
        return conn.execute(query).fetchone()[0]


def test_down_reverts_and_up_applies_again(fresh_url):
    migrations.up(fresh_url)
    assert "issues_search_keys_idx" in index_names(fresh_url)
    assert "issues_search_idx" not in index_names(fresh_url)
    assert migrations.down(fresh_url) == ["0010.search-scoped"]  # one step: the newest only
    assert applied_ids(fresh_url) == ALL[:-1]
    assert "issues_search_keys_idx" not in index_names(fresh_url)
    assert not function_exists(fresh_url, "exitus_search_keys")
    assert search_function_owner(fresh_url) == "exitus_search"  # 0007's function again, as 0007 left it
    assert migrations.down(fresh_url) == ["0009.service-login"]
    assert applied_ids(fresh_url) == ALL[:-2]
    assert "idempotency_keys" in public_tables(fresh_url)
    assert migrations.down(fresh_url) == ["0008.idempotency"]
    assert "idempotency_keys" not in public_tables(fresh_url)
    assert {"issues_search_idx", "issues_updated_idx", "issues_votes_idx"} <= index_names(fresh_url)
    assert migrations.down(fresh_url) == ["0007.list-indexes"]
    assert {"issues_search_idx", "issues_updated_idx", "issues_votes_idx"}.isdisjoint(index_names(fresh_url))
    assert "issues_assignee_idx" in index_names(fresh_url)
    assert "issue_votes" in public_tables(fresh_url)
    assert migrations.down(fresh_url) == ["0006.tracker"]
    assert "issue_votes" not in public_tables(fresh_url)
    assert not constraint_exists(fresh_url, "issues_number_key")
    assert public_tables(fresh_url) >= AUDIT_TABLES
    assert migrations.down(fresh_url) == ["0005.audit"]
    assert AUDIT_TABLES.isdisjoint(public_tables(fresh_url))
    assert constraint_exists(fresh_url, "projects_label_length")
    assert migrations.down(fresh_url) == ["0004.label-limits"]
    assert not constraint_exists(fresh_url, "projects_label_length")
    assert statistics_objects(fresh_url) == {"issues_scope_stats", "comments_scope_stats"}
    assert TRIGRAM_INDEXES_UNDER_RLS.isdisjoint(index_names(fresh_url))
    assert "customers_name_trgm_idx" in index_names(fresh_url)
    assert migrations.down(fresh_url) == ["0003.search-plans"]
    assert statistics_objects(fresh_url) == set()
    assert index_names(fresh_url) >= TRIGRAM_INDEXES_UNDER_RLS
    assert row_security(fresh_url, "projects") is True
    assert migrations.down(fresh_url) == ["0002.row-level-security"]
    assert row_security(fresh_url, "projects") is False
    assert migrations.down(fresh_url, steps=len(ALL) - 9) == NEWEST_FIRST[9:]  # what is left: 0001
    assert SCHEMA_TABLES.isdisjoint(public_tables(fresh_url))
    assert applied_ids(fresh_url) == []
    assert migrations.status(fresh_url) == [migrations.MigrationStatus(m, applied=False) for m in ALL]
    assert migrations.up(fresh_url) == ALL
    assert public_tables(fresh_url) >= SCHEMA_TABLES
    assert applied_ids(fresh_url) == ALL


def test_down_without_steps_limit_reverts_everything_and_with_nothing_applied_does_nothing(fresh_url):
    migrations.up(fresh_url)
    assert migrations.to_revert(fresh_url, None) == NEWEST_FIRST
    assert migrations.down(fresh_url, steps=None) == NEWEST_FIRST
    assert migrations.down(fresh_url, steps=None) == []
    assert SCHEMA_TABLES.isdisjoint(public_tables(fresh_url))


def test_up_with_steps_applies_exactly_that_many_in_order(fresh_url):
    assert migrations.up(fresh_url, steps=1) == ALL[:1]
    assert applied_ids(fresh_url) == ALL[:1]
    assert row_security(fresh_url, "projects") is False  # the second one is still pending
    assert migrations.up(fresh_url, steps=1) == ALL[1:2]
    assert applied_ids(fresh_url) == ALL[:2]


@pytest.mark.parametrize("steps", [0, -1])
def test_up_and_down_refuse_steps_below_one_and_change_nothing(fresh_url, steps):
    with pytest.raises(migrations.MigrationRefused, match="positive integer"):
        migrations.up(fresh_url, steps=steps)
    assert public_tables(fresh_url).isdisjoint(SCHEMA_TABLES)
    migrations.up(fresh_url)
    for refused in (migrations.down, migrations.to_revert):
        with pytest.raises(migrations.MigrationRefused, match="positive integer"):
            refused(fresh_url, steps=steps)
    assert applied_ids(fresh_url) == ALL


def test_steps_beyond_what_is_pending_or_applied_are_refused_and_change_nothing(fresh_url):
    with pytest.raises(migrations.MigrationRefused, match=rf"only {len(ALL)} migration\(s\) pending"):
        migrations.up(fresh_url, steps=len(ALL) + 1)
    assert applied_ids(fresh_url) == []
    migrations.up(fresh_url, steps=1)
    with pytest.raises(migrations.MigrationRefused, match=r"only 1 migration\(s\) applied"):
        migrations.down(fresh_url, steps=2)
    assert applied_ids(fresh_url) == ALL[:1]


def test_down_refuses_when_what_it_would_revert_is_not_what_was_confirmed(fresh_url):
    migrations.up(fresh_url, steps=1)
    confirmed = migrations.to_revert(fresh_url, 1)
    migrations.up(fresh_url)  # meanwhile, someone applies the next one
    with pytest.raises(migrations.MigrationRefused, match="changed meanwhile"):
        migrations.down(fresh_url, 1, expected=confirmed)
    assert applied_ids(fresh_url) == ALL


def test_concurrent_up_runs_apply_the_schema_once(fresh_url):
    env = {**os.environ, "PGDATASOURCE": fresh_url}
    env.pop("DATABASE_URL", None)
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "exitus", "migrate", "up"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [run.communicate(timeout=120) for run in runs]
    for run, (_out, err) in zip(runs, results, strict=True):
        assert run.returncode == 0, err
    outputs = sorted(out.strip() for out, _err in results)
    assert outputs == ["applied 0 migration(s)", f"applied {len(ALL)} migration(s): {', '.join(ALL)}"]
    assert applied_ids(fresh_url) == ALL
    assert public_tables(fresh_url) >= SCHEMA_TABLES


def test_readiness_is_ok_on_the_migrated_test_database(http):
    response = http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_fails_until_the_database_is_migrated(config, fresh_url):
    server = RunningServer(create_app(dataclasses.replace(config, database_url=fresh_url))).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            not_ready = client.get("/readyz")
            assert_problem(not_ready, 503, "not migrated")
            assert not_ready.headers["retry-after"] == "5"
            assert client.get("/healthz").json() == {"status": "ok"}
            migrations.up(fresh_url)
            ready = client.get("/readyz")
            assert ready.status_code == 200
            assert ready.json() == {"status": "ok"}
    finally:
        server.stop()


def test_the_lock_holder_is_not_left_idle_in_a_transaction(fresh_url):
    """The advisory lock is held for the whole run: in a transaction, idle_in_transaction_session_timeout (set on
    RDS) would cut it."""
    with migrations._locked_backend(fresh_url), psycopg.connect(libpq(fresh_url)) as probe:
        states = probe.execute(
            "select state from pg_stat_activity where query like 'select pg_advisory_lock%' and pid <> pg_backend_pid()"
        ).fetchall()
    assert states == [("idle",)]


def test_the_tracker_numbers_existing_issues_oldest_first_without_auditing_it(fresh_url):
    migrations.up(fresh_url, steps=ALL.index("0006.tracker"))
    customer, alpha, beta = (str(uuid.uuid4()) for _ in range(3))
    with psycopg.connect(libpq(fresh_url)) as conn:  # the owner, bound to the customer as requests are
        conn.execute("select set_config('exitus.customer_id', %s, false)", (customer,))
        conn.execute("insert into customers (id, name) values (%s, 'c')", (customer,))
        user = conn.execute("insert into users (customer_id, sub) values (%s, 's') returning id", (customer,))
        user = user.fetchone()[0]
        for project in (alpha, beta):
            conn.execute(
                "insert into projects (customer_id, id, name) values (%s, %s, %s)", (customer, project, project)
            )
        # inserted in another order than created: days ago 3, 1, 2 in alpha; one issue in beta
        for project, days_ago in ((alpha, 3), (alpha, 1), (beta, 5), (alpha, 2)):
            conn.execute(
                "insert into issues (customer_id, project_id, subject, content, severity, category, reporter,"
                " created_at) values (%s, %s, %s, '', 'low', 'bug', %s, now() - %s * interval '1 day')",
                (customer, project, f"{days_ago} days ago", user, days_ago),
            )
        events = conn.execute("select count(*) from audit_events").fetchone()[0]
    migrations.up(fresh_url)
    with psycopg.connect(libpq(fresh_url)) as conn:
        conn.execute("select set_config('exitus.customer_id', %s, false)", (customer,))
        numbered = conn.execute("select project_id::text, number, subject from issues order by project_id, number")
        assert sorted(numbered.fetchall()) == sorted(
            [(alpha, 1, "3 days ago"), (alpha, 2, "2 days ago"), (alpha, 3, "1 days ago"), (beta, 1, "5 days ago")]
        )
        assert conn.execute("select count(*) from audit_events").fetchone()[0] == events  # nobody changed anything
        counters = conn.execute("select id::text, last_issue_number from projects").fetchall()
        assert sorted(counters) == sorted([(alpha, 3), (beta, 1)])
        created = conn.execute(
            "insert into issues (customer_id, project_id, subject, content, severity, category, reporter)"
            " values (%s, %s, 'next', '', 'low', 'bug', %s) returning number",
            (customer, alpha, user),
        )
        assert created.fetchone()[0] == 4
        conn.execute("update issues set state = 'in_progress' where number = 1")
        conn.execute("update issues set state = 'closed' where number = 2")
        conn.execute("update issues set state = 'in_progress' where number = 3 and project_id = %s", (alpha,))
        conn.execute("update issues set state = 'resolved' where number = 3 and project_id = %s", (alpha,))
    assert (
        migrations.down(fresh_url, steps=len(ALL) - ALL.index("0006.tracker"))
        == NEWEST_FIRST[: -ALL.index("0006.tracker")]
    )
    with psycopg.connect(libpq(fresh_url)) as conn:  # back on the states 0001 knew: in progress is open again
        conn.execute("select set_config('exitus.customer_id', %s, false)", (customer,))
        states = conn.execute("select subject, state from issues where project_id = %s", (alpha,)).fetchall()
        assert sorted(states) == [("1 days ago", "closed"), ("2 days ago", "closed"), ("3 days ago", "open"),
                                  ("next", "open")]  # fmt: skip
