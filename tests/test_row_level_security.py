"""Row-level security: a query that forgets its customer_id filter still sees only the request's customer."""

import psycopg
import pytest
from sqlalchemy.engine import make_url


@pytest.fixture
def connect(database_url):
    url = make_url(database_url)
    dsn = f"host={url.host} port={url.port} dbname={url.database} user={url.username}"

    def open_connection():
        return psycopg.connect(dsn)

    return open_connection


def test_unfiltered_query_sees_only_the_bound_customer(connect, tenant, other_tenant):
    mine = tenant.create_project("mine")
    theirs = other_tenant.create_project("theirs")
    with connect() as conn:
        conn.execute("select set_config('exitus.customer_id', %s, true)", (tenant.customer_id,))
        seen = {str(row[0]) for row in conn.execute("select id from projects")}  # no customer_id filter
    assert str(mine["id"]) in seen
    assert str(theirs["id"]) not in seen


def test_without_a_bound_customer_nothing_is_visible(connect, tenant):
    tenant.create_project("invisible")
    with connect() as conn:
        assert conn.execute("select count(*) from projects").fetchone()[0] == 0
        assert conn.execute("select count(*) from users").fetchone()[0] == 0


def test_writes_to_another_customer_are_refused(connect, tenant, other_tenant):
    theirs = other_tenant.create_project("target")
    with connect() as conn:
        conn.execute("select set_config('exitus.customer_id', %s, true)", (tenant.customer_id,))
        changed = conn.execute("update projects set name = 'pwned' where id = %s", (theirs["id"],)).rowcount
        assert changed == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("insert into projects (customer_id, name) values (%s, 'planted')", (other_tenant.customer_id,))
    assert other_tenant.api().get(f"/v1/projects/{theirs['id']}").json()["name"] == "target"


def test_the_service_role_cannot_bypass(connect):
    with connect() as conn:
        superuser, bypass = conn.execute(
            "select rolsuper, rolbypassrls from pg_roles where rolname = current_user"
        ).fetchone()
    assert not superuser and not bypass
