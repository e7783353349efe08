"""The project-local PostgreSQL helper: finding the server binaries and creating databases."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import psycopg
import pytest

from exitus.dev import postgres as pg
from exitus.dev.postgres import APP_ROLE, LocalPostgres, PostgresNotInstalled, find_server_bin


def fake_server_bin(root: Path, version: str, *, complete: bool = True) -> Path:
    bin_dir = root / version / "bin"
    bin_dir.mkdir(parents=True)
    for tool in ("pg_ctl", "initdb") if complete else ("pg_ctl",):
        (bin_dir / tool).write_text("#!/bin/sh\n")
    return bin_dir


def test_find_server_bin_finds_initdb_and_pg_ctl():
    bin_dir = find_server_bin()
    for tool in ("initdb", "pg_ctl", "postgres"):
        assert os.access(bin_dir / tool, os.X_OK), tool


def test_find_server_bin_prefers_the_newest_complete_version(tmp_path, monkeypatch):
    # Several installed major versions cannot be arranged here: stand them in with directories.
    candidates = [
        fake_server_bin(tmp_path, "9"),
        fake_server_bin(tmp_path, "16"),
        fake_server_bin(tmp_path, "17", complete=False),
    ]
    monkeypatch.setattr(pg.glob, "glob", lambda _pattern: [str(c) for c in candidates])
    assert find_server_bin() == tmp_path / "16" / "bin"


def test_find_server_bin_falls_back_to_the_path(monkeypatch):
    pg_ctl = shutil.which("pg_ctl")
    if not pg_ctl or not shutil.which("initdb"):
        pytest.skip("pg_ctl and initdb are not on PATH here")
    monkeypatch.setattr(pg.glob, "glob", lambda _pattern: [])
    assert find_server_bin() == Path(pg_ctl).resolve().parent


def test_missing_postgresql_is_explained(monkeypatch):
    monkeypatch.setattr(pg.glob, "glob", lambda _pattern: [])
    monkeypatch.setattr(pg.shutil, "which", lambda _name: None)
    with pytest.raises(PostgresNotInstalled) as caught:
        find_server_bin()
    message = str(caught.value)
    assert "initdb" in message and "pg_ctl" in message
    assert "apt-get install postgresql" in message
    assert "PGDATASOURCE" in message


def test_local_postgres_reuses_the_recorded_port(postgres):
    again = LocalPostgres(postgres.datadir)
    assert again.port == postgres.port
    assert again.initialised
    assert again.is_running()


def test_create_database_is_idempotent(postgres):
    name = f"dev_{uuid.uuid4().hex}"
    try:
        first = postgres.create_database(name)
        second = postgres.create_database(name)
        assert first == second == postgres.url(name)
        with psycopg.connect(postgres.libpq_dsn(name, APP_ROLE)) as conn:
            owner = conn.execute(
                "select pg_get_userbyid(datdba) from pg_database where datname = current_database()"
            ).fetchone()
            assert owner == (APP_ROLE,)
            assert conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone() == (False,)
        with psycopg.connect(postgres.libpq_dsn("postgres", "postgres")) as conn:
            count = conn.execute("select count(*) from pg_database where datname = %s", (name,)).fetchone()
            assert count == (1,)
    finally:
        postgres.drop_database(name)


def test_drop_database_removes_it_and_tolerates_a_missing_one(postgres):
    name = f"dev_{uuid.uuid4().hex}"
    postgres.create_database(name)
    postgres.drop_database(name)
    postgres.drop_database(name)
    with psycopg.connect(postgres.libpq_dsn("postgres", "postgres")) as conn:
        assert conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone() is None
