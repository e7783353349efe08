"""Users: recorded from verified tokens, per customer."""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pugsql
import sqlalchemy

from exitus.resources import QUERIES_DIR
from tests.conftest import assert_problem


def test_me_is_created_from_the_token_and_refreshed(tenant):
    first = tenant.api(subject="alice", email="alice@old.example", name="Alice").get("/v1/users/me")
    assert first.status_code == 200
    me = first.json()
    assert (me["sub"], me["email"], me["name"], me["version"]) == ("alice", "alice@old.example", "Alice", 1)
    again = tenant.api(subject="alice", email="alice@old.example", name="Alice").get("/v1/users/me").json()
    assert again == me  # unchanged claims cost no write
    changed = tenant.api(subject="alice", email="alice@new.example", name="Alice").get("/v1/users/me").json()
    assert changed["id"] == me["id"]
    assert changed["email"] == "alice@new.example"
    assert changed["version"] == 2


def test_list_and_get_users_of_the_customer(tenant, other_tenant):
    tenant.api(subject="bob", name="Bob").get("/v1/users/me")
    tenant.api(subject="carol", name="Carol").get("/v1/users/me")
    other_tenant.api(subject="mallory").get("/v1/users/me")
    api = tenant.api(subject="bob", name="Bob")
    users = api.get("/v1/users").json()["users"]
    assert [u["sub"] for u in users] == ["bob", "carol"]
    assert [u["sub"] for u in api.get("/v1/users", params={"q": "CAR"}).json()["users"]] == ["carol"]
    assert api.get(f"/v1/users/{users[1]['id']}").json()["name"] == "Carol"


def test_same_subject_in_two_customers_is_two_users(tenant, other_tenant):
    mine = tenant.api(subject="shared").get("/v1/users/me").json()
    theirs = other_tenant.api(subject="shared").get("/v1/users/me").json()
    assert mine["id"] != theirs["id"]
    assert_problem(tenant.api(subject="shared").get(f"/v1/users/{theirs['id']}"), 404)


def test_unknown_user_is_404(tenant):
    assert_problem(tenant.api().get(f"/v1/users/{uuid.uuid4()}"), 404, "user not found")


def test_users_need_the_read_scope(tenant):
    body = assert_problem(tenant.api(scopes=["exitus/project.read"]).get("/v1/users"), 403)
    assert body["required_scopes"] == ["exitus/user.read"]


def test_recording_an_unchanged_caller_takes_no_lock(database_url, tenant):
    """Every request records its caller (upsert_user). For a caller whose profile has not changed that must neither
    write nor lock the row, or one user's concurrent requests would wait for each other's whole transaction."""
    tenant.api(subject="busy-user").get("/v1/users/me")  # the user exists
    engine = sqlalchemy.create_engine(database_url)
    statement = sqlalchemy.text(pugsql.module(str(QUERIES_DIR)).upsert_user.sql)
    params = {"customer_id": tenant.customer_id, "sub": "busy-user", "email": None, "name": None}
    bind = sqlalchemy.text("select set_config('exitus.customer_id', :customer_id, true)")
    try:
        with engine.connect() as first, engine.connect() as second:
            first.execute(bind, params)
            first_id = first.execute(statement, params).scalar()  # its transaction stays open
            second.execute(sqlalchemy.text("set local lock_timeout = '2s'"))
            second.execute(bind, params)
            assert second.execute(statement, params).scalar() == first_id  # no LockNotAvailable
            changed = {**params, "name": "Busy User"}
            assert second.execute(statement, changed).scalar() == first_id  # a change writes...
            second.commit()
            first.rollback()
        with engine.connect() as check:
            check.execute(bind, params)
            row = check.execute(sqlalchemy.text("select name, version from users where sub = 'busy-user'")).one()
        assert row == ("Busy User", 2)  # ...once
    finally:
        engine.dispose()


def test_two_first_requests_of_a_new_user_racing_both_get_the_user(database_url, tenant):
    """The second insert of the same new user waits for the first transaction; once it commits, the second must
    still return the user (no row would read as "the customer does not exist": a 403 under concurrent load)."""
    engine = sqlalchemy.create_engine(database_url)
    statement = sqlalchemy.text(pugsql.module(str(QUERIES_DIR)).upsert_user.sql)
    params = {"customer_id": tenant.customer_id, "sub": f"new-{uuid.uuid4()}", "email": None, "name": "New"}
    bind = sqlalchemy.text("select set_config('exitus.customer_id', :customer_id, true)")
    try:
        with engine.connect() as first, engine.connect() as second, ThreadPoolExecutor(max_workers=1) as pool:
            first.execute(bind, params)
            created = first.execute(statement, params).scalar()  # not committed yet
            second.execute(bind, params)
            racing = pool.submit(lambda: second.execute(statement, params).scalar())
            time.sleep(0.3)  # let the second statement reach the first one's row lock (it cannot finish before)
            assert not racing.done()
            first.commit()
            assert racing.result(timeout=30) == created
            second.commit()
            second.execute(bind, params)  # a new transaction: bind it to the customer again (row-level security)
            version = second.execute(sqlalchemy.text("select version from users where id = :id"), {"id": created})
            assert version.scalar() == 1  # the racing request changed nothing
    finally:
        engine.dispose()
