"""SIGKILL mid-load: every write that was acknowledged is in PostgreSQL exactly as returned, and nothing is
half-written (a transaction cut by the kill leaves no trace)."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime
from typing import Any

import httpx
from psycopg.rows import dict_row

from bench.stack import new_customer, user_token
from tests.faults.conftest import superuser

WRITERS = 8
ACKNOWLEDGED_BEFORE_KILL = 60
ISSUE = {"subject": "Crash test", "content": "Written under load", "severity": "low", "category": "bug"}


def test_acknowledged_writes_survive_sigkill_and_nothing_is_half_written(
    postgres, fresh_database, start_exitus, issuer
):
    name, url = fresh_database
    exitus = start_exitus(url)
    customer = new_customer(exitus.url, issuer)
    acknowledged: dict[str, list[dict[str, Any]]] = {"projects": [], "issues": []}
    stop = threading.Event()

    def writer(number: int) -> None:
        # Each writer is a user of its own: one user's requests would serialize on its `users` row.
        headers = {"Authorization": f"Bearer {user_token(issuer, customer.id, f'writer-{number}')}"}
        project_id = None
        with httpx.Client(base_url=exitus.url, headers=headers, timeout=30) as client:
            for count in range(100_000):
                if stop.is_set():
                    return
                try:
                    if project_id is None or count % 4 == 0:
                        response = client.post("/v1/projects", json={"name": f"p {uuid.uuid4()}", "labels": ["x"]})
                        table = "projects"
                    else:
                        labels = [f"w{number}", f"n{count}"]
                        response = client.post(f"/v1/projects/{project_id}/issues", json={**ISSUE, "labels": labels})
                        table = "issues"
                except httpx.HTTPError:
                    return  # the server is gone
                assert response.status_code == 201, response.text
                acknowledged[table].append(response.json())
                if table == "projects":
                    project_id = response.json()["id"]

    threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while sum(map(len, acknowledged.values())) < ACKNOWLEDGED_BEFORE_KILL and time.monotonic() < deadline:
        time.sleep(0.05)
    exitus.kill()  # SIGKILL, with requests in flight
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert acknowledged["projects"] and acknowledged["issues"]

    with superuser(postgres, name) as conn:
        conn.row_factory = dict_row
        for table, bodies in acknowledged.items():
            rows = {
                str(row["id"]): row
                for row in conn.execute(
                    f"select * from {table} where id = any(%s)",
                    ([uuid.UUID(body["id"]) for body in bodies],),
                )
            }
            for body in bodies:
                assert body["id"] in rows, f"an acknowledged {table} row is missing: {body}"
                row = rows[body["id"]]
                for field, value in body.items():
                    if field in row:
                        assert _same(row[field], value), (table, field, row[field], value)

        # No orphans, no half-applied state, whatever the kill interrupted.
        assert (
            _count(
                conn,
                "select count(*) from issues i where not exists (select 1 from projects p"
                " where p.customer_id = i.customer_id and p.id = i.project_id)",
            )
            == 0
        )
        assert (
            _count(
                conn,
                "select count(*) from issues i where not exists (select 1 from users u"
                " where u.customer_id = i.customer_id and u.id = i.reporter)",
            )
            == 0
        )
        for table in ("projects", "issues", "users"):
            assert _count(conn, f"select count(*) from {table} where version <> 1 or updated_at <> created_at") == 0
        # The killed process's sessions end and their open transactions roll back: no lock is left behind.
        _wait_until(
            lambda: (
                _count(
                    conn,
                    "select count(*) from pg_stat_activity where datname = current_database()"
                    " and application_name = 'exitus'",
                )
                == 0
            ),
            timeout=15,
        )
        assert (
            _count(
                conn,
                "select count(*) from pg_locks l join pg_class c on c.oid = l.relation"
                " where c.relname in ('projects', 'issues', 'users') and l.pid <> pg_backend_pid()",
            )
            == 0
        )


def _same(stored: Any, returned: Any) -> bool:
    if isinstance(stored, datetime):
        return stored == datetime.fromisoformat(returned)
    if isinstance(stored, uuid.UUID) and isinstance(returned, dict):  # a user, embedded: its id is what is stored
        return str(stored) == returned["id"]
    if isinstance(stored, uuid.UUID):
        return str(stored) == returned
    return stored == returned


def _count(conn, query: str) -> int:
    return conn.execute(query).fetchone()["count"]


def _wait_until(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
