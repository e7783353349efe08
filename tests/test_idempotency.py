"""Idempotency keys through HTTP against the real database (exitus/idempotency.py, the seam, migration
0008.idempotency): a POST with a key happens once per customer and key; retries get the first response again."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from exitus.app import create_app
from exitus.cli import main as exitus_main
from exitus.dev.postgres import LocalPostgres
from tests.conftest import ADMIN_SCOPES, CLIENT_ID, Api, RunningServer, Tenant, assert_problem, new_tenant

ISSUE = {"subject": "S", "content": "C", "severity": "low", "category": "bug", "labels": []}


@pytest.fixture
def superuser(postgres: LocalPostgres, database_url: str) -> Iterator[psycopg.Connection]:
    """The test database as its superuser (row-level security out of the way), autocommitting."""
    with psycopg.connect(postgres.libpq_dsn("exitus_test", "postgres"), autocommit=True) as connection:
        yield connection


def key() -> str:
    return f"key-{uuid.uuid4()}"


def with_key(value: str | bytes) -> dict[str, str | bytes]:
    return {"Idempotency-Key": value}


def project_names(api: Api) -> list[str]:
    return [p["name"] for p in api.get("/v1/projects", params={"limit": 100}).json()["projects"]]


def audit_actions(api: Api) -> list[str]:
    return [event["action"] for event in api.get("/v1/audit-events", params={"limit": 100}).json()["events"]]


def test_a_retry_gets_the_first_response_again_and_nothing_is_done_twice(tenant: Tenant):
    api = tenant.api()
    project = tenant.create_project()
    api.get("/v1/users/me")  # the caller is recorded before counting audit events
    url = f"/v1/projects/{project['id']}/issues"
    first = api.post(url, json=ISSUE, headers=with_key("retry-me"))
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    events = audit_actions(api)

    # The same request, spelled differently (member order, whitespace): the same request.
    respelled = '{ "labels": [], "category": "bug", "severity": "low", "content": "C", "subject": "S" }'
    retry = api.post(url, content=respelled, headers={**with_key("retry-me"), "Content-Type": "application/json"})
    assert retry.status_code == 201, retry.text
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.content == first.content  # byte for byte
    for header in ("location", "etag", "content-type"):
        assert retry.headers[header] == first.headers[header], header
    issues = api.get(url).json()["issues"]
    assert [issue["id"] for issue in issues] == [first.json()["id"]]
    assert audit_actions(api) == events  # a replay records nothing


@pytest.mark.parametrize("operation", ["project", "issue", "comment"])
def test_every_post_of_a_tenant_replays(tenant: Tenant, operation: str):
    api = tenant.api()
    project = tenant.create_project()
    issue = tenant.create_issue(project["id"])
    url, body = {
        "project": ("/v1/projects", {"name": "once", "labels": []}),
        "issue": (f"/v1/projects/{project['id']}/issues", ISSUE),
        "comment": (f"/v1/projects/{project['id']}/issues/{issue['id']}/comments", {"content": "once"}),
    }[operation]
    answers = [api.post(url, json=body, headers=with_key("k")) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert [a.headers.get("idempotent-replayed") for a in answers] == [None, "true", "true"]
    assert len({a.content for a in answers}) == 1


def test_the_same_key_with_another_request_is_refused_and_does_nothing(tenant: Tenant):
    api = tenant.api()
    assert api.post("/v1/projects", json={"name": "first", "labels": []}, headers=with_key("k")).status_code == 201
    other_body = api.post("/v1/projects", json={"name": "second", "labels": []}, headers=with_key("k"))
    assert_problem(other_body, 422, problem_type="idempotency-key-reused")
    project_id = api.get("/v1/projects").json()["projects"][0]["id"]
    other_path = api.post(f"/v1/projects/{project_id}/issues", json=ISSUE, headers=with_key("k"))
    assert_problem(other_path, 422, problem_type="idempotency-key-reused")
    other_caller = tenant.api(subject="another-user").post(
        "/v1/projects", json={"name": "first", "labels": []}, headers=with_key("k")
    )
    assert_problem(other_caller, 422, problem_type="idempotency-key-reused")  # never one user's answer to another
    assert project_names(api) == ["first"]
    assert api.get(f"/v1/projects/{project_id}/issues").json()["issues"] == []


def test_the_same_key_and_body_on_another_path_is_another_request(tenant: Tenant):
    project = tenant.create_project()
    first, second = (tenant.create_issue(project["id"]) for _ in range(2))
    api = tenant.api()
    url = f"/v1/projects/{project['id']}/issues/{{}}/comments"
    assert api.post(url.format(first["id"]), json={"content": "c"}, headers=with_key("k")).status_code == 201
    elsewhere = api.post(url.format(second["id"]), json={"content": "c"}, headers=with_key("k"))
    assert_problem(elsewhere, 422, problem_type="idempotency-key-reused")
    assert api.get(url.format(second["id"])).json()["comments"] == []


def test_a_failed_request_stores_nothing_so_a_corrected_retry_succeeds(tenant: Tenant):
    api = tenant.api()
    tenant.create_project("taken")
    clash = api.post("/v1/projects", json={"name": "taken", "labels": []}, headers=with_key("k"))
    assert_problem(clash, 409)
    invalid = api.post("/v1/projects", json={"name": "", "labels": []}, headers=with_key("k"))
    assert_problem(invalid, 400)
    corrected = api.post("/v1/projects", json={"name": "free", "labels": []}, headers=with_key("k"))
    assert corrected.status_code == 201, corrected.text
    assert "idempotent-replayed" not in corrected.headers


def test_another_customers_identical_key_is_another_key(tenant: Tenant, other_tenant: Tenant):
    body = {"name": "same name", "labels": []}
    mine = tenant.api(subject="same-subject").post("/v1/projects", json=body, headers=with_key("shared"))
    theirs = other_tenant.api(subject="same-subject").post("/v1/projects", json=body, headers=with_key("shared"))
    assert mine.status_code == theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]
    assert project_names(other_tenant.api()) == ["same name"]


def test_an_administrators_key_is_kept_for_the_customer_its_token_names(tenant: Tenant, issuer, http, admin: Api):
    scoped_admin = Api(http, issuer.token(scopes=ADMIN_SCOPES, customer=tenant.customer_id, client_id=CLIENT_ID))
    body = {"name": f"customer {uuid.uuid4()}", "labels": []}
    first = scoped_admin.post("/v1/customers", json=body, headers=with_key("new-customer"))
    again = scoped_admin.post("/v1/customers", json=body, headers=with_key("new-customer"))
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true" and again.content == first.content
    # A token that names no customer has nowhere to keep a key: refused, nothing created.
    unscoped = admin.post("/v1/customers", json={"name": f"c {uuid.uuid4()}", "labels": []}, headers=with_key("x"))
    assert_problem(unscoped, 403, "Idempotency-Key")


@pytest.mark.parametrize("value", ["", "x" * 256, "tab\tinside", b"caf\xe9"])
def test_a_malformed_key_is_refused(tenant: Tenant, value: str | bytes):
    response = tenant.api().post("/v1/projects", json={"name": "p", "labels": []}, headers=with_key(value))
    assert_problem(response, 400)
    assert project_names(tenant.api()) == []


def test_the_longest_key_is_accepted(tenant: Tenant):
    response = tenant.api().post("/v1/projects", json={"name": "p", "labels": []}, headers=with_key("~ !" * 85))
    assert response.status_code == 201, response.text


@pytest.fixture
def held_issue(superuser: psycopg.Connection, tenant: Tenant):
    """An issue whose row another transaction holds locked: a comment on it waits (its foreign key check) until the
    returned function releases it; so a POST can be kept in flight."""
    project = tenant.create_project()
    issue = tenant.create_issue(project["id"])
    holder = psycopg.connect(superuser.info.dsn)
    holder.execute("select 1 from issues where id = %s for update", (issue["id"],))
    yield f"/v1/projects/{project['id']}/issues/{issue['id']}/comments", holder.commit
    holder.close()


def wait_until_blocked(superuser: psycopg.Connection, count: int = 1) -> None:
    """Until `count` sessions wait for a lock (the held issue row)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        waiting = superuser.execute(
            "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and datname = 'exitus_test'"
        ).fetchone()[0]
        if waiting >= count:
            return
        time.sleep(0.02)
    raise AssertionError("no request came to wait for the held row")


