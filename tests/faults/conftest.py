"""Fault tests: `exitus serve` as a real subprocess against real PostgreSQL, broken on purpose.

Under `make test` the subprocess runs under coverage too (parallel mode, in the repository root), so pytest-cov
combines what it executed with the rest.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import coverage
import httpx
import psycopg
import pytest

from bench.stack import ROOT, ExitusProcess, exitus_env, migrated_database
from exitus.dev.issuer import DevIssuer
from exitus.dev.postgres import LocalPostgres
from tests.conftest import assert_problem


def command_prefix() -> list[str]:
    if coverage.Coverage.current() is None:
        return [sys.executable]
    return [sys.executable, "-m", "coverage", "run", "--parallel-mode", f"--rcfile={ROOT / 'pyproject.toml'}"]


@pytest.fixture
def start_exitus(issuer: DevIssuer, tmp_path: Path) -> Iterator[Callable[..., ExitusProcess]]:
    """Starts exitus on a database URL with extra settings; every process started is killed at the end."""
    started: list[ExitusProcess] = []

    def start(database_url: str, **settings: str | int | float) -> ExitusProcess:
        log_path = tmp_path / f"exitus-{len(started)}.log"
        process = ExitusProcess(
            exitus_env(database_url, issuer.url, **settings), log_path, command_prefix=command_prefix()
        )
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.kill()


@pytest.fixture
def fresh_database(postgres: LocalPostgres) -> Iterator[tuple[str, str]]:
    """(name, url) of a migrated database of this test's own on the session cluster."""
    name, url = migrated_database(postgres, "faults")
    yield name, url
    postgres.drop_database(name)


def superuser(postgres: LocalPostgres, dbname: str) -> psycopg.Connection:
    """A direct connection that bypasses row-level security: to inspect what really is in the tables."""
    return psycopg.connect(postgres.libpq_dsn(dbname, "postgres"), autocommit=True)


@contextlib.contextmanager
def projects_locked(postgres: LocalPostgres, dbname: str) -> Iterator[None]:
    """Holds ACCESS EXCLUSIVE on `projects`: any request touching it blocks, holding its pooled connection."""
    with psycopg.connect(postgres.libpq_dsn(dbname, "postgres")) as holder:
        holder.execute("lock table projects in access exclusive mode")
        try:
            yield
        finally:
            holder.rollback()


@contextlib.contextmanager
def project_creation_held(
    postgres: LocalPostgres, dbname: str, base_url: str, headers: dict[str, str], name: str, timeout: float = 30
) -> Iterator[Future]:
    """A POST /v1/projects blocked on a lock of `projects` for the duration of the block, holding its pooled
    connection and its place among the requests in flight. Yields its future; it completes once the block ends."""
    with ThreadPoolExecutor(max_workers=1) as background, projects_locked(postgres, dbname):
        held = background.submit(
            httpx.post, f"{base_url}/v1/projects", json={"name": name, "labels": []}, headers=headers, timeout=timeout
        )
        wait_for_blocked_request(postgres, dbname)
        yield held


def wait_for_blocked_request(postgres: LocalPostgres, dbname: str, timeout: float = 15.0) -> None:
    """Returns once an exitus connection waits for a lock in `dbname`."""
    deadline = time.monotonic() + timeout
    with superuser(postgres, dbname) as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                "select count(*) from pg_stat_activity"
                " where datname = %s and application_name = 'exitus' and wait_event_type = 'Lock'",
                (dbname,),
            ).fetchone()[0]
            if waiting:
                return
            time.sleep(0.05)
    raise AssertionError("no exitus request came to wait for the lock")


def assert_retryable_503(response: httpx.Response) -> None:
    assert_problem(response, 503)
    assert int(response.headers["retry-after"]) >= 1
