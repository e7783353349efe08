"""The project-local PostgreSQL helper: finding the server binaries, starting from any directory (as root too), saying
in one line why it cannot start, and creating databases."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest

from exitus.dev import postgres as pg
from exitus.dev.postgres import APP_ROLE, LocalPostgres, LocalPostgresError, PostgresNotInstalled, find_server_bin


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


def one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message and "Traceback" not in message, message
    return message


def test_a_data_directory_initdb_refuses_is_one_line_saying_why_and_what_to_do(workdir):
    datadir = workdir / f"stray-{uuid.uuid4().hex[:8]}" / "postgres"
    datadir.mkdir(parents=True)
    os.chmod(datadir.parent, 0o755)
    (datadir / "left-behind").write_text("not a cluster\n")
    with pytest.raises(LocalPostgresError) as failed:
        LocalPostgres(datadir).start()
    message = one_line(failed)
    assert message.startswith(f"PostgreSQL's initdb failed for {datadir} (exit 1): "), message
    assert "exists but is not empty" in message  # initdb's own words
    assert message.endswith(f"; fix that, remove {datadir} and run again"), message


def test_a_server_that_cannot_listen_is_one_line_with_the_last_lines_of_its_log(workdir):
    datadir = workdir / f"port-taken-{uuid.uuid4().hex[:8]}" / "postgres"
    datadir.parent.mkdir()
    os.chmod(datadir.parent, 0o755)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        cluster = LocalPostgres(datadir, port=port)
        with pytest.raises(LocalPostgresError) as failed:
            cluster.start()
    message = one_line(failed)
    assert message.startswith(f"PostgreSQL did not start from {datadir} on port {port} (pg_ctl exit 1): "), message
    assert "FATAL:  could not create any TCP/IP sockets" in message  # from the server's log
    assert f"see {cluster.log_file}" in message and f"Remove {cluster.port_file} to draw another" in message
    assert not cluster.is_running()


def test_a_data_directory_in_a_private_directory_starts(workdir):
    """A clone in /root or a mode-700 home: as root, PostgreSQL runs as `postgres`, who cannot enter it, so the
    cluster lives under RELOCATED with a link where it was asked for; as anyone else it stays where it was asked."""
    private = Path(tempfile.mkdtemp(prefix="exitus-private-"))  # mode 700
    asked = private / "clone" / ".data" / "postgres"
    cluster = LocalPostgres(asked)
    try:
        cluster.start()
        with psycopg.connect(cluster.libpq_dsn("postgres", "postgres")) as conn:
            assert conn.execute("select current_setting('data_directory')").fetchone() == (str(cluster.datadir),)
        if os.geteuid() == 0:
            assert asked.is_symlink() and cluster.datadir == asked.resolve()
            assert cluster.datadir.parent.parent == pg.RELOCATED
            assert cluster.datadir.parent.name.startswith("clone-")  # which clone, for a person looking there
            assert cluster.port_file == asked.parent / "postgres.port"  # where the README says it is
        else:
            assert cluster.datadir == asked and not asked.is_symlink()
        again = LocalPostgres(asked)  # the next `make run`
        assert (again.datadir, again.port) == (cluster.datadir, cluster.port) and again.is_running()
    finally:
        cluster.stop("immediate")
        if cluster.datadir.is_relative_to(pg.RELOCATED):
            shutil.rmtree(cluster.datadir.parent)
        shutil.rmtree(private)


root_only = pytest.mark.skipif(os.geteuid() != 0, reason="only root runs PostgreSQL as another user (`postgres`)")


@root_only
def test_an_existing_cluster_postgres_cannot_reach_is_one_line_saying_what_to_do():
    private = Path(tempfile.mkdtemp(prefix="exitus-private-"))
    try:
        datadir = private / ".data" / "postgres"
        datadir.mkdir(parents=True)
        (datadir / "PG_VERSION").write_text("15\n")  # a cluster made before the clone moved into a private directory
        with pytest.raises(LocalPostgresError) as failed:
            LocalPostgres(datadir)
        message = one_line(failed)
        assert f"{datadir} is in a directory the `postgres` user cannot enter" in message, message
        assert f"rm -rf {datadir}" in message
        assert (datadir / "PG_VERSION").exists()  # left alone
    finally:
        shutil.rmtree(private)


@root_only
def test_a_relocation_directory_someone_else_can_write_is_refused(monkeypatch):
    shared = Path(tempfile.mkdtemp(prefix="exitus-relocated-"))
    private = Path(tempfile.mkdtemp(prefix="exitus-private-"))
    try:
        nobody = pwd.getpwnam("nobody")
        os.chown(shared, nobody.pw_uid, nobody.pw_gid)  # e.g. made first by another user of a shared /var/tmp
        monkeypatch.setattr(pg, "RELOCATED", shared)
        with pytest.raises(LocalPostgresError) as failed:
            LocalPostgres(private / "postgres")
        assert one_line(failed) == (
            f"{shared} is not a directory of root's that only root can write to: remove it and run again"
        )
        assert not (private / "postgres").exists()
    finally:
        shutil.rmtree(shared)
        shutil.rmtree(private)
