"""A real OpenID provider (panva's oidc-provider under Node.js) and an exitus instance that trusts only it.

The provider is `infra/local/oidc-provider/provider.mjs`, the same script docker-compose runs. Missing Node.js or
a missing/mismatched npm package fails the tests with the fix, never skips them (`make` installs node_modules).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from exitus.app import create_app
from exitus.config import Config
from exitus.db import array
from exitus.dev.postgres import free_port
from tests.conftest import RunningServer

REPO = Path(__file__).resolve().parents[2]
PROVIDER_SCRIPT = REPO / "infra" / "local" / "oidc-provider" / "provider.mjs"
PROVIDER_PACKAGE = REPO / "node_modules" / "oidc-provider" / "package.json"
CLIENT_ID = "exitus-interop"
RESOURCE = "https://exitus.test/v1"  # not the default: proves OIDC_RESOURCE reaches the token's `aud`
START_TIMEOUT_SECONDS = 30


def private_jwk() -> dict[str, str]:
    """A new RS256 private key as a JWK, the form oidc-provider reads from OIDC_JWKS_FILE."""
    numbers = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_numbers()
    public = numbers.public_numbers
    fields = {
        "n": public.n,
        "e": public.e,
        "d": numbers.d,
        "p": numbers.p,
        "q": numbers.q,
        "dp": numbers.dmp1,
        "dq": numbers.dmq1,
        "qi": numbers.iqmp,
    }
    encoded = {name: _b64_uint(value) for name, value in fields.items()}
    return {"kty": "RSA", "kid": f"interop-{uuid.uuid4().hex[:12]}", "alg": "RS256", "use": "sig", **encoded}


def _b64_uint(value: int) -> str:
    return base64.urlsafe_b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()


def _require_node_and_package() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is not installed: the interop tests run oidc-provider under node (install nodejs 20+)")
    pinned = json.loads((REPO / "package.json").read_text())["devDependencies"]["oidc-provider"]
    if not PROVIDER_PACKAGE.exists():
        pytest.fail(f"npm package oidc-provider is not installed: run `npm install` (or `make pytest`) in {REPO}")
    installed = json.loads(PROVIDER_PACKAGE.read_text())["version"]
    if installed != pinned:
        pytest.fail(f"node_modules has oidc-provider {installed}, package.json pins {pinned}: run `npm install`")
    return node


class OidcProvider:
    """provider.mjs as a child process on a free loopback port, signing with keys from a JWKS file we write."""

    def __init__(self, workdir: Path, extra_env: dict[str, str] | None = None):
        self.node = _require_node_and_package()
        self.extra_env = extra_env or {}  # more OIDC_* settings (provider.mjs), e.g. a public client
        self.workdir = workdir
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.client_secret = secrets.token_urlsafe(24)
        self.jwks_file = workdir / "jwks.json"
        self.log_file = workdir / "provider.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.discovery: dict[str, Any] = {}
        self.customer_id = ""
        self.kid = self._write_new_key()

    def _write_new_key(self) -> str:
        key = private_jwk()
        staging = self.jwks_file.with_suffix(".tmp")
        staging.write_text(json.dumps({"keys": [key]}))
        staging.replace(self.jwks_file)  # the provider never reads a half-written file
        return key["kid"]

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, customer_id: str) -> OidcProvider:
        self.customer_id = customer_id
        env = {name: value for name, value in os.environ.items() if not name.startswith("OIDC_")}
        env.update(
            OIDC_ISSUER=self.issuer,
            OIDC_HOST="127.0.0.1",
            OIDC_PORT=str(self.port),
            OIDC_CLIENT_ID=CLIENT_ID,
            OIDC_CLIENT_SECRET=self.client_secret,
            OIDC_RESOURCE=RESOURCE,
            OIDC_CUSTOMER_ID=customer_id,
            OIDC_JWKS_FILE=str(self.jwks_file),
            **self.extra_env,
        )
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                [self.node, str(PROVIDER_SCRIPT)], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if not self.running:
                pytest.fail(f"oidc-provider exited at start:\n{self.log_file.read_text()}")
            try:
                response = httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=2)
                if response.status_code == 200:
                    self.discovery = response.json()
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"oidc-provider did not serve its discovery document:\n{self.log_file.read_text()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def published_kids(self) -> set[str]:
        response = httpx.get(self.discovery["jwks_uri"], timeout=5)
        response.raise_for_status()
        return {key["kid"] for key in response.json()["keys"]}

    def rotate(self) -> str:
        """Replace the signing key (new JWKS file + SIGHUP); returns the new kid once only it is published."""
        assert self.process is not None
        old_kid, self.kid = self.kid, self._write_new_key()
        self.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while self.published_kids() != {self.kid}:
            if time.monotonic() > deadline or not self.running:
                pytest.fail(f"oidc-provider did not rotate from {old_kid} to {self.kid}:\n{self.log_file.read_text()}")
            time.sleep(0.05)
        return self.kid

    def token_response(self, scopes: list[str] | tuple[str, ...], *, resource: str | None = RESOURCE) -> httpx.Response:
        form = {"grant_type": "client_credentials", "scope": " ".join(scopes)}
        if resource is not None:
            form["resource"] = resource
        return httpx.post(self.discovery["token_endpoint"], data=form, auth=(CLIENT_ID, self.client_secret), timeout=10)

    def token(self, scopes: list[str] | tuple[str, ...], *, resource: str | None = RESOURCE) -> str:
        response = self.token_response(scopes, resource=resource)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["token_type"] == "Bearer"
        return body["access_token"]


@dataclass
class Interop:
    provider: OidcProvider
    server: RunningServer
    http: httpx.Client
    customer_id: str


@pytest.fixture(scope="module")
def interop(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Interop]:
    provider = OidcProvider(tmp_path_factory.mktemp("oidc-provider"))
    config = dataclasses.replace(
        Config.from_env(
            {
                "PGDATASOURCE": database_url,
                "OPENID_PROVIDER_URL": provider.issuer,
                "OAUTH_CLIENT_ID": CLIENT_ID,
                "STAGE": "test",
            }
        ),
        # Refetch the JWKS on every unknown kid: the rotation checks need no 30 s wait.
        jwks_min_refresh_seconds=0.0,
        http_timeout_seconds=2.0,
        db_pool_size=2,
    )
    app = create_app(config, validate_responses=True)
    # The provider puts one customer id in every token, so the customer exists before the provider starts.
    customer = app.database.queries.create_customer(
        name=f"interop customer {uuid.uuid4()}", description="tests/interop", labels=array([])
    )
    provider.start(customer_id=str(customer["id"]))
    server: RunningServer | None = None
    try:
        server = RunningServer(app).start()
        with httpx.Client(base_url=server.url, timeout=30) as http:
            yield Interop(provider, server, http, provider.customer_id)
    finally:
        if server is not None:
            server.stop()
        provider.stop()


@pytest.fixture
def provider(interop: Interop) -> OidcProvider:
    """The module's provider, running (a test that stops it leaves it stopped for no one else)."""
    if not interop.provider.running:
        interop.provider.start(customer_id=interop.customer_id)
    return interop.provider
