"""exitus.audit: the canonical form the chain is hashed over, the same in Python as in the database's trigger; and
the serving role, which owns nothing, cannot change the audit trail or the rules around it."""

from __future__ import annotations

import json

import psycopg
import pytest

from exitus import audit
from exitus.db import SERVICE_ROLE

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
# deployment that must hold against arbitrary SQL gives the service a login of its own (migrations/0005.audit.sql).


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
