"""Row-level security alone: with no query of queries/ and no customer_id filter in the way, a connection of the
service's role sees and writes only the rows of the customer its transaction is bound to, on every tenant table.

The tenant tables are read from the catalogue (every table with a customer_id column), so a table added by a later
migration is held to the same rules without this file changing. The data is two customers' look-alike rows
(tests/isolation_world.py) in a throwaway database; the binding is the service's own (queries/session.sql).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from exitus.db import BIND_REQUEST
from exitus.dev.postgres import APP_ROLE, LocalPostgres
from tests.isolation_world import World, migrated_database, seed

DATABASE = "exitus_isolation_rls"
KNOWN_TENANT_TABLES = {"users", "projects", "issues", "comments"}


@pytest.fixture(scope="module")
def world(postgres: LocalPostgres) -> Iterator[World]:
    migrated_database(postgres, DATABASE)
    with psycopg.connect(postgres.libpq_dsn(DATABASE, "postgres")) as superuser:
        yield seed(superuser, DATABASE)
    postgres.drop_database(DATABASE)


@pytest.fixture
def superuser(postgres: LocalPostgres, world: World) -> Iterator[psycopg.Connection]:
    with psycopg.connect(postgres.libpq_dsn(DATABASE, "postgres")) as connection:
        yield connection


@pytest.fixture
def service(postgres: LocalPostgres, world: World) -> Iterator[psycopg.Connection]:
    """A connection as the role the service connects as (it owns the tables); every test's changes rolled back."""
    with psycopg.connect(postgres.libpq_dsn(DATABASE, APP_ROLE)) as connection:
        yield connection
        connection.rollback()


@pytest.fixture
def tenant_tables(superuser: psycopg.Connection) -> list[str]:
    rows = superuser.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'public' and c.relkind in ('r', 'p') and exists ("
        "   select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'customer_id' and not a.attisdropped)"
        # What the serving role can read (audit_chains is the audit trigger's alone: tests/api/test_audit*.py)
        " and has_table_privilege('exitus_service', c.oid, 'select')"
        " order by 1"
    ).fetchall()
    tables = [row[0] for row in rows]
    assert set(tables) >= KNOWN_TENANT_TABLES, tables  # the catalogue query itself is not blind
    return tables


def bind(world: World, connection: psycopg.Connection, customer_id: str) -> None:
    """The request's binding, as the service makes it: transaction-local."""
    context = dict.fromkeys(("actor_sub", "request_id", "trace_id", "client_ip", "user_agent"))
    world.run(connection, BIND_REQUEST, customer_id=customer_id, **context)


def count(connection: psycopg.Connection, table: str, where: str = "true", params: tuple = ()) -> int:
    query = sql.SQL("select count(*) from {} where ").format(sql.Identifier(table)) + sql.SQL(where)
    return connection.execute(query, params).fetchone()[0]


def test_every_tenant_table_has_row_level_security_enabled_and_forced(superuser, tenant_tables):
    flags = {
        name: (enabled, forced)
        for name, enabled, forced in superuser.execute(
            "select relname, relrowsecurity, relforcerowsecurity from pg_class where relname = any(%s)"
            " and relnamespace = 'public'::regnamespace",
            (tenant_tables,),
        )
    }
    assert {name: flag for name, flag in flags.items() if flag != (True, True)} == {}
    assert set(flags) == set(tenant_tables)


def test_the_service_role_is_subject_to_row_level_security(service):
    superuser, bypass = service.execute(
        "select rolsuper, rolbypassrls from pg_roles where rolname = current_user"
    ).fetchone()
    assert (superuser, bypass) == (False, False)


def test_every_tenant_table_holds_rows_of_both_customers(world, superuser, tenant_tables):
    """Without them the checks below would see nothing for want of data: seed a new tenant table in
    tests/isolation_world.py."""
    empty = {
        table: key
        for table in tenant_tables
        for key, customer in world.customers.items()
        if count(superuser, table, "customer_id = %s", (customer.id,)) == 0
    }
    assert empty == {}


@pytest.mark.parametrize(
    "binding", [None, "", "00000000-0000-0000-0000-000000000000"], ids=["unbound", "empty", "nobody"]
)
def test_a_connection_bound_to_no_customer_sees_nothing(world, service, tenant_tables, binding):
    if binding is not None:
        bind(world, service, binding)
    assert {table: count(service, table) for table in tenant_tables} == dict.fromkeys(tenant_tables, 0)


def test_a_bound_connection_sees_its_customer_only_without_any_filter(world, service, tenant_tables):
    for key, customer in world.customers.items():
        bind(world, service, customer.id)
        foreign = {table: count(service, table, "customer_id <> %s", (customer.id,)) for table in tenant_tables}
        assert foreign == dict.fromkeys(tenant_tables, 0), key
        assert all(count(service, table) > 0 for table in tenant_tables), key
        service.rollback()


def test_the_binding_ends_with_its_transaction(world, service, tenant_tables):
    """A pooled connection serves one request after another: the next transaction must start unbound."""
    for customer in world.customers.values():
        bind(world, service, customer.id)
        assert count(service, "projects") > 0
        service.commit()
        assert {table: count(service, table) for table in tenant_tables} == dict.fromkeys(tenant_tables, 0)
        service.commit()