def test_a_retry_while_the_first_is_in_flight_answers_409_at_once(tenant: Tenant, held_issue, superuser):
    url, release = held_issue
    api = tenant.api()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(api.post, url, json={"content": "once"}, headers=with_key("k"))
        wait_until_blocked(superuser)
        retry = api.post(url, json={"content": "once"}, headers=with_key("k"))  # answered while the first waits
        assert_problem(retry, 409, problem_type="idempotency-key-in-flight")
        assert int(retry.headers["retry-after"]) >= 1
        assert not first.done()
        release()
        assert first.result().status_code == 201
    replay = api.post(url, json={"content": "once"}, headers=with_key("k"))
    assert replay.headers["idempotent-replayed"] == "true" and replay.content == first.result().content
    assert len(api.get(url).json()["comments"]) == 1


def test_ten_concurrent_posts_with_one_key_create_one_resource(tenant: Tenant, server: RunningServer):
    """Every answer is the one 201 (made or replayed) or 409 in flight; exactly one project exists."""
    token = tenant.token()
    start = threading.Barrier(10)

    def post(_: int) -> httpx.Response:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            start.wait()
            return client.post(
                "/v1/projects",
                json={"name": "raced", "labels": []},
                headers={"Authorization": f"Bearer {token}", **with_key("raced")},
            )

    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(post, range(10)))
    created = [a for a in answers if a.status_code == 201]
    assert created, [a.text for a in answers]
    assert len({a.content for a in created}) == 1
    assert [a.headers.get("idempotent-replayed") for a in created].count(None) <= 1
    for answer in answers:
        if answer.status_code != 201:
            assert_problem(answer, 409, problem_type="idempotency-key-in-flight")
    assert project_names(tenant.api()) == ["raced"]


