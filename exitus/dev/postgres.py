"""A project-local PostgreSQL cluster for `make run` and the test suite, built from the installed server binaries.

PostgreSQL refuses to run as root, so when we are root the cluster belongs to, and runs as, the unprivileged
`postgres` user (via runuser). That user cannot enter a private directory (a clone under /root, or a home of mode
700): then the cluster lives in a directory of its own under /var/tmp/exitus-postgres, one per data directory asked
for (keyed by its path), and the path asked for becomes a symbolic link to it. It listens on 127.0.0.1 only and trusts
local connections: it is throwaway. The application connects as a non-superuser role that owns its database.
Whatever keeps it from starting is one LocalPostgresError, whose message is one line: what failed, the last lines
PostgreSQL wrote, what to do.
"""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

APP_ROLE = "exitus"
# The service's own login, created by the migrations (migrations/0009.service-login.sql). This cluster trusts local
# connections, so it needs no password here.
SERVICE_LOGIN = "exitus_app"
SERVER_USER = "postgres"  # who runs the cluster when we are root
# Clusters whose data directory SERVER_USER cannot reach. Shared /var/tmp, so its ownership is checked before use.
RELOCATED = Path("/var/tmp/exitus-postgres")  # noqa: S108


_LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d [\d:.]+ \w+ \[\d+\] ")


class LocalPostgresError(RuntimeError):
    """The local cluster cannot be started; the message is one line, for a person."""


class PostgresNotInstalled(LocalPostgresError):
    pass


def _tail(text: str, lines: int = 3) -> str:
    """The last lines PostgreSQL wrote, on one line, without the server log's time stamp and process id."""
    kept = [_LOG_PREFIX.sub("", line).strip() for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(kept).rstrip(".") or "(no output)"


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
        self.bin = find_server_bin()
        self.run_as = SERVER_USER if os.geteuid() == 0 else None
        if self.run_as:
            try:
                pwd.getpwnam(self.run_as)
            except KeyError:
                raise LocalPostgresError(
                    f"PostgreSQL refuses to run as root, and there is no `{self.run_as}` user to run it as: install "
                    "PostgreSQL from your distribution's packages (they create it), or run make as another user"
                ) from None
            # Debian keeps it in /usr/sbin, which not every root's PATH has.
            self.runuser = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
            if self.runuser is None:
                raise LocalPostgresError(
                    f"PostgreSQL refuses to run as root, and `runuser` (util-linux) is missing to run it as "
                    f"`{self.run_as}`: install util-linux, or run make as another user"
                )
            datadir = self._reachable(Path(os.path.abspath(datadir)))
        self.datadir = Path(datadir).resolve()
        # Beside the directory asked for, even when the cluster lives elsewhere: `.data/postgres.port` (README).
        asked = Path(os.path.abspath(datadir))
        self.port_file = asked.parent / (asked.name + ".port")
        if port is None:
            port = int(self.port_file.read_text()) if self.port_file.exists() else free_port()
        self.port = port

    def _command(self, *args: str) -> list[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        return [self.runuser, "-u", self.run_as, "--", *command] if self.run_as else command

    def _run(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess:
        # From /: the server's user may not be able to enter our working directory (pg_ctl says so, harmlessly).
        return subprocess.run(self._command(*args), cwd="/" if self.run_as else None, check=False, **kwargs)

    def _own(self, path: Path) -> None:
        if self.run_as:
            user = pwd.getpwnam(self.run_as)
            os.chown(path, user.pw_uid, user.pw_gid)

    def _can_enter(self, directory: Path) -> bool:
        """Whether the server's user can reach files in `directory` (and every directory above it)."""
        probe = subprocess.run([self.runuser, "-u", str(self.run_as), "--", "test", "-x", str(directory)], check=False)
        return probe.returncode == 0

    def _reachable(self, asked: Path) -> Path:
        """`asked`, when the server's user can reach it; otherwise a symbolic link there to a directory of this
        data directory's own under RELOCATED (kept between runs, like `asked` would be)."""
        if asked.is_symlink():
            target = Path(os.readlink(asked))
            if target.is_relative_to(RELOCATED):
                self._prepare_relocated(target.parent)
                return asked
        asked.parent.mkdir(parents=True, exist_ok=True)
        if self._can_enter(asked.parent):
            return asked
        if (asked / "PG_VERSION").exists():
            raise LocalPostgresError(
                f"the PostgreSQL data directory {asked} is in a directory the `{self.run_as}` user cannot enter: "
                f"remove it (rm -rf {asked}) to start afresh in {RELOCATED}, or make its parent directories "
                f"searchable (chmod o+x)"
            )
        if asked.is_dir():
            asked.rmdir()  # left empty by a start that failed; not removed if anything is in it (raises)
        key = hashlib.sha256(str(asked).encode()).hexdigest()[:12]
        home = RELOCATED / f"{asked.parent.parent.name or 'root'}-{key}"
        self._prepare_relocated(home)
        asked.symlink_to(home / asked.name)
        return asked

    def _prepare_relocated(self, home: Path) -> None:
        """RELOCATED and `home` in it: root's, world-searchable, written by nobody else (/var/tmp is everyone's)."""
        for directory in (RELOCATED, home):
            directory.mkdir(mode=0o755, exist_ok=True)
            info = os.lstat(directory)
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o022:
                raise LocalPostgresError(
                    f"{directory} is not a directory of root's that only root can write to: remove it and run again"
                )
            os.chmod(directory, 0o755)  # noqa: S103 (searchable by SERVER_USER whatever the umask; holds no secret)

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
            initdb_args = ["-D", str(self.datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
            initdb = self._run("initdb", *initdb_args, capture_output=True, text=True)
            if initdb.returncode != 0:
                raise LocalPostgresError(
                    f"PostgreSQL's initdb failed for {self.datadir} (exit {initdb.returncode}): "
                    f"{_tail(initdb.stderr or initdb.stdout)}; fix that, remove {self.datadir} and run again"
                )
        if self.is_running():
            return self
        self.log_file.touch()
        self._own(self.log_file)
        logged = self.log_file.stat().st_size  # what earlier starts wrote
        self.port_file.write_text(str(self.port))
        options = f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 -c fsync=on"
        start_args = ["-D", str(self.datadir), "-l", str(self.log_file), "-o", options, "-w", "start"]
        pg_ctl = self._run("pg_ctl", *start_args, capture_output=True, text=True)
        if pg_ctl.returncode != 0:
            raise LocalPostgresError(
                f"PostgreSQL did not start from {self.datadir} on port {self.port} (pg_ctl exit {pg_ctl.returncode}): "
                f"{_tail(self._log_text(logged) or pg_ctl.stderr)}; see {self.log_file}. Port taken? Remove "
                f"{self.port_file} to draw another. `rm -rf {self.datadir}` starts afresh"
            )
        self._wait_ready()
        return self

    def _log_text(self, start: int) -> str:
        with self.log_file.open("rb") as log:
            log.seek(start)
            return log.read().decode(errors="replace")

    def is_running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.datadir), "status", capture_output=True).returncode == 0

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.libpq_dsn("postgres", "postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError as error:
                if time.monotonic() > deadline:
                    raise LocalPostgresError(
                        f"PostgreSQL started from {self.datadir} but takes no connections on 127.0.0.1:{self.port} "
                        f"after {timeout:.0f} s ({_tail(str(error), 1)}): see {self.log_file}"
                    ) from None
                time.sleep(0.2)

    def stop(self, mode: str = "fast") -> None:
        if self.is_running():
            self._run(
                "pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "stop", stdout=subprocess.DEVNULL
            ).check_returncode()

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