def test_a_bound_connection_cannot_write_another_customers_rows(world, service, tenant_tables):
    a, b = world.customers["A"], world.customers["B"]
    # The tables the serving role may write; audit_events it may only read (its append-only rules and grants:
    # tests/api/test_audit*.py).
    writable = [
        table
        for table in tenant_tables
        if service.execute("select has_table_privilege('exitus_service', %s, 'insert')", (table,)).fetchone()[0]
    ]
    assert set(writable) >= KNOWN_TENANT_TABLES, writable
    for table in writable:
        bind(world, service, a.id)
        identifier = sql.Identifier(table)
        # Another customer's rows are neither changed nor deleted: they are not there.
        moved = service.execute(
            sql.SQL("update {} set customer_id = customer_id where customer_id = %s").format(identifier), (b.id,)
        )
        assert moved.rowcount == 0, table
        assert (
            service.execute(sql.SQL("delete from {} where customer_id = %s").format(identifier), (b.id,)).rowcount == 0
        )
        # A row of the other customer cannot be written (WITH CHECK), whether inserted or moved there.
        own = service.execute(sql.SQL("select to_jsonb(t) from {} t limit 1").format(identifier)).fetchone()[0]
        planted = {**own, "customer_id": b.id, **({"id": str(uuid.uuid4())} if "id" in own else {})}
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"), service.transaction():
            service.execute(
                sql.SQL("insert into {} select * from jsonb_populate_record(null::{}, %s)").format(
                    identifier, identifier
                ),
                (Jsonb(planted),),
            )
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"), service.transaction():
            service.execute(sql.SQL("update {} set customer_id = %s").format(identifier), (b.id,))
        service.rollback()
    bind(world, service, b.id)
    assert {table: count(service, table) > 0 for table in tenant_tables} == dict.fromkeys(tenant_tables, True)


# -- the search role (migrations/0007.list-indexes.sql) -------------------------------------------------------------
# The one policy that does not bind the customer is for exitus_search, which owns the search function (a trigram
# index can serve its ILIKE only without the tenant policy in the way); that function binds the customer itself.


def test_only_the_search_role_has_a_policy_that_does_not_bind_the_customer(superuser, tenant_tables):
    unbound = superuser.execute(
        "select tablename, policyname, roles::text[], cmd from pg_policies"
        " where schemaname = 'public' and tablename = any(%s)"
        " and coalesce(qual, '') not like '%%exitus_request_customer()%%' and cmd <> 'INSERT'",
        (tenant_tables,),
    ).fetchall()
    assert unbound == [("issues", "issues_search", ["exitus_search"], "SELECT")]


def test_no_login_and_no_other_role_can_act_as_the_search_role(superuser, service):
    role = superuser.execute(
        "select rolcanlogin, rolsuper, rolbypassrls, rolinherit from pg_roles where rolname = 'exitus_search'"
    ).fetchone()
    assert role == (False, False, False, False)
    # Policies apply to members too: neither the owner (FORCEd row-level security) nor the serving role may be one.
    members = superuser.execute(
        "select rolname from pg_roles where not rolsuper and rolname <> 'exitus_search'"
        " and pg_has_role(oid, 'exitus_search', 'member')"
    ).fetchall()
    assert members == []
    service.execute("set role exitus_service")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        service.execute("set role exitus_search")


def test_the_search_role_owns_only_the_search_function_and_reads_only_searched_columns(superuser):
    owned = superuser.execute(
        "select p.oid::regprocedure::text from pg_proc p where p.proowner = 'exitus_search'::regrole"
        " union all select c.relname from pg_class c where c.relowner = 'exitus_search'::regrole"
    ).fetchall()
    assert owned == [("exitus_search_issues(uuid,uuid,text,integer)",)]
    tables = superuser.execute(
        "select table_name from information_schema.role_table_grants where grantee = 'exitus_search'"
    ).fetchall()
    assert tables == []
    columns = superuser.execute(
        "select table_name, column_name, privilege_type from information_schema.column_privileges"
        " where grantee = 'exitus_search' order by 2"
    ).fetchall()
    assert columns == [
        ("issues", name, "SELECT")
        for name in sorted(("content", "created_at", "customer_id", "id", "project_id", "subject"))
    ]


def search(service: psycopg.Connection, customer_id: str, project_id: str, pattern: str) -> set[str]:
    found = service.execute(
        "select exitus_search_issues(%s, %s, %s, 100)", (customer_id, project_id, pattern)
    ).fetchone()[0]
    return {str(i) for i in found}


# Both of the function's searches (migrations/0010): by the pattern's trigram keys, and, for a pattern without a
# trigram, through the project's rows.
@pytest.mark.parametrize("pattern", ["%needle%", "%ee%"])
def test_the_search_function_reads_the_bound_customers_issues_only(world, service, pattern):
    a, b = world.customers["A"], world.customers["B"]
    service.execute("set role exitus_service")
    assert search(service, a.id, a.projects["alpha"], pattern) == set()  # unbound
    bind(world, service, a.id)
    assert search(service, a.id, a.projects["alpha"], pattern) == {a.issues["alpha"]}
    for customer_id, project_id in (
        (b.id, b.projects["alpha"]),
        (a.id, b.projects["alpha"]),
        (b.id, a.projects["alpha"]),
    ):
        assert search(service, customer_id, project_id, pattern) == set(), (customer_id, project_id)