def test_ten_posts_with_one_key_while_the_first_is_held_one_wins_the_rest_are_in_flight(
    tenant: Tenant, held_issue, superuser
):
    url, release = held_issue
    api = tenant.api()
    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        first = pool.submit(api.post, url, json={"content": "c"}, headers=with_key("k"))
        wait_until_blocked(superuser)
        others = list(pool.map(lambda _: api.post(url, json={"content": "c"}, headers=with_key("k")), range(9)))
        release()
        assert first.result().status_code == 201
    for answer in others:
        assert_problem(answer, 409, problem_type="idempotency-key-in-flight")
    assert len(api.get(url).json()["comments"]) == 1


def stored_keys(superuser: psycopg.Connection, customer_id: str) -> dict[str, bool]:
    """The customer's stored keys: key -> expired."""
    rows = superuser.execute(
        "select key, expires_at <= now() from idempotency_keys where customer_id = %s", (customer_id,)
    ).fetchall()
    return dict(rows)


def expire(superuser: psycopg.Connection, customer_id: str, *keys: str) -> None:
    superuser.execute(
        "update idempotency_keys set expires_at = now() - interval '1 second' where customer_id = %s and key = any(%s)",
        (customer_id, list(keys)),
    )


def test_an_expired_key_is_a_new_key(tenant: Tenant, superuser):
    api = tenant.api()
    body = {"name": "expiring", "labels": []}
    first = api.post("/v1/projects", json=body, headers=with_key("k"))
    expire(superuser, tenant.customer_id, "k")
    assert stored_keys(superuser, tenant.customer_id) == {"k": True}
    clash = api.post("/v1/projects", json=body, headers=with_key("k"))  # done again: the name is taken now
    assert_problem(clash, 409)
    again = api.post("/v1/projects", json={"name": "after expiry", "labels": []}, headers=with_key("k"))
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert again.json()["id"] != first.json()["id"]
    assert stored_keys(superuser, tenant.customer_id) == {"k": False}


