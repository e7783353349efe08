"""The audit trail through HTTP: what each change records, what failures do not, paging, export, verification,
tampering, and customers' trails kept apart."""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.client import HTTPResponse
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from exitus.api.audit import NDJSON
from exitus.app import create_app
from exitus.client import forwarded_allow_ips
from exitus.dev.postgres import SERVICE_LOGIN
from exitus.request_scope import RequestScope
from tests.conftest import CLIENT_ID, RawConnection, RunningServer, Tenant, assert_problem

NEW_ISSUE = {"subject": "Crash", "content": "It crashes", "severity": "high", "category": "bug", "labels": ["ui"]}


def events(tenant: Tenant, **params) -> list[dict]:
    response = tenant.api().get("/v1/audit-events", params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()["events"]


def oldest_first(tenant: Tenant, **params) -> list[dict]:
    return list(reversed(events(tenant, **params)))


def verify(tenant: Tenant) -> dict:
    response = tenant.api().get("/v1/audit-events/verify")
    assert response.status_code == 200, response.text
    return response.json()


@contextlib.contextmanager
def superuser(postgres) -> Iterator[psycopg.Connection]:
    with psycopg.connect(postgres.libpq_dsn("exitus_test", "postgres"), autocommit=True) as connection:
        yield connection


def test_every_kind_of_change_records_one_event_with_its_values(tenant: Tenant):
    api = tenant.api(subject="auditor-ada", name="Ada")
    me = api.get("/v1/users/me").json()  # first sight of the user
    other = tenant.api(subject="auditor-bob").get("/v1/users/me").json()
    project = api.post("/v1/projects", json={"name": "Audited", "labels": ["a"]}).json()
    api.put(f"/v1/projects/{project['id']}", json={"name": "Renamed", "labels": ["a"], "version": 1}).raise_for_status()
    issues = f"/v1/projects/{project['id']}/issues"
    issue = api.post(issues, json=NEW_ISSUE).json()
    edited = {**NEW_ISSUE, "subject": "Crash on save", "version": 1}
    api.put(f"{issues}/{issue['id']}", json=edited).raise_for_status()
    api.put(f"{issues}/{issue['id']}", json={**edited, "state": "closed", "version": 2}).raise_for_status()
    assigned = {**edited, "assignee": other["id"], "version": 3}
    api.put(f"{issues}/{issue['id']}", json=assigned).raise_for_status()
    comments = f"{issues}/{issue['id']}/comments"
    comment = api.post(comments, json={"content": "first"}).json()
    api.put(f"{comments}/{comment['id']}", json={"content": "second", "version": 1}).raise_for_status()
    votes = f"{issues}/{issue['id']}/votes/me"
    for vote in (api.put, api.put, api.delete, api.delete):  # repeating one changes nothing and records nothing
        assert vote(votes).status_code == 204
    customer = tenant.api().get(f"/v1/customers/{tenant.customer_id}").json()
    tenant.api().put(
        f"/v1/customers/{tenant.customer_id}", json={"name": customer["name"], "labels": ["x"], "version": 1}
    ).raise_for_status()

    trail = oldest_first(tenant)
    assert [e["action"] for e in trail] == [
        "customer.created",
        "user.created",
        "user.created",
        "project.created",
        "project.updated",
        "issue.created",
        "issue.updated",
        "issue.state_changed",
        "issue.assignee_changed",
        "comment.created",
        "comment.updated",
        "issue.voted",
        "issue.vote_withdrawn",
        "user.created",  # the default test subject's first request
        "customer.updated",
    ]
    assert [e["sequence"] for e in trail] == list(range(1, len(trail) + 1))
    by_action = {e["action"]: e for e in trail}
    first_user = trail[1]
    assert first_user["resource"] == {"type": "user", "id": me["id"], "project_id": None, "issue_id": None}
    assert first_user["actor"] == {"sub": "auditor-ada", "user_id": me["id"]}
    assert first_user["changes"]["name"] == {"after": "Ada"}
    assert by_action["project.created"]["changes"]["name"] == {"after": "Audited"}
    assert by_action["project.updated"]["changes"] == {
        "name": {"before": "Audited", "after": "Renamed"},
        "version": {"before": 1, "after": 2},
    }
    assert by_action["issue.created"]["changes"]["labels"] == {"after": ["ui"]}
    assert by_action["issue.created"]["changes"]["number"] == {"after": 1}
    # the project's issue counter is no change of the project: created without it, not updated by the issue
    assert "last_issue_number" not in by_action["project.created"]["changes"]
    assert by_action["issue.created"]["resource"] == {
        "type": "issue",
        "id": issue["id"],
        "project_id": project["id"],
        "issue_id": None,
    }
    assert by_action["issue.updated"]["changes"] == {
        "subject": {"before": "Crash", "after": "Crash on save"},
        "version": {"before": 1, "after": 2},
    }
    assert by_action["issue.state_changed"]["changes"]["state"] == {"before": "open", "after": "closed"}
    assert by_action["issue.assignee_changed"]["changes"]["assignee"] == {"before": None, "after": other["id"]}
    assert by_action["comment.updated"]["changes"]["content"] == {"before": "first", "after": "second"}
    assert by_action["comment.updated"]["resource"]["issue_id"] == issue["id"]
    assert by_action["issue.voted"]["changes"] == {"votes": {"before": 0, "after": 1}}
    assert by_action["issue.vote_withdrawn"]["changes"] == {"votes": {"before": 1, "after": 0}}
    assert by_action["issue.voted"]["resource"] == by_action["issue.created"]["resource"]
    assert by_action["customer.updated"]["changes"]["labels"] == {"before": ["test"], "after": ["x"]}
    assert trail[0]["actor"] == {"sub": "platform-admin", "user_id": None}
    for event in trail[3:13]:
        assert event["actor"] == {"sub": "auditor-ada", "user_id": me["id"]}
        assert event["client_ip"] == "127.0.0.1"
        assert event["customer_id"] == tenant.customer_id
    assert verify(tenant) == {"ok": True, "verified": len(trail), "last_hash": trail[-1]["hash"]}


def test_an_event_carries_the_request_it_came_from(tenant: Tenant):
    api = tenant.api()
    response = api.post(
        "/v1/projects",
        json={"name": "traced", "labels": []},
        headers={"X-Request-ID": "audit-req-1", "User-Agent": "auditing-agent/1.0", "X-Forwarded-For": "198.51.100.9"},
    )
    assert response.status_code == 201
    event = events(tenant, action="project.created")[0]
    assert event["request_id"] == "audit-req-1"
    assert event["user_agent"] == "auditing-agent/1.0"
    assert event["client_ip"] == "127.0.0.1"  # no trusted proxies: X-Forwarded-For is the client's claim, ignored


def test_behind_a_trusted_proxy_the_client_is_the_nearest_untrusted_hop(config, admin, issuer, http, tenant: Tenant):
    app = create_app(config)
    proxied = RunningServer(app, forwarded_allow_ips=forwarded_allow_ips(("127.0.0.1", "10.0.0.0/8"))).start()
    try:
        token = tenant.token()
        spoofed_then_real_then_proxy = "192.0.2.66, 203.0.113.7, 10.1.2.3"
        response = http.post(
            f"{proxied.url}/v1/projects",
            json={"name": "via proxy", "labels": []},
            headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": spoofed_then_real_then_proxy},
        )
        assert response.status_code == 201, response.text
    finally:
        proxied.stop()
    assert events(tenant, action="project.created")[0]["client_ip"] == "203.0.113.7"


def test_rolled_back_requests_record_nothing(tenant: Tenant):
    api = tenant.api()
    project = tenant.create_project("once")
    before = events(tenant)
    assert_problem(api.post("/v1/projects", json={"name": "ONCE", "labels": []}), 409)  # duplicate name
    stale = {"name": "x", "labels": [], "version": 7}
    assert_problem(
        api.put(f"/v1/projects/{project['id']}", json=stale), 409, problem_type="version-conflict"
    )  # stale version
    # A new user's first request writes its user row, then fails: the user and its event go together.
    newcomer = tenant.api(subject=f"newcomer-{uuid.uuid4().hex}")
    unknown = {**NEW_ISSUE, "assignee": str(uuid.uuid4())}
    assert_problem(newcomer.post(f"/v1/projects/{project['id']}/issues", json=unknown), 409)
    assert events(tenant) == before
    newcomer.get("/v1/users/me").raise_for_status()
    after = oldest_first(tenant)
    assert [e["action"] for e in after[len(before) :]] == ["user.created"]
    assert [e["sequence"] for e in after] == list(range(1, len(after) + 1))


@pytest.fixture
def failing_at(postgres):
    """Installs, for one test, a failure the service cannot cause: a trigger (as the superuser, on the test
    database only) that raises when a value carries a marker."""
    installed = []

    def install(statement: str, drop: str) -> str:
        marker = f"fail-{uuid.uuid4().hex}"
        with superuser(postgres) as connection:
            connection.execute(statement.replace("MARKER", marker))
        installed.append(drop)
        return marker

    yield install
    with superuser(postgres) as connection:
        for drop in installed:
            connection.execute(drop)


FAIL_FUNCTION = """
create or replace function test_fail_on_marker() returns trigger language plpgsql as $$
begin
    if to_jsonb(new)::text like '%MARKER%' then raise exception 'injected failure'; end if;
    return null;
end $$;
"""


def test_a_failure_after_the_write_and_before_commit_leaves_neither_change_nor_event(tenant: Tenant, failing_at):
    # Deferred: it fires at COMMIT, after the issue and its event are written.
    marker = failing_at(
        FAIL_FUNCTION + "create constraint trigger test_fail_at_commit after insert on issues"
        " deferrable initially deferred for each row execute function test_fail_on_marker();",
        "drop trigger test_fail_at_commit on issues",
    )
    project = tenant.create_project()
    before = events(tenant)
    response = tenant.api().post(f"/v1/projects/{project['id']}/issues", json={**NEW_ISSUE, "subject": marker})
    assert_problem(response, 500)
    assert tenant.api().get(f"/v1/projects/{project['id']}/issues").json()["issues"] == []
    assert events(tenant) == before
    assert verify(tenant)["ok"] is True


def test_a_failure_writing_the_event_leaves_no_change(tenant: Tenant, failing_at):
    marker = failing_at(
        FAIL_FUNCTION + "create trigger test_fail_event before insert on audit_events"
        " for each row execute function test_fail_on_marker();",
        "drop trigger test_fail_event on audit_events",
    )
    project = tenant.create_project()
    response = tenant.api().post(f"/v1/projects/{project['id']}/issues", json={**NEW_ISSUE, "subject": marker})
    assert_problem(response, 500)
    assert tenant.api().get(f"/v1/projects/{project['id']}/issues").json()["issues"] == []


def test_concurrent_writers_of_one_customer_leave_a_gap_free_valid_chain(tenant: Tenant):
    project = tenant.create_project()
    tokens = [tenant.token(subject=f"writer-{n}") for n in range(20)]
    statuses = []
    barrier = threading.Barrier(len(tokens))

    def write(token: str) -> None:
        barrier.wait()
        response = tenant.http.post(
            f"/v1/projects/{project['id']}/issues", json=NEW_ISSUE, headers={"Authorization": f"Bearer {token}"}
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=write, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 20
    trail = oldest_first(tenant)
    assert [e["sequence"] for e in trail] == list(range(1, len(trail) + 1))
    assert sum(e["action"] == "issue.created" for e in trail) == 20
    assert sum(e["action"] == "user.created" for e in trail) == 21  # 20 writers and the project's creator
    assert verify(tenant) == {"ok": True, "verified": len(trail), "last_hash": trail[-1]["hash"]}


def _tampered_trail(tenant: Tenant) -> list[dict]:
    project = tenant.create_project()
    for n in range(3):
        tenant.create_issue(project["id"], subject=f"issue {n}")
    trail = oldest_first(tenant)
    assert verify(tenant)["ok"] is True
    return trail


# A superuser can skip the append-only triggers (session_replication_role) and change rows directly.
TAMPERING = {
    "update": ("update audit_events set changes = '{}' where customer_id = %(customer)s and sequence = 4", 4, 4),
    "delete": ("delete from audit_events where customer_id = %(customer)s and sequence = 4", 4, 5),
    "delete the newest": ("delete from audit_events where customer_id = %(customer)s and sequence = 6", 6, None),
    "insert after the newest": (
        "insert into audit_events select customer_id, 7, gen_random_uuid(), occurred_at, actor_sub, actor_user_id,"
        " action, resource_type, resource_id, project_id, issue_id, changes, request_id, trace_id, client_ip,"
        " user_agent, hash, hash from audit_events where customer_id = %(customer)s and sequence = 6",
        7,
        7,
    ),
}


@pytest.mark.parametrize("kind", TAMPERING)
def test_direct_changes_by_a_superuser_break_the_chain_at_the_first_changed_sequence(postgres, tenant, kind):
    trail = _tampered_trail(tenant)
    assert len(trail) == 6  # customer, user, project, three issues
    statement, broken_sequence, found = TAMPERING[kind]
    with superuser(postgres) as connection:
        connection.execute("set session_replication_role = replica")
        connection.execute(statement, {"customer": tenant.customer_id})
        inserted = connection.execute(
            "select id from audit_events where customer_id = %s and sequence = 7", (tenant.customer_id,)
        ).fetchone()
    if found is None:
        expected_id = None  # nothing where the chain breaks
    elif found > len(trail):
        expected_id = str(inserted[0])
    else:
        expected_id = trail[found - 1]["id"]
    assert verify(tenant) == {
        "ok": False,
        "verified": broken_sequence - 1,
        "first_broken": {"sequence": broken_sequence, "id": expected_id},
    }


def test_a_forged_event_with_a_correct_hash_past_the_head_is_found(postgres, tenant: Tenant):
    trail = _tampered_trail(tenant)
    forged = {**trail[-1], "sequence": 7, "id": str(uuid.uuid4()), "prev_hash": trail[-1]["hash"]}
    forged.pop("hash")
    digest = hashlib.sha256(json.dumps(forged, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    with superuser(postgres) as connection:
        connection.execute(
            "insert into audit_events select customer_id, 7, %(id)s, occurred_at, actor_sub, actor_user_id, action,"
            " resource_type, resource_id, project_id, issue_id, changes, request_id, trace_id, client_ip, user_agent,"
            " hash, %(hash)s from audit_events where customer_id = %(customer)s and sequence = 6",
            {"id": forged["id"], "hash": digest.hexdigest(), "customer": tenant.customer_id},
        )
    assert verify(tenant) == {"ok": False, "verified": 6, "first_broken": {"sequence": 7, "id": forged["id"]}}


def test_an_export_verifies_without_the_service(tenant: Tenant):
    project = tenant.create_project()
    tenant.create_issue(project["id"], subject='quotes " and \\ and \t tabs, ünïcødé, \u2028 and \x01')
    response = tenant.api().get("/v1/audit-events", headers={"Accept": "application/x-ndjson"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    exported = [json.loads(line) for line in response.text.splitlines()]
    previous = "0" * 64
    for event in reversed(exported):  # newest first in the export
        body = {key: value for key, value in event.items() if key != "hash"}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        assert hashlib.sha256(canonical).hexdigest() == event["hash"]
        assert event["prev_hash"] == previous
        previous = event["hash"]
    assert [e["action"] for e in exported] == ["issue.created", "project.created", "user.created", "customer.created"]


def add_events(postgres, tenant: Tenant, count: int, size: int = 0) -> None:
    """`count` projects and their events (each event `size` bytes larger), written at once in SQL (the trigger
    writes each event, as for the API)."""
    with superuser(postgres) as connection, connection.transaction():
        connection.execute(
            "insert into projects (customer_id, name, description)"
            " select %s, 'bulk ' || n, repeat('d', %s) from generate_series(1, %s) n",
            (tenant.customer_id, size, count),
        )


def trail(postgres, tenant: Tenant) -> list[tuple[int, str]]:
    """The customer's events as the database holds them, newest first: (sequence, id)."""
    with superuser(postgres) as connection:
        return connection.execute(
            "select sequence, id::text from audit_events where customer_id = %s order by sequence desc",
            (tenant.customer_id,),
        ).fetchall()


def export_request(tenant: Tenant) -> str:
    token = tenant.token()
    return f"GET /v1/audit-events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nAccept: {NDJSON}\r\n\r\n"


@pytest.fixture(scope="module")
def unvalidated_server(config) -> Iterator[RunningServer]:
    """As `exitus serve` runs: the suite's server validates responses, and connexion reads every */*json body whole
    (x-ndjson included) to validate it, which would hide whether the export streams."""
    running = RunningServer(create_app(config)).start()
    yield running
    running.stop()


def test_a_large_export_is_streamed_whole_in_order_once_and_only_the_callers(
    postgres, unvalidated_server, tenant: Tenant, other_tenant: Tenant
):
    add_events(postgres, tenant, 5000)
    add_events(postgres, other_tenant, 1500)  # interleaved ids, never exported to the tenant
    tenant.api().get("/v1/users/me").raise_for_status()  # the caller's first sight is an event too: before, not during
    expected = trail(postgres, tenant)
    assert len(expected) > 5000
    with RawConnection(unvalidated_server.port) as connection:
        connection.send(export_request(tenant).encode())
        reply = HTTPResponse(connection.sock)
        reply.begin()
        headers = {name.lower(): value for name, value in reply.getheaders()}
        body = reply.read()
    assert reply.status == 200
    assert headers["content-type"].startswith(NDJSON)
    assert headers.get("transfer-encoding") == "chunked" and "content-length" not in headers  # streamed
    exported = [json.loads(line) for line in body.decode().splitlines()]
    assert [(event["sequence"], event["id"]) for event in exported] == expected  # all, newest first, each once
    assert {event["customer_id"] for event in exported} == {tenant.customer_id}


def test_an_export_holds_no_transaction_while_the_client_reads_and_is_the_trail_as_it_began(
    postgres, unvalidated_server, tenant: Tenant
):
    # Some 20 MB: far more than socket buffers and the server's queue of chunks hold while the client does not read.
    add_events(postgres, tenant, 5000, size=4000)
    tenant.api().get("/v1/users/me").raise_for_status()  # the caller's first sight is an event too: before, not during
    expected = trail(postgres, tenant)
    with RawConnection(unvalidated_server.port) as connection:
        connection.send(export_request(tenant).encode())
        reply = HTTPResponse(connection.sock)
        reply.begin()
        first = reply.read(4096)
        time.sleep(1)  # the server is now blocked on sending, mid-export
        with superuser(postgres) as observer:
            open_transactions = observer.execute(
                "select count(*) from pg_stat_activity where datname = 'exitus_test' and usename = %s"
                " and xact_start is not null",
                (SERVICE_LOGIN,),
            ).fetchone()[0]
        tenant.create_project("appended while exporting")  # in a transaction of its own: not in the export
        body = first + reply.read()
    assert open_transactions == 0
    exported = [json.loads(line) for line in body.decode().splitlines()]
    assert [(event["sequence"], event["id"]) for event in exported] == expected
    assert len(trail(postgres, tenant)) == len(expected) + 1


def test_an_export_failing_midway_ends_incomplete_never_as_a_shorter_export(
    postgres, unvalidated_server, tenant: Tenant, monkeypatch
):
    add_events(postgres, tenant, 2500)  # three batches: the first is read in the request's transaction

    def failing(self, customer_id):
        def open_transaction():
            raise psycopg.OperationalError("the database went away")

        return open_transaction

    monkeypatch.setattr(RequestScope, "later_transactions", failing)
    with RawConnection(unvalidated_server.port) as connection:
        connection.send(export_request(tenant).encode())
        reply = HTTPResponse(connection.sock)
        reply.begin()
        assert reply.status == 200
        with pytest.raises(http.client.IncompleteRead) as cut:
            reply.read()
    assert cut.value.partial.count(b"\n") == 1000  # the first batch, then no final chunk


def test_pages_follow_the_link_header_with_the_filters_kept(tenant: Tenant):
    project = tenant.create_project()
    for n in range(5):
        tenant.create_issue(project["id"], subject=f"paged {n}")
    api = tenant.api()
    seen, url, params = [], "/v1/audit-events", {"action": "issue.created", "limit": 2}
    while url:
        response = api.get(url, params=params)
        assert response.status_code == 200, response.text
        seen.extend(response.json()["events"])
        link = response.headers.get("link")
        if link is None:
            break
        target, rel = link.split(";")
        assert rel.strip() == 'rel="next"'
        parsed = urlsplit(target.strip("<> "))
        assert parse_qs(parsed.query)["action"] == ["issue.created"]
        url, params = f"{parsed.path}?{parsed.query}", None
    assert [e["changes"]["subject"]["after"] for e in seen] == [f"paged {n}" for n in reversed(range(5))]


def test_filters_narrow_the_trail(tenant: Tenant):
    project = tenant.create_project()
    issue = tenant.create_issue(project["id"])
    tenant.api(subject="filter-other").get("/v1/users/me").raise_for_status()
    everything = events(tenant)
    assert {e["resource"]["id"] for e in events(tenant, resource_id=issue["id"])} == {issue["id"]}
    assert {e["resource"]["type"] for e in events(tenant, resource_type="project")} == {"project"}
    assert [e["action"] for e in events(tenant, actor="filter-other")] == ["user.created"]
    middle = oldest_first(tenant)[2]["occurred_at"]
    since = events(tenant, since=middle)
    until = events(tenant, until=middle)
    assert len(since) + len(until) == len(everything)
    assert min(e["sequence"] for e in since) == 3
    assert_problem(tenant.api().get("/v1/audit-events", params={"cursor": "x1"}), 400)


def test_an_issues_history_holds_its_events_and_its_comments_oldest_first(tenant: Tenant):
    project = tenant.create_project()
    issue = tenant.create_issue(project["id"])
    elsewhere = tenant.create_issue(project["id"])
    tenant.create_comment(project["id"], elsewhere["id"])
    comment = tenant.create_comment(project["id"], issue["id"])
    path = f"/v1/projects/{project['id']}/issues/{issue['id']}/history?limit=1"
    history, pages = [], 0
    while path:
        response = tenant.api().get(path)
        assert response.status_code == 200, response.text
        history.extend(response.json()["events"])
        pages += 1
        path = response.headers["link"].split(";")[0].strip("<>") if "link" in response.headers else None
    assert [(e["action"], e["resource"]["id"]) for e in history] == [
        ("issue.created", issue["id"]),
        ("comment.created", comment["id"]),
    ]
    assert pages == 3  # two full pages of one, then an empty one
    assert_problem(tenant.api().get(f"/v1/projects/{project['id']}/issues/{uuid.uuid4()}/history"), 404)


def test_another_customers_trail_is_invisible(tenant: Tenant, other_tenant: Tenant, admin):
    project = other_tenant.create_project()
    issue = other_tenant.create_issue(project["id"])
    mine = events(tenant)
    assert {e["customer_id"] for e in mine} == {tenant.customer_id}
    assert events(tenant, resource_id=issue["id"]) == []
    history = f"/v1/projects/{project['id']}/issues/{issue['id']}/history"
    assert_problem(tenant.api().get(history), 404)
    named = tenant.api().get("/v1/audit-events", params={"customer_id": other_tenant.customer_id})
    assert_problem(named, 403, "administrators")
    own = tenant.api().get("/v1/audit-events", params={"customer_id": tenant.customer_id})
    assert own.json()["events"] == events(tenant)
    theirs = admin.get("/v1/audit-events", params={"customer_id": other_tenant.customer_id, "limit": 100})
    assert {e["customer_id"] for e in theirs.json()["events"]} == {other_tenant.customer_id}
    assert len(theirs.json()["events"]) == 4
    verdict = admin.get("/v1/audit-events/verify", params={"customer_id": other_tenant.customer_id}).json()
    assert verdict["ok"] is True and verdict["verified"] == 4
    assert_problem(admin.get("/v1/audit-events"), 403, "no customer")


def test_the_new_scope_reads_the_trail_and_nothing_else(tenant: Tenant):
    auditor = tenant.api(scopes=["exitus/audit.read"])
    assert auditor.get("/v1/audit-events").status_code == 200
    assert auditor.get("/v1/audit-events/verify").json()["ok"] is True
    assert_problem(auditor.get("/v1/projects"), 403)
    assert CLIENT_ID  # the token is one the service accepts
