"""exitus.audit: the canonical form the chain is hashed over, the same in Python as in the database's trigger; and
the serving role, which owns nothing, cannot change the audit trail or the rules around it, nor can the service's
own login (migrations/0009.service-login.sql) when a session leaves the serving role."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from exitus import audit
from exitus.app import create_app
from exitus.db import SERVICE_ROLE, Database
from exitus.dev.postgres import APP_ROLE, SERVICE_LOGIN
from tests.conftest import RunningServer

AWKWARD = {
    "quotes": 'say "hi" \\ back/slash',
    "controls": "\b\f\n\r\t\x01\x1f\x7f",
    "unicode": "ünïcødé \u2028 \U0001f600 日本",
    "nested": {"b": [1, None, "x", {"z": 1, "a": [True, False]}], "a": {}, "A": []},
    "int": 2147483647,
    "big": 9007199254740993,
    "empty": "",
}


def test_the_canonical_form_is_sorted_compact_and_escapes_only_what_json_requires():
    text = audit.canonical({"b": 1, "a": ["é", None, {"d": "\n", "c": True}]}).decode()
    assert text == '{"a":["é",null,{"c":true,"d":"\\n"}],"b":1}'


def test_the_database_serialises_exactly_as_documented(postgres, database_url):
    with psycopg.connect(postgres.libpq_dsn("exitus_test", "exitus")) as connection:
        in_sql = connection.execute("select exitus_canonical_json(%s::jsonb)", (json.dumps(AWKWARD),)).fetchone()[0]
    assert in_sql.encode("utf-8") == audit.canonical(AWKWARD)


@pytest.fixture
def as_service(postgres, database_url, tenant):
    """A connection as the service makes them: logged in as the owner's login, assuming the serving role."""
    connection = psycopg.connect(postgres.libpq_dsn("exitus_test", "exitus") + f" options='-c role={SERVICE_ROLE}'")
    connection.execute("select set_config('exitus.customer_id', %s, false)", (tenant.customer_id,))
    connection.commit()
    yield connection
    connection.close()


DENIED = [
    "update audit_events set action = 'x'",
    "delete from audit_events",
    "truncate audit_events",
    "insert into audit_events select * from audit_events limit 1",
    "update audit_chains set last_sequence = 1",
    "alter table audit_events disable trigger audit_events_append_only",
    "alter table issues disable trigger issues_audit",
    "alter table issues disable row level security",
    "alter table issues no force row level security",
    "alter policy issues_tenant on issues using (true)",
    "drop policy audit_events_tenant on audit_events",
    "create table planted (id int)",
    "delete from issues",
    "truncate issues",
]
# Not here: SET ROLE back to the login. With one database URL the session's login is the owner, and a session may
# always become its login again; only SQL the service does not run (it runs named queries only) could ask to. A
# deployment that must hold against arbitrary SQL gives the service a login of its own: the tests below.


@pytest.mark.parametrize("statement", DENIED)
def test_the_serving_role_cannot_change_the_trail_or_the_rules(as_service, tenant, statement):
    tenant.create_project()  # an event to aim at
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_service.execute(statement)
    as_service.rollback()


def test_the_serving_role_owns_nothing_and_reads_only_its_customers_events(as_service, tenant, other_tenant):
    tenant.create_project()
    other_tenant.create_project()
    role, owned = as_service.execute(
        "select current_user, (select count(*) from pg_class c join pg_roles r on r.oid = c.relowner"
        " where r.rolname = current_user)"
    ).fetchone()
    assert (role, owned) == (SERVICE_ROLE, 0)
    customers = {row[0] for row in as_service.execute("select distinct customer_id::text from audit_events")}
    assert customers == {tenant.customer_id}


@contextlib.contextmanager
def service_connection(config) -> Iterator[psycopg.Connection]:
    """A connection exactly as `exitus serve` makes them with `config` (exitus.db.Database's pool and options)."""
    database = Database(config)
    try:
        pooled = database.engine.pool.connect()
        try:
            yield pooled.driver_connection
        finally:
            pooled.invalidate()  # whatever the test did to the session goes with it
            pooled.close()
    finally:
        database.close()


