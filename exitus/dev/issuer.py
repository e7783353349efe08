"""A development OpenID issuer: discovery + JWKS over HTTP on 127.0.0.1, and token minting with the same key.

The service has no auth bypass; locally it trusts this issuer exactly as it trusts Cognito or Keycloak in
production: by fetching the discovery document and JWKS and checking real RS256 signatures.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt

ALL_SCOPES = (
    "exitus/customer.admin",
    "exitus/customer.read",
    "exitus/customer.write",
    "exitus/project.read",
    "exitus/project.write",
    "exitus/issue.read",
    "exitus/issue.write",
    "exitus/comment.read",
    "exitus/comment.write",
    "exitus/user.read",
    "exitus/audit.read",
)
TENANT_SCOPES = tuple(s for s in ALL_SCOPES if s != "exitus/customer.admin")
DEFAULT_CLIENT_ID = "exitus-local"
KEY_FILE = "signing-key.pem"
ISSUER_FILE = "issuer.json"


class IssuerInUse(RuntimeError):
    """Another dev issuer, live, serves the same key directory."""


class SigningKey:
    """An RSA key pair with its JWK and RFC 7638 thumbprint as `kid`."""

    def __init__(self, private_key: rsa.RSAPrivateKey):
        self.private_key = private_key
        numbers = private_key.public_key().public_numbers()
        self.public_jwk = {
            "kty": "RSA",
            "n": _b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": _b64(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
        }
        thumbprint = json.dumps(self.public_jwk, sort_keys=True, separators=(",", ":")).encode()
        self.kid = _b64(hashlib.sha256(thumbprint).digest())
        self.public_jwk = {**self.public_jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def load_or_create(cls, path: Path) -> SigningKey:
        if path.exists():
            return cls(serialization.load_pem_private_key(path.read_bytes(), password=None))
        key = cls.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_bytes(key.pem())
        return key

    def pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
        return jwt.encode(claims, self.pem().decode(), algorithm="RS256", headers={"kid": self.kid, **(headers or {})})


def mint_token(
    key: SigningKey,
    issuer: str,
    *,
    scopes: tuple[str, ...] | list[str] = ALL_SCOPES,
    customer: str | None = None,
    subject: str | None = None,
    client_id: str = DEFAULT_CLIENT_ID,
    ttl_seconds: int = 3600,
    email: str | None = None,
    name: str | None = None,
    tenant_claim: str = "customer_id",
    extra: dict[str, Any] | None = None,
) -> str:
    """A Cognito-style access token: `scope`, `client_id`, `token_use`, no `aud`."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject or str(uuid.uuid4()),
        "client_id": client_id,
        "token_use": "access",
        "scope": " ".join(scopes),
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    if customer:
        claims[tenant_claim] = customer
    if email:
        claims["email"] = email
    if name:
        claims["name"] = name
    claims.update(extra or {})
    return key.sign(claims)


class DevIssuer:
    """Serves `/.well-known/openid-configuration` and `/jwks.json` from a background thread."""

    def __init__(self, key_dir: Path, host: str = "127.0.0.1", port: int = 0):
        self.key_dir = Path(key_dir)
        self.key = SigningKey.load_or_create(self.key_dir / KEY_FILE)
        self.published_keys: list[SigningKey] = [self.key]
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    body = issuer.discovery()
                elif self.path == "/jwks.json":
                    body = {"keys": [k.public_jwk for k in issuer.published_keys]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # quiet: tests and `make run` share the terminal
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self._thread: threading.Thread | None = None
        self._serving = False

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "jwks_uri": f"{self.url}/jwks.json",
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
            "scopes_supported": list(ALL_SCOPES),
        }

    def start(self) -> DevIssuer:
        self._claim_key_dir()
        self._serving = True
        self._thread = threading.Thread(target=self.server.serve_forever, name="dev-issuer", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the foreground (for `exitus dev-issuer`)."""
        self._claim_key_dir()
        self._serving = True
        self.server.serve_forever()

    def _claim_key_dir(self) -> None:
        """Record this issuer's URL for `dev-token`, unless another issuer still serves this key directory: tokens
        minted for this one would then be rejected by whatever trusts the other (`make run`)."""
        issuer_file = self.key_dir / ISSUER_FILE
        if issuer_file.exists():
            recorded = json.loads(issuer_file.read_text()).get("issuer", "")
            if recorded and recorded != self.url and _serves(recorded, self.key):
                self.stop()
                raise IssuerInUse(
                    f"a dev issuer with the key in {self.key_dir} already serves {recorded} (`make run`?): "
                    "`exitus dev-token` mints tokens for it as it is; stop it first to start another"
                )
        issuer_file.write_text(json.dumps({"issuer": self.url}))

    def stop(self) -> None:
        if self._serving:  # shutdown() waits for serve_forever() to return: never call it before that started
            self.server.shutdown()
            self._serving = False
        self.server.server_close()

    def rotate(self) -> SigningKey:
        """Publish a new key and withdraw the old ones (as a provider's key rotation does)."""
        self.key = SigningKey.generate()
        self.published_keys = [self.key]
        return self.key

    def token(self, **kwargs: Any) -> str:
        return mint_token(self.key, self.url, **kwargs)


def token_from_key_dir(key_dir: Path, **kwargs: Any) -> str:
    """Mint a token for the dev issuer last started with this key directory (for `exitus dev-token`)."""
    issuer_file = Path(key_dir) / ISSUER_FILE
    key_file = Path(key_dir) / KEY_FILE
    if not issuer_file.exists() or not key_file.exists():
        raise FileNotFoundError(f"no dev issuer state in {key_dir}: start `exitus dev-issuer` first")
    issuer = json.loads(issuer_file.read_text())["issuer"]
    return mint_token(SigningKey.load_or_create(key_file), issuer, **kwargs)


def _serves(issuer_url: str, key: SigningKey) -> bool:
    """Whether a dev issuer answers at `issuer_url` and publishes this key."""
    try:
        with urllib.request.urlopen(f"{issuer_url}/jwks.json", timeout=2) as response:  # noqa: S310 - loopback
            return key.kid in {k.get("kid") for k in json.load(response).get("keys", [])}
    except (OSError, ValueError):
        return False


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