def test_keys_live_as_long_as_configured(config, tenant: Tenant, superuser):
    server = RunningServer(create_app(dataclasses.replace(config, idempotency_key_ttl_seconds=1))).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            api = Api(http, tenant.token())
            first = api.post("/v1/projects", json={"name": "short-lived", "labels": []}, headers=with_key("k"))
            assert api.post("/v1/projects", json={"name": "short-lived", "labels": []}, headers=with_key("k")).headers[
                "idempotent-replayed"
            ]
            time.sleep(1.1)
            late = api.post("/v1/projects", json={"name": "second", "labels": []}, headers=with_key("k"))
            assert late.status_code == 201 and late.json()["id"] != first.json()["id"]
    finally:
        server.stop()
    lifetime = superuser.execute(
        "select extract(epoch from expires_at - created_at) from idempotency_keys where customer_id = %s",
        (tenant.customer_id,),
    ).fetchone()[0]
    assert float(lifetime) == 1.0


def test_a_post_removes_some_of_its_customers_expired_keys_and_no_one_elses(
    tenant: Tenant, other_tenant: Tenant, superuser
):
    for owner in (tenant, other_tenant):
        api = owner.api()
        for number in range(12):
            api.post("/v1/projects", json={"name": f"p{number}", "labels": []}, headers=with_key(f"old-{number}"))
        expire(superuser, owner.customer_id, *[f"old-{number}" for number in range(12)])
    tenant.api().post("/v1/projects", json={"name": "new", "labels": []}, headers=with_key("new"))
    mine = stored_keys(superuser, tenant.customer_id)
    assert sum(mine.values()) == 2 and mine["new"] is False  # 10 of 12 expired keys went in passing
    assert sum(stored_keys(superuser, other_tenant.customer_id).values()) == 12


def test_the_prune_command_removes_every_expired_key_and_only_those(
    tenant: Tenant, other_tenant: Tenant, superuser, database_url, monkeypatch, capsys
):
    for owner in (tenant, other_tenant):
        for name in ("live", "dead"):
            owner.api().post("/v1/projects", json={"name": name, "labels": []}, headers=with_key(name))
        expire(superuser, owner.customer_id, "dead")
    monkeypatch.setenv("PGDATASOURCE", database_url)
    assert exitus_main(["prune-idempotency-keys"]) == 0
    assert "removed" in capsys.readouterr().out
    for owner in (tenant, other_tenant):
        assert stored_keys(superuser, owner.customer_id) == {"live": False}


def test_a_key_from_a_rolled_back_request_can_be_used_again(tenant: Tenant, admin: Api, issuer, http):
    """Even a 2xx-bound request that fails late (an unknown assignee, refused by a foreign key) leaves no key."""
    project = tenant.create_project()
    api = tenant.api()
    url = f"/v1/projects/{project['id']}/issues"
    unknown = api.post(url, json={**ISSUE, "assignee": str(uuid.uuid4())}, headers=with_key("k"))
    assert_problem(unknown, 409)
    assert api.post(url, json=ISSUE, headers=with_key("k")).status_code == 201
    fresh = new_tenant(admin, issuer, http)  # and a new customer's same key is still free
    assert fresh.api().post("/v1/projects", json={"name": "x", "labels": []}, headers=with_key("k")).is_success