def test_the_service_login_owns_nothing_holds_nothing_and_can_become_only_the_serving_role(postgres, database_url):
    with psycopg.connect(postgres.libpq_dsn("exitus_test", APP_ROLE)) as owner:
        attributes = owner.execute(
            "select rolcanlogin, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication"
            " from pg_roles where rolname = %s",
            (SERVICE_LOGIN,),
        ).fetchone()
        member_of = owner.execute(
            "select r.rolname from pg_auth_members m join pg_roles r on r.oid = m.roleid"
            " join pg_roles u on u.oid = m.member where u.rolname = %s",
            (SERVICE_LOGIN,),
        ).fetchall()
        owned = owner.execute(
            "select (select count(*) from pg_class where relowner = r.oid) + (select count(*) from pg_proc"
            " where proowner = r.oid) + (select count(*) from pg_namespace where nspowner = r.oid)"
            " + (select count(*) from pg_database where datdba = r.oid) from pg_roles r where r.rolname = %s",
            (SERVICE_LOGIN,),
        ).fetchone()
        own_table_grants = owner.execute(
            "select c.relname from pg_class c, aclexplode(c.relacl) a"
            " where a.grantee = (select oid from pg_roles where rolname = %s)",
            (SERVICE_LOGIN,),
        ).fetchall()
    assert attributes == (True, False, False, False, False, False, False)  # rolinherit False: NOINHERIT
    assert member_of == [(SERVICE_ROLE,)]
    assert owned == (0,)
    assert own_table_grants == []


def test_the_suites_server_connects_with_the_service_login_and_assumes_the_serving_role(config):
    with service_connection(config) as connection:
        assert connection.execute("select session_user, current_user").fetchone() == (SERVICE_LOGIN, SERVICE_ROLE)


# Every way a session can step out of the role it assumed at connection start.
ESCAPES = ["set role none", "reset role", "set session authorization default", "reset session authorization"]
# What a session stepped out of exitus_service must still not do (beyond DENIED): become the owner.
STILL_DENIED = [f"set role {APP_ROLE}", f"set session authorization {APP_ROLE}"]
# ... nor read any customer's rows without a binding, row-level security switched off or not.
UNBOUND_READS = [
    "select count(*) from issues",
    "select count(*) from audit_events",
    "set row_security = off; select count(*) from projects",
]


@pytest.mark.parametrize("escape", ESCAPES)
@pytest.mark.parametrize("statement", DENIED + STILL_DENIED)
def test_the_service_login_cannot_step_out_to_anything_that_alters_the_trail_or_the_rules(
    config, tenant, escape, statement
):
    tenant.create_project()  # rows and an event to aim at
    with service_connection(config) as connection:
        connection.autocommit = True
        connection.execute(escape)
        assert connection.execute("select current_user").fetchone()[0] in (SERVICE_LOGIN, SERVICE_ROLE)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute(statement)


@pytest.mark.parametrize("escape", ESCAPES)
@pytest.mark.parametrize("statement", UNBOUND_READS)
def test_the_service_login_cannot_step_out_to_anything_that_bypasses_row_level_security(
    config, tenant, escape, statement
):
    tenant.create_issue(tenant.create_project()["id"])
    with service_connection(config) as connection:
        connection.autocommit = True
        connection.execute(escape)
        try:
            visible = connection.execute(statement).fetchone()[0]
        except psycopg.errors.InsufficientPrivilege:
            visible = 0
        assert visible == 0


def test_one_database_url_still_serves_as_the_serving_role(config, database_url, tenant):
    """The owner's login for migrations and serving alike (local, compose): every connection assumes
    exitus_service. Against arbitrary SQL it holds less (SET ROLE NONE is the owner again), which is why
    deployments give the service its own login."""
    one_url = dataclasses.replace(config, database_url=database_url)
    with service_connection(one_url) as connection:
        assert connection.execute("select session_user, current_user").fetchone() == (APP_ROLE, SERVICE_ROLE)
        connection.execute("set role none")
        assert connection.execute("select current_user").fetchone() == (APP_ROLE,)
    server = RunningServer(create_app(one_url)).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {tenant.token()}"}) as c:
            created = c.post("/v1/projects", json={"name": "one url", "labels": []})
            assert created.status_code == 201, created.text
            assert c.get(f"/v1/projects/{created.json()['id']}").json()["name"] == "one url"
    finally:
        server.stop()
