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
    "0007.list-indexes",
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


def test_down_reverts_and_up_applies_again(fresh_url):
    migrations.up(fresh_url)
    assert public_tables(fresh_url) >= AUDIT_TABLES
    assert {"issues_search_idx", "issues_updated_idx"} <= index_names(fresh_url)
    assert migrations.down(fresh_url) == ["0007.list-indexes"]  # one step: the newest only
    assert {"issues_search_idx", "issues_updated_idx"}.isdisjoint(index_names(fresh_url))
    assert "issues_assignee_idx" in index_names(fresh_url)
    assert migrations.down(fresh_url) == ["0005.audit"]
    assert applied_ids(fresh_url) == ALL[:-2]
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
    assert migrations.down(fresh_url, steps=len(ALL) - 5) == NEWEST_FIRST[5:]
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
