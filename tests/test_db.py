"""exitus.db: named queries run through psycopg, one transaction per request, dead connections survived."""

from __future__ import annotations

import psycopg
import pytest
from pugsql import context, parser

from exitus import db
from exitus.db import NamedQuery
from exitus.dev.postgres import LocalPostgres
from tests.conftest import RunningServer, Tenant
from tests.test_metrics import delta, scrape


def parsed(text: str):
    return parser.parse(text, ctx=context.Context("<test>"))


def test_a_named_query_takes_exactly_its_parameters():
    query = NamedQuery(parsed("-- :name get_pair :one\nselect :a as a, cast(:b as text) as b"), "db")
    assert query.sql.endswith("select %(a)s as a, cast(%(b)s as text) as b")
    for wrong in ({"a": 1}, {"a": 1, "b": "x", "c": 3}):
        with pytest.raises(TypeError, match=r"get_pair takes \['a', 'b'\]"):
            query.send(None, wrong)  # refused before anything reaches a connection


def test_a_literal_percent_survives_compilation(postgres: LocalPostgres, database_url):
    query = NamedQuery(parsed("-- :name percent :scalar\nselect '100%' || cast(:suffix as text)"), "db")
    with psycopg.connect(postgres.libpq_dsn("exitus_test", "exitus")) as connection:
        assert query(connection, {"suffix": "!"}) == "100%!"


def test_a_result_kind_that_queries_do_not_use_is_refused_when_loaded():
    with pytest.raises(ValueError, match="touch_rows: pugsql result kind Affected is not supported"):
        NamedQuery(parsed("-- :name touch_rows :affected\nupdate customers set version = version"), "db")


def test_a_custom_planned_name_must_name_a_statement(monkeypatch):
    # A renamed list query must not lose its custom plans silently (tests/test_query_plans.py holds what they do).
    assert db.named_queries("db")["list_issues"].custom_planned
    monkeypatch.setattr(db, "CUSTOM_PLANNED", db.CUSTOM_PLANNED | {"list_isues"})
    with pytest.raises(ValueError, match=r"CUSTOM_PLANNED names no statement of queries/: \['list_isues'\]"):
        db.named_queries("db")


def exitus_backends(postgres: LocalPostgres) -> int:
    with psycopg.connect(postgres.libpq_dsn("postgres", "postgres"), autocommit=True) as admin:
        return admin.execute(
            "select count(*) from pg_stat_activity where application_name = 'exitus' and datname = 'exitus_test'"
        ).fetchone()[0]


def terminate_exitus_backends(postgres: LocalPostgres) -> int:
    with psycopg.connect(postgres.libpq_dsn("postgres", "postgres"), autocommit=True) as admin:
        return len(
            admin.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity"
                " where application_name = 'exitus' and datname = 'exitus_test'"
            ).fetchall()
        )


def test_requests_after_every_pooled_connection_died_succeed_at_once(http, postgres, tenant: Tenant):
    """Connections are not pinged before use: one found dead is discarded and the transaction runs again on a live
    one. Not a 503, not even for the first request after the database dropped them all."""
    project = tenant.create_project()
    api = tenant.api()
    for _ in range(3):
        assert api.get(f"/v1/projects/{project['id']}").status_code == 200
    before = scrape(http)
    assert terminate_exitus_backends(postgres) >= 1
    for _ in range(3):
        response = api.get(f"/v1/projects/{project['id']}")
        assert response.status_code == 200, response.text
        created = api.post("/v1/projects", json={"name": f"after the drop {_}", "labels": []})
        assert created.status_code == 201, created.text
    after = scrape(http)
    assert delta(before, after, "exitus_db_connection_errors_total", kind="disconnect") >= 1
    assert [p["name"] for p in api.get("/v1/projects", params={"q": "after the drop"}).json()["projects"]] == [
        f"after the drop {n}" for n in range(3)
    ]  # each write once: a retried transaction is never one that was committed


def test_the_customer_binding_ends_with_its_transaction(server: RunningServer, tenant: Tenant, other_tenant: Tenant):
    """Row-level security reads the binding; a pooled connection must not carry one request's customer into the next
    (a session-level set_config would)."""
    for each in (tenant, other_tenant):
        project = each.create_project()
        assert each.api().get(f"/v1/projects/{project['id']}").status_code == 200
    pool = server.app.database.engine.pool
    held = [pool.connect() for _ in range(pool.size())]  # every pooled connection, the ones just used among them
    try:
        bindings = {
            pooled.driver_connection.execute("select current_setting('exitus.customer_id', true)").fetchone()[0]
            for pooled in held
        }
    finally:
        for pooled in held:
            pooled.close()
    assert bindings <= {None, ""}, bindings


def test_pooled_connections_carry_the_statement_timeout_and_no_jit(server: RunningServer, config):
    pooled = server.app.database.engine.pool.connect()
    try:
        connection = pooled.driver_connection
        assert connection.execute("show jit").fetchone()[0] == "off"
        timeout_ms = connection.execute("select setting::int from pg_settings where name = 'statement_timeout'")
        assert timeout_ms.fetchone()[0] == config.statement_timeout_ms
    finally:
        pooled.close()
