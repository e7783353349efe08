"""exitus as a real process, against a real PostgreSQL and a real dev issuer, on loopback.

Shared by the load tools here and the fault tests (tests/faults), so both exercise `exitus serve` as deployed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from exitus import migrations
from exitus.dev.issuer import TENANT_SCOPES, DevIssuer
from exitus.dev.postgres import LocalPostgres, free_port

ROOT = Path(__file__).resolve().parents[1]
CLIENT_ID = "exitus-test"
ADMIN_SCOPES = ("exitus/customer.admin",)
# Only these reach the child: an exitus variable in the caller's shell must not change what is measured.
INHERITED_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH")


class ExitusProcess:
    """`python -m exitus serve` in its own session (a terminal's Ctrl-C does not reach it), output to a file."""

    name = "exitus"
    probe_path = "/healthz"  # answers 200 once the server is ready

    def __init__(self, env: dict[str, str], log_path: Path, *, command_prefix: Sequence[str] = ()):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        base = {name: os.environ[name] for name in INHERITED_VARIABLES if name in os.environ}
        self.env = {**base, "STAGE": "test", "ADDR": f"127.0.0.1:{self.port}", **env}
        prefix = list(command_prefix) or [sys.executable]
        self.command = [*prefix, "-m", "exitus", "serve"]
        self.popen: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> ExitusProcess:
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                self.command, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{self.output()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}{self.probe_path}", timeout=1).status_code == 200:
                    return self
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"{self.name} did not answer {self.probe_path} within {timeout} s:\n{self.output()}")

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def signal(self, sig: int) -> None:
        assert self.popen is not None
        self.popen.send_signal(sig)

    def wait(self, timeout: float) -> int:
        assert self.popen is not None
        return self.popen.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL to the process and to any worker it started (its whole session)."""
        if self.popen is not None and self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then SIGKILL if it has not exited in time; returns the exit status."""
        if self.popen is None:
            return 0
        if self.popen.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                return self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.popen.returncode

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def exitus_env(database_url: str, issuer_url: str, **settings: str | int | float) -> dict[str, str]:
    return {
        "PGDATASOURCE": database_url,
        "OPENID_PROVIDER_URL": issuer_url,
        "OAUTH_CLIENT_ID": CLIENT_ID,
        **{name: str(value) for name, value in settings.items()},
    }


def migrated_database(postgres: LocalPostgres, prefix: str = "exitus") -> tuple[str, str]:
    """A fresh, migrated database: (its name, the app's URL)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    url = postgres.create_database(name)
    migrations.up(url)
    return name, url


@dataclass
class Customer:
    id: str
    token: str  # a tenant user's token with every tenant scope

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def new_customer(base_url: str, issuer: DevIssuer, *, ttl_seconds: int = 3600) -> Customer:
    admin = issuer.token(scopes=ADMIN_SCOPES, client_id=CLIENT_ID, subject="platform-admin")
    response = httpx.post(
        f"{base_url}/v1/customers",
        json={"name": f"customer {uuid.uuid4()}", "labels": []},
        headers={"Authorization": f"Bearer {admin}"},
        timeout=30,
    )
    response.raise_for_status()
    customer_id = response.json()["id"]
    return Customer(customer_id, user_token(issuer, customer_id, f"user-of-{customer_id}", ttl_seconds=ttl_seconds))


def user_token(issuer: DevIssuer, customer_id: str, subject: str, *, ttl_seconds: int = 3600) -> str:
    """A token of one user of the customer, with every tenant scope. Requests of one user serialize on its `users`
    row (each request upserts it), so concurrent callers that should not wait for each other need their own."""
    return issuer.token(
        scopes=TENANT_SCOPES, customer=customer_id, client_id=CLIENT_ID, subject=subject, ttl_seconds=ttl_seconds
    )


def traversable_tempdir(prefix: str) -> Path:
    """Not a 0700 temp dir: PostgreSQL runs as another user when we are root and must traverse it."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(path, 0o755)
    return path


@contextlib.contextmanager
def local_stack(workdir: Path) -> Iterator[tuple[LocalPostgres, DevIssuer]]:
    """A PostgreSQL cluster and a dev issuer of their own in `workdir`, stopped on exit."""
    postgres = LocalPostgres(workdir / "postgres").start()
    issuer = DevIssuer(workdir / "issuer").start()
    try:
        yield postgres, issuer
    finally:
        issuer.stop()
        postgres.stop("immediate")
