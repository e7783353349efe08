"""The issue workflow through HTTP: every move between the four states, by transition and by update; comments made
with a move; racing moves. The allowed moves are written down here by hand, not read from the service."""

from __future__ import annotations

import itertools
import threading
import time
import uuid

import psycopg
import pytest

from tests.conftest import Tenant, assert_problem

STATES = ("open", "in_progress", "resolved", "closed")
ALLOWED = {
    "open": {"in_progress", "closed"},
    "in_progress": {"resolved", "open"},
    "resolved": {"closed", "open"},
    "closed": {"open"},
}
# How to bring a new (open) issue to each state, by allowed moves.
PATH_TO = {"open": [], "in_progress": ["in_progress"], "resolved": ["in_progress", "resolved"], "closed": ["closed"]}
PAIRS = list(itertools.product(STATES, STATES))
UPDATE = {"subject": "Crash", "content": "It crashes", "severity": "high", "category": "bug", "labels": ["ui"]}


def test_the_table_has_seven_moves_among_sixteen_pairs():
    assert sum(to in ALLOWED[source] for source, to in PAIRS) == 7 and len(PAIRS) == 16


def issue_in(tenant: Tenant, state: str) -> tuple[str, dict]:
    """A new issue brought to `state`; its URL and representation."""
    project = tenant.create_project()
    issue = tenant.create_issue(project["id"])
    url = f"/v1/projects/{project['id']}/issues/{issue['id']}"
    for step in PATH_TO[state]:
        moved = tenant.api().post(f"{url}/transitions", json={"state": step})
        assert moved.status_code == 200, moved.text
        issue = moved.json()
    assert issue["state"] == state
    return url, issue


def assert_illegal(response, state: str) -> None:
    body = response.json()
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert body["type"] == "/problems/illegal-transition"
    assert body["state"] == state
    assert sorted(body["allowed"]) == sorted(ALLOWED[state])


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{s}->{t}" for s, t in PAIRS])
def test_a_transition_moves_exactly_as_the_workflow_allows(tenant: Tenant, source: str, target: str):
    url, before = issue_in(tenant, source)
    response = tenant.api().post(f"{url}/transitions", json={"state": target})
    after = tenant.api().get(url).json()
    if target in ALLOWED[source]:
        assert response.status_code == 200, response.text
        assert response.json() == after
        assert (after["state"], after["version"]) == (target, before["version"] + 1)
    else:
        assert_illegal(response, source)
        assert after == before


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{s}->{t}" for s, t in PAIRS])
def test_an_update_changes_the_state_as_the_workflow_allows(tenant: Tenant, source: str, target: str):
    url, before = issue_in(tenant, source)
    response = tenant.api().put(
        url, json={**UPDATE, "subject": "edited", "state": target, "version": before["version"]}
    )
    after = tenant.api().get(url).json()
    if target in ALLOWED[source] or target == source:  # naming the state the issue is in moves nothing
        assert response.status_code == 200, response.text
        assert (after["state"], after["subject"], after["version"]) == (target, "edited", before["version"] + 1)
    else:
        assert_illegal(response, source)
        assert after == before  # the other fields are not changed either


def test_a_stale_update_is_a_version_conflict_before_it_is_an_illegal_move(tenant: Tenant):
    url, issue = issue_in(tenant, "closed")
    response = tenant.api().put(url, json={**UPDATE, "state": "resolved", "version": issue["version"] - 1})
    body = assert_problem(response, 409, "changed since version")
    assert "allowed" not in body


def test_a_move_with_a_comment_makes_both_and_an_illegal_one_neither(tenant: Tenant):
    url, _ = issue_in(tenant, "open")
    api = tenant.api(subject="mover", name="Mo", email="mo@example.com")
    moved = api.post(f"{url}/transitions", json={"state": "in_progress", "comment": "On it"})
    assert moved.status_code == 200, moved.text
    refused = api.post(f"{url}/transitions", json={"state": "closed", "comment": "Closing"})
    assert_illegal(refused, "in_progress")
    comments = api.get(f"{url}/comments").json()["comments"]
    assert [(c["content"], c["author"]["name"]) for c in comments] == [("On it", "Mo")]
    assert api.get(url).json()["state"] == "in_progress"


def test_a_move_without_a_comment_adds_none(tenant: Tenant):
    url, _ = issue_in(tenant, "closed")
    assert tenant.api().get(f"{url}/comments").json()["comments"] == []


@pytest.mark.parametrize(
    "body",
    [{}, {"state": "done"}, {"state": "OPEN"}, {"state": None}, {"state": "closed", "comment": ""},
     {"state": "closed", "extra": 1}, {"state": "closed", "comment": "a\u0000b"}],
)  # fmt: skip
def test_an_unknown_state_or_a_bad_body_is_400_and_changes_nothing(tenant: Tenant, body):
    url, before = issue_in(tenant, "open")
    assert_problem(tenant.api().post(f"{url}/transitions", json=body), 400)
    assert tenant.api().get(url).json() == before


def test_an_unknown_state_in_an_update_is_400(tenant: Tenant):
    url, before = issue_in(tenant, "open")
    assert_problem(tenant.api().put(url, json={**UPDATE, "state": "reopened", "version": 1}), 400)
    assert tenant.api().get(url).json() == before


