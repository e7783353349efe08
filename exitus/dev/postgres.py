"""A project-local PostgreSQL cluster for `make run` and the test suite, built from the installed server binaries.

PostgreSQL refuses to run as root, so when we are root the cluster belongs to, and runs as, the unprivileged
`postgres` user (via runuser). It listens on 127.0.0.1 only and trusts local connections: it is throwaway.
The application connects as a non-superuser role that owns its database.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path

import psycopg
from psycopg import sql

APP_ROLE = "exitus"
# The service's own login, created by the migrations (migrations/0009.service-login.sql). This cluster trusts local
# connections, so it needs no password here.
SERVICE_LOGIN = "exitus_app"


class PostgresNotInstalled(RuntimeError):
    pass


def find_server_bin() -> Path:
    """The directory holding initdb/pg_ctl/postgres, newest version first."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    for path in candidates:
        if (Path(path) / "pg_ctl").exists() and (Path(path) / "initdb").exists():
            return Path(path)
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl and shutil.which("initdb"):
        return Path(pg_ctl).resolve().parent
    raise PostgresNotInstalled(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found: install PostgreSQL "
        "(Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql) or set PGDATASOURCE"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalPostgres:
    def __init__(self, datadir: Path, port: int | None = None):
        self.datadir = Path(datadir).resolve()
        self.port_file = self.datadir.parent / (self.datadir.name + ".port")
        if port is None:
            port = int(self.port_file.read_text()) if self.port_file.exists() else free_port()
        self.port = port
        self.bin = find_server_bin()
        self.run_as = "postgres" if os.geteuid() == 0 else None

    def _command(self, *args: str) -> list[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        return ["runuser", "-u", self.run_as, "--", *command] if self.run_as else command

    def _own(self, path: Path) -> None:
        if self.run_as:
            user = pwd.getpwnam(self.run_as)
            os.chown(path, user.pw_uid, user.pw_gid)

    @property
    def initialised(self) -> bool:
        return (self.datadir / "PG_VERSION").exists()

    @property
    def log_file(self) -> Path:
        return self.datadir.parent / (self.datadir.name + ".log")

    def start(self) -> LocalPostgres:
        if not self.initialised:
            self.datadir.mkdir(parents=True, exist_ok=True)
            self._own(self.datadir)
            os.chmod(self.datadir, 0o700)
            subprocess.run(
                self._command("initdb", "-D", str(self.datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8"),
                check=True,
                stdout=subprocess.DEVNULL,
            )
        if self.is_running():
            return self
        self.log_file.touch()
        self._own(self.log_file)
        self.port_file.write_text(str(self.port))
        options = f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 -c fsync=on"
        subprocess.run(
            self._command("pg_ctl", "-D", str(self.datadir), "-l", str(self.log_file), "-o", options, "-w", "start"),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self._wait_ready()
        return self

    def is_running(self) -> bool:
        result = subprocess.run(
            self._command("pg_ctl", "-D", str(self.datadir), "status"), capture_output=True, check=False
        )
        return result.returncode == 0

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.libpq_dsn("postgres", "postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self, mode: str = "fast") -> None:
        if self.is_running():
            subprocess.run(
                self._command("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "stop"),
                check=True,
                stdout=subprocess.DEVNULL,
            )

    def restart(self) -> None:
        self.stop()
        self.start()

    def libpq_dsn(self, dbname: str, user: str) -> str:
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user={user}"

    def url(self, dbname: str, user: str = APP_ROLE) -> str:
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, dbname: str, owner: str = APP_ROLE) -> str:
        """Create (if missing) a non-superuser role and a database it owns; returns the app's URL."""
        with psycopg.connect(self.libpq_dsn("postgres", "postgres"), autocommit=True) as conn:
            # Like RDS's master: CREATEROLE (the migrations create the serving role), never superuser.
            if not conn.execute("select 1 from pg_roles where rolname = %s", (owner,)).fetchone():
                conn.execute(sql.SQL("create role {} login nosuperuser createrole").format(sql.Identifier(owner)))
            else:  # a cluster made before the migrations needed it
                conn.execute(sql.SQL("alter role {} createrole").format(sql.Identifier(owner)))
            if not conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone():
                conn.execute(
                    sql.SQL("create database {} owner {}").format(sql.Identifier(dbname), sql.Identifier(owner))
                )
        return self.url(dbname, owner)

    def drop_database(self, dbname: str) -> None:
        with psycopg.connect(self.libpq_dsn("postgres", "postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname)))
