"""The test harness: a real PostgreSQL, a real OpenID issuer over HTTP, and exitus served by uvicorn on 127.0.0.1.

Session-wide: one throwaway cluster, one migrated database, one issuer, one server. Per test: a fresh customer
(tenant), so tests never see each other's data.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.client import HTTPResponse
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from exitus import migrations
from exitus.app import create_app
from exitus.config import Config
from exitus.dev.issuer import TENANT_SCOPES, DevIssuer
from exitus.dev.postgres import SERVICE_LOGIN, LocalPostgres, free_port
from exitus.errors import PROBLEM_TYPE_PREFIX, problem_types

CLIENT_ID = "exitus-test"
ADMIN_SCOPES = ("exitus/customer.admin",)


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    # Not pytest's tmp_path: PostgreSQL runs as another user and must be able to traverse it.
    path = Path(tempfile.mkdtemp(prefix="exitus-test-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres(workdir: Path) -> Iterator[LocalPostgres]:
    cluster = LocalPostgres(workdir / "postgres").start()
    yield cluster
    cluster.stop("immediate")


@pytest.fixture(scope="session")
def database_url(postgres: LocalPostgres) -> str:
    url = postgres.create_database("exitus_test")
    migrations.up(url)
    return url


@pytest.fixture(scope="session")
def service_url(postgres: LocalPostgres, database_url: str) -> str:
    """The service's own login (migrations/0009.service-login.sql), as deployments give it one: the suite's server
    connects with it, while the migrations and the tests' direct SQL use the owner's (database_url)."""
    return postgres.url("exitus_test", SERVICE_LOGIN)


@pytest.fixture(scope="session")
def issuer(workdir: Path) -> Iterator[DevIssuer]:
    dev_issuer = DevIssuer(workdir / "issuer").start()
    yield dev_issuer
    dev_issuer.stop()


@pytest.fixture(scope="session")
def config(service_url: str, issuer: DevIssuer) -> Config:
    return Config.from_env(
        {
            "PGDATASOURCE": service_url,
            "OPENID_PROVIDER_URL": issuer.url,
            "OAUTH_CLIENT_ID": f"{CLIENT_ID},another-client",
            "STAGE": "test",
        }
    )


class RunningServer:
    """exitus under uvicorn in a background thread, on a free loopback port."""

    def __init__(self, app: Any, *, forwarded_allow_ips: str = ""):
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # As `exitus serve` with no TRUSTED_PROXIES (exitus/client.py), not uvicorn's default of trusting 127.0.0.1.
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            lifespan="on",
            forwarded_allow_ips=forwarded_allow_ips,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="exitus-test-server", daemon=True)

    def start(self) -> RunningServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("exitus did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="session")
def server(config: Config) -> Iterator[RunningServer]:
    running = RunningServer(create_app(config, validate_responses=True)).start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def http(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@dataclass
class Api:
    """HTTP calls with one bearer token."""

    http: httpx.Client
    token: str | None

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **(extra or {})}

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.http.post(path, json=json, headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def put(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.http.put(path, json=json, headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.delete(path, headers=self.headers(kwargs.pop("headers", None)), **kwargs)


@dataclass
class Tenant:
    """A customer created for one test, with helpers to call the API as its users."""

    customer_id: str
    name: str
    issuer: DevIssuer
    http: httpx.Client

    def token(self, scopes: tuple[str, ...] | list[str] = TENANT_SCOPES, **kwargs: Any) -> str:
        kwargs.setdefault("subject", f"user-of-{self.customer_id}")
        return self.issuer.token(scopes=scopes, customer=self.customer_id, client_id=CLIENT_ID, **kwargs)

    def api(self, scopes: tuple[str, ...] | list[str] = TENANT_SCOPES, **kwargs: Any) -> Api:
        return Api(self.http, self.token(scopes, **kwargs))

    def create_project(self, name: str | None = None, **fields: Any) -> dict[str, Any]:
        body = {"name": name or f"project {uuid.uuid4().hex[:8]}", "labels": [], **fields}
        response = self.api().post("/v1/projects", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def create_issue(self, project_id: str, **fields: Any) -> dict[str, Any]:
        body = {
            "subject": "Something is broken",
            "content": "Steps to reproduce: ...",
            "severity": "high",
            "category": "bug",
            "labels": ["ui"],
            **fields,
        }
        response = self.api().post(f"/v1/projects/{project_id}/issues", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def create_comment(self, project_id: str, issue_id: str, content: str = "I see it too") -> dict[str, Any]:
        response = self.api().post(f"/v1/projects/{project_id}/issues/{issue_id}/comments", json={"content": content})
        assert response.status_code == 201, response.text
        return response.json()


@pytest.fixture
def admin(http: httpx.Client, issuer: DevIssuer) -> Api:
    return Api(http, issuer.token(scopes=ADMIN_SCOPES, client_id=CLIENT_ID, subject="platform-admin"))


def new_tenant(admin: Api, issuer: DevIssuer, http: httpx.Client) -> Tenant:
    name = f"customer {uuid.uuid4()}"
    response = admin.post("/v1/customers", json={"name": name, "labels": ["test"]})
    assert response.status_code == 201, response.text
    return Tenant(response.json()["id"], name, issuer, http)


@pytest.fixture
def tenant(admin: Api, issuer: DevIssuer, http: httpx.Client) -> Tenant:
    return new_tenant(admin, issuer, http)


@pytest.fixture
def other_tenant(admin: Api, issuer: DevIssuer, http: httpx.Client) -> Tenant:
    return new_tenant(admin, issuer, http)


def assert_problem(
    response: httpx.Response, status: int, detail_contains: str | None = None, problem_type: str | None = None
) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status, of a type in the spec's catalogue of that status (and,
    optionally, of this type, with this text in its detail)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["status"] == status
    assert_known_problem_type(body, problem_type)
    if detail_contains is not None:
        assert detail_contains in body.get("detail", ""), body
    return body


def assert_known_problem_type(body: dict[str, Any], slug: str | None = None) -> None:
    """The problem's `type` is `/problems/<slug>` of the catalogue, with that entry's status and title."""
    assert body["type"].startswith(PROBLEM_TYPE_PREFIX), body
    found = body["type"].removeprefix(PROBLEM_TYPE_PREFIX)
    entry = problem_types().get(found)
    assert entry is not None, f"{found!r} is not in the spec's catalogue of problem types"
    assert (body["status"], body["title"]) == (entry["status"], entry["title"]), body
    if slug is not None:
        assert found == slug, body


@pytest.fixture
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fails the test if anything logged an error or a traceback while it ran (the server runs in this process)."""
    yield
    errors = [record for record in caplog.records if record.exc_info or record.levelno >= logging.ERROR]
    assert not errors, [(record.name, record.getMessage()) for record in errors]


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    header_list: list[tuple[str, str]] = field(default_factory=list)

    def problem(self) -> dict[str, Any]:
        """The RFC 9457 problem this response is."""
        assert self.headers["content-type"].startswith("application/problem+json"), self.headers
        body = json.loads(self.body)
        assert body["status"] == self.status
        assert_known_problem_type(body)
        return body


class RawConnection:
    """An HTTP/1.1 client on a plain socket, for what httpx will not send: trickled bodies, malformed or huge heads,
    paths as written. Reads one response."""

    def __init__(self, port: int, timeout: float = 30.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)

    def send(self, data: bytes) -> RawConnection:
        self.sock.sendall(data)
        return self

    def response(self) -> RawResponse:
        reply = HTTPResponse(self.sock)
        reply.begin()
        body = reply.read()
        pairs = [(name.lower(), value) for name, value in reply.getheaders()]
        return RawResponse(reply.status, dict(pairs), body, pairs)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawConnection:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def raw_request(port: int, head: str, body: bytes = b"") -> RawResponse:
    """One request whose head is sent as written (lines joined with CRLF), with Connection: close."""
    with RawConnection(port) as connection:
        lines = [*head.strip("\n").split("\n"), "Connection: close"]
        return connection.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body).response()