def test_moving_an_unknown_or_another_customers_issue_is_404(tenant: Tenant, other_tenant: Tenant):
    project = tenant.create_project()
    missing = f"/v1/projects/{project['id']}/issues/{uuid.uuid4()}/transitions"
    assert_problem(tenant.api().post(missing, json={"state": "closed"}), 404, "issue not found")
    url, before = issue_in(other_tenant, "open")
    assert_problem(tenant.api().post(f"{url}/transitions", json={"state": "closed", "comment": "x"}), 404)
    assert other_tenant.api().get(url).json() == before
    assert other_tenant.api().get(f"{url}/comments").json()["comments"] == []


def hold_row_lock(postgres, issue_id: str):
    """A transaction holding the issue's row lock, and a function that waits until `n` sessions queue behind it."""
    connection = psycopg.connect(postgres.libpq_dsn("exitus_test", "postgres"))
    connection.execute("select 1 from issues where id = %s for update", (issue_id,))

    def wait_for_waiters(n: int) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with psycopg.connect(postgres.libpq_dsn("exitus_test", "postgres"), autocommit=True) as probe:
                waiting = probe.execute(
                    "select count(*) from pg_locks where locktype in ('tuple', 'transactionid') and not granted"
                ).fetchone()[0]
            if waiting >= n:
                return
            time.sleep(0.05)
        raise AssertionError(f"fewer than {n} requests queued behind the lock")

    return connection, wait_for_waiters


@pytest.mark.parametrize("targets", [("in_progress", "closed"), ("closed", "closed")], ids=["different", "same"])
def test_of_two_racing_moves_the_second_is_judged_on_the_firsts_result(tenant: Tenant, postgres, targets):
    # Both requests read the issue as open and queue on its row lock, held here; released, they update one after the
    # other. A move checked before the update (and not by it) would let both through.
    url, issue = issue_in(tenant, "open")
    api = tenant.api()
    results: dict[int, object] = {}

    def move(k: int, target: str) -> None:
        results[k] = api.post(f"{url}/transitions", json={"state": target})

    lock, wait_for_waiters = hold_row_lock(postgres, issue["id"])
    try:
        threads = [threading.Thread(target=move, args=(k, t)) for k, t in enumerate(targets)]
        for thread in threads:
            thread.start()
        wait_for_waiters(len(threads))
    finally:
        lock.rollback()
        lock.close()
    for thread in threads:
        thread.join(timeout=30)
    responses = [results[k] for k in range(len(targets))]
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409], [r.text for r in responses]
    (winner,) = [r for r in responses if r.status_code == 200]
    (loser,) = [r for r in responses if r.status_code == 409]
    assert_illegal(loser, winner.json()["state"])
    final = api.get(url).json()
    assert (final["state"], final["version"]) == (winner.json()["state"], issue["version"] + 1)


def test_the_database_holds_every_writer_to_the_workflow(tenant: Tenant, postgres):
    """Beneath the queries: a write the service does not make (an operator's SQL) cannot skip a state either."""
    url, issue = issue_in(tenant, "open")
    with psycopg.connect(postgres.libpq_dsn("exitus_test", "postgres"), autocommit=True) as connection:
        with pytest.raises(psycopg.errors.CheckViolation) as refused:
            connection.execute("update issues set state = 'resolved' where id = %s", (issue["id"],))
        assert refused.value.diag.constraint_name == "issues_state_transition"
        connection.execute("update issues set state = 'closed' where id = %s", (issue["id"],))
    assert tenant.api().get(url).json()["state"] == "closed"


def test_a_transition_is_conditional_on_if_match_and_replayed_by_its_idempotency_key(tenant: Tenant):
    """Issue 12's guards on issue 11's transitions: a stale tag moves nothing (412); the answer carries the issue's new
    tag; a retry with the same key is the first answer again, not a second move (which the workflow would refuse)."""
    project = tenant.create_project()
    issue = tenant.create_issue(project["id"])
    api = tenant.api()
    url = f"/v1/projects/{project['id']}/issues/{issue['id']}"
    stale = api.get(url).headers["etag"]
    assert api.post(f"{url}/transitions", json={"state": "in_progress"}).status_code == 200
    refused = api.post(f"{url}/transitions", json={"state": "resolved"}, headers={"If-Match": stale})
    assert_problem(refused, 412, problem_type="precondition-failed")
    assert api.get(url).json()["state"] == "in_progress"
    current = api.get(url).headers["etag"]
    key = {"Idempotency-Key": str(uuid.uuid4())}
    moved = api.post(f"{url}/transitions", json={"state": "resolved"}, headers={"If-Match": current, **key})
    assert moved.status_code == 200 and moved.json()["state"] == "resolved", moved.text
    assert moved.headers["etag"] == api.get(url).headers["etag"] != current
    replayed = api.post(f"{url}/transitions", json={"state": "resolved"}, headers={"If-Match": current, **key})
    assert replayed.status_code == 200 and replayed.headers.get("idempotent-replayed") == "true", replayed.text
    assert replayed.json() == moved.json()
