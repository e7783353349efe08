"""Configuration: read from the environment once, validated, then passed around as an immutable value.

Every variable is listed in `.envrc.example` with a comment. A bad or missing value raises `ConfigError`
naming the variable; the CLI turns that into one line on stderr and exit status 2.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import sqlalchemy.exc
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy.engine import make_url

_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})
# Every variable Config.from_env reads, for deployment files to be checked against (tests/deploy: it must equal
# what from_env looks up, and each is documented in .envrc.example). OTEL_* variables are tracing's (exitus/tracing.py).
ENV_VARS = (
    "PGDATASOURCE",
    "DATABASE_URL",
    "DB_SECRET",
    "OPENID_PROVIDER_URL",
    "OAUTH_CLIENT_ID",
    "TENANT_CLAIM",
    "ADDR",
    "STAGE",
    "BRANCH",
    "DEBUG",
    "LOG_LEVEL",
    "DB_POOL_SIZE",
    "DB_POOL_TIMEOUT",
    "STATEMENT_TIMEOUT_MS",
    "SWAGGER_UI",
    "SWAGGER_UI_CLIENT_ID",
    "MAX_BODY_BYTES",
    "BODY_READ_TIMEOUT_SECONDS",
    "MAX_HEADER_BYTES",
    "MAX_HEADER_COUNT",
    "HEADER_READ_TIMEOUT_SECONDS",
    "METRICS_ADDR",
    "WEB_CONCURRENCY",
    "MAX_CONCURRENCY",
    "MAX_CONNECTIONS",
    "LISTEN_BACKLOG",
    "KEEP_ALIVE_TIMEOUT_SECONDS",
    "SHUTDOWN_DRAIN_SECONDS",
    "SHUTDOWN_TIMEOUT_SECONDS",
    "PROMETHEUS_MULTIPROC_DIR",
    "JWKS_MIN_REFRESH_SECONDS",
    "JWKS_MAX_AGE_SECONDS",
    "TRUSTED_PROXIES",
    "IDEMPOTENCY_KEY_TTL_SECONDS",
)


class ConfigError(Exception):
    """A configuration variable is missing or malformed."""

    def __init__(self, variable: str, problem: str):
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


@dataclass(frozen=True)
class Config:
    database_url: str = field(repr=False)  # carries the password: never printed
    openid_provider_url: str = ""
    oauth_client_ids: tuple[str, ...] = ()
    tenant_claim: str = "customer_id"
    stage: str = "local"
    branch: str = "main"
    debug: bool = False
    log_level: str = "INFO"  # LOG_LEVEL, else DEBUG for DEBUG=true
    host: str = "0.0.0.0"  # noqa: S104 - a service binds all interfaces by default; ADDR narrows it
    port: int = 8080
    db_pool_size: int = 10
    db_pool_timeout: float = 5.0
    statement_timeout_ms: int = 30_000
    swagger_ui: bool = True
    # The public OAuth client (no secret) Swagger UI logs in with: authorization code with PKCE. Empty: a person
    # pastes a token into the Authorize dialog instead. Its tokens must pass the same checks as any other (its id or
    # their audience among oauth_client_ids).
    swagger_ui_client_id: str = ""
    max_body_bytes: int = 1_048_576  # larger request bodies are answered 413 before they are read whole
    body_read_timeout_seconds: float = 30.0  # a body not received whole by then is answered 408
    max_header_bytes: int = 32_768  # a larger request head (request line and header fields) is answered 431
    max_header_count: int = 100  # more header fields are answered 431
    header_read_timeout_seconds: float = 20.0  # a request head must arrive whole within it, else 408 and close
    metrics_addr: str = ""  # host:port of a separate /metrics listener; empty: /metrics on the API port
    jwks_min_refresh_seconds: float = 30.0  # an unknown kid refetches the JWKS at most this often
    jwks_max_age_seconds: float = 600.0  # cached keys are refetched when older (withdrawn keys stop working)
    http_timeout_seconds: float = 5.0
    # Serving (exitus/serve.py)
    web_concurrency: int = 1
    max_concurrency: int = 200
    max_connections: int = 1000
    listen_backlog: int = 2048
    keep_alive_timeout_seconds: int = 75
    shutdown_drain_seconds: float = 5.0
    shutdown_timeout_seconds: int = 20
    prometheus_multiproc_dir: str = ""
    # Peers whose X-Forwarded-For names the client (exitus/client.py); none by default
    trusted_proxies: tuple[str, ...] = ()
    # How long a POST's Idempotency-Key and its stored response are kept (exitus/idempotency.py)
    idempotency_key_ttl_seconds: int = 86_400

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, need_oidc: bool = True) -> Config:
        env = os.environ if env is None else env
        host, port = _parse_addr(env.get("ADDR", ":8080"))
        config = cls(
            database_url=database_url_from_env(env),
            # Kept exactly as configured: the token's `iss` must equal it (Auth0's issuers end in "/").
            openid_provider_url=env.get("OPENID_PROVIDER_URL", "").strip(),
            oauth_client_ids=tuple(c.strip() for c in env.get("OAUTH_CLIENT_ID", "").split(",") if c.strip()),
            tenant_claim=env.get("TENANT_CLAIM", "customer_id").strip() or "customer_id",
            stage=env.get("STAGE", "local").strip() or "local",
            branch=env.get("BRANCH", "main").strip() or "main",
            debug=_parse_bool(env, "DEBUG", False),
            log_level=_parse_log_level(env),
            host=host,
            port=port,
            db_pool_size=_parse_int(env, "DB_POOL_SIZE", 10, minimum=1, maximum=1000),
            db_pool_timeout=_parse_float(env, "DB_POOL_TIMEOUT", 5.0, minimum=0.1),
            statement_timeout_ms=_parse_int(env, "STATEMENT_TIMEOUT_MS", 30_000, minimum=0, maximum=3_600_000),
            swagger_ui=_parse_bool(env, "SWAGGER_UI", True),
            swagger_ui_client_id=env.get("SWAGGER_UI_CLIENT_ID", "").strip(),
            jwks_min_refresh_seconds=_parse_float(env, "JWKS_MIN_REFRESH_SECONDS", 30.0, minimum=0.0),
            jwks_max_age_seconds=_parse_float(env, "JWKS_MAX_AGE_SECONDS", 600.0, minimum=1.0),
            max_body_bytes=_parse_int(env, "MAX_BODY_BYTES", 1_048_576, minimum=1024, maximum=100 * 1_048_576),
            body_read_timeout_seconds=_parse_float(env, "BODY_READ_TIMEOUT_SECONDS", 30.0, minimum=0.1),
            max_header_bytes=_parse_int(env, "MAX_HEADER_BYTES", 32_768, minimum=4096, maximum=1_048_576),
            max_header_count=_parse_int(env, "MAX_HEADER_COUNT", 100, minimum=16, maximum=10_000),
            header_read_timeout_seconds=_parse_float(env, "HEADER_READ_TIMEOUT_SECONDS", 20.0, minimum=0.1),
            metrics_addr=_parse_metrics_addr(env),
            web_concurrency=_parse_int(env, "WEB_CONCURRENCY", 1, minimum=1, maximum=64),
            max_concurrency=_parse_int(env, "MAX_CONCURRENCY", 200, minimum=1, maximum=100_000),
            max_connections=_parse_int(env, "MAX_CONNECTIONS", 1000, minimum=1, maximum=1_000_000),
            listen_backlog=_parse_int(env, "LISTEN_BACKLOG", 2048, minimum=1, maximum=65_535),
            keep_alive_timeout_seconds=_parse_int(env, "KEEP_ALIVE_TIMEOUT_SECONDS", 75, minimum=1, maximum=3600),
            shutdown_drain_seconds=_parse_float(env, "SHUTDOWN_DRAIN_SECONDS", 5.0, minimum=0.0),
            shutdown_timeout_seconds=_parse_int(env, "SHUTDOWN_TIMEOUT_SECONDS", 20, minimum=0, maximum=3600),
            prometheus_multiproc_dir=env.get("PROMETHEUS_MULTIPROC_DIR", "").strip(),
            trusted_proxies=_parse_trusted_proxies(env),
            idempotency_key_ttl_seconds=_parse_int(
                env, "IDEMPOTENCY_KEY_TTL_SECONDS", 86_400, minimum=1, maximum=30 * 86_400
            ),
        )
        if config.max_connections <= config.max_concurrency:
            # Beyond MAX_CONNECTIONS uvicorn answers a bare text 503: the clients beyond MAX_CONCURRENCY must still
            # fit, to get the problem+json 503 with Retry-After.
            raise ConfigError("MAX_CONNECTIONS", f"must be greater than MAX_CONCURRENCY ({config.max_concurrency})")
        if need_oidc:
            config._check_oidc()
        return config

    def _check_oidc(self) -> None:
        if not self.openid_provider_url:
            raise ConfigError("OPENID_PROVIDER_URL", "is required (the token issuer, e.g. https://idp.example.com)")
        parts = urlsplit(self.openid_provider_url)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise ConfigError("OPENID_PROVIDER_URL", "must be an http(s) URL")
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ConfigError("OPENID_PROVIDER_URL", "must use https (plain http is allowed for loopback only)")
        if not self.oauth_client_ids:
            raise ConfigError("OAUTH_CLIENT_ID", "is required (comma-separated client ids this service accepts)")


def database_url_from_env(env: Mapping[str, str]) -> str:
    """The SQLAlchemy URL (psycopg 3 driver) from PGDATASOURCE, DATABASE_URL or DB_SECRET, in that order."""
    for name in ("PGDATASOURCE", "DATABASE_URL"):
        value = env.get(name, "").strip()
        if value:
            return _parsable(name, _normalise_dsn(name, value))
    secret = env.get("DB_SECRET", "").strip()
    if secret:
        return _parsable("DB_SECRET", _url_from_rds_secret(secret))
    raise ConfigError("PGDATASOURCE", "is required (or DATABASE_URL, or DB_SECRET with the RDS secret JSON)")


def _parsable(name: str, url: str) -> str:
    """`url`, once SQLAlchemy can parse it: refused here, naming the variable and never the value (it holds the
    password), rather than as a traceback when the first connection is made."""
    try:
        make_url(url).port  # noqa: B018 - parsing the port is where a malformed one fails
    except (ValueError, sqlalchemy.exc.ArgumentError):
        raise ConfigError(name, "is not a valid database URL (check its form, host and port)") from None
    return url


def _normalise_dsn(name: str, value: str) -> str:
    if not _URL_SCHEME.match(value):
        # libpq keyword/value form: "host=db user=exitus dbname=exitus"
        try:
            params = conninfo_to_dict(value)
        except Exception:
            raise ConfigError(name, "is neither a postgres:// URL nor a libpq keyword/value string") from None
        return _build_url(params)
    scheme, _, rest = value.partition("://")
    if scheme not in ("postgres", "postgresql", "postgresql+psycopg"):
        raise ConfigError(name, f"unsupported scheme {scheme!r} (use postgresql://)")  # only the scheme: no secrets
    if not rest:
        raise ConfigError(name, "has no host or database")
    # postgresql:// would select psycopg2 in SQLAlchemy; this service uses psycopg 3.
    return "postgresql+psycopg://" + rest


def _url_from_rds_secret(secret: str) -> str:
    try:
        data = json.loads(secret)
    except ValueError:
        raise ConfigError("DB_SECRET", "is not valid JSON") from None
    if not isinstance(data, dict):
        raise ConfigError("DB_SECRET", "must be a JSON object")
    missing = [k for k in ("username", "password", "host") if not data.get(k)]
    if missing:
        raise ConfigError("DB_SECRET", f"is missing {', '.join(missing)}")
    engine = str(data.get("engine", "postgres"))
    if engine not in ("postgres", "postgresql", "aurora-postgresql"):
        raise ConfigError("DB_SECRET", f"engine {engine!r} is not PostgreSQL")
    params = {
        "user": str(data["username"]),
        "password": str(data["password"]),
        "host": str(data["host"]),
        "port": str(data.get("port", 5432)),
        "dbname": str(data.get("dbname") or data.get("database") or "postgres"),
    }
    return _build_url(params)


def _build_url(params: Mapping[str, str]) -> str:
    user = quote(params.get("user", ""), safe="")
    password = params.get("password")
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    host = params.get("host", "")
    port = params.get("port")
    if host.startswith("/"):
        # a Unix socket directory: passed as a query parameter
        location = ""
        query = {"host": host}
    else:
        location = f"[{host}]" if ":" in host else host
        if port:
            location += f":{port}"
        query = {}
    if port and host.startswith("/"):
        query["port"] = port
    for key, value in params.items():
        if key not in ("user", "password", "host", "port", "dbname"):
            query[key] = value
    url = f"postgresql+psycopg://{auth}{location}/{quote(params.get('dbname', ''), safe='')}"
    if query:
        url += "?" + "&".join(f"{k}={quote(str(v), safe='/')}" for k, v in query.items())
    return url


def _parse_addr(value: str, *, variable: str = "ADDR") -> tuple[str, int]:
    host, sep, port = value.strip().rpartition(":")
    if not sep:
        raise ConfigError(variable, f"{value!r} is not host:port or :port")
    host = host.strip("[]") or "0.0.0.0"  # noqa: S104 - ":8080" means all interfaces, as in Go
    try:
        number = int(port)
    except ValueError:
        raise ConfigError(variable, f"port {port!r} is not a number") from None
    if not 0 <= number <= 65535:
        raise ConfigError(variable, f"port {number} is out of range")
    return host, number


def _parse_log_level(env: Mapping[str, str]) -> str:
    raw = env.get("LOG_LEVEL", "").strip().upper()
    if not raw:
        return "DEBUG" if _parse_bool(env, "DEBUG", False) else "INFO"
    if raw not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError("LOG_LEVEL", f"{raw!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    return raw


def _parse_metrics_addr(env: Mapping[str, str]) -> str:
    raw = env.get("METRICS_ADDR", "").strip()
    if not raw:
        return ""
    host, port = _parse_addr(raw, variable="METRICS_ADDR")
    return f"{host}:{port}"


def _parse_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(name, f"{raw!r} is not a boolean (true/false)")


def _parse_int(env: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"{raw!r} is not an integer") from None
    if not minimum <= value <= maximum:
        raise ConfigError(name, f"{value} is outside {minimum}..{maximum}")
    return value


def _parse_trusted_proxies(env: Mapping[str, str]) -> tuple[str, ...]:
    from exitus.client import parse_trusted_proxies

    try:
        return parse_trusted_proxies(env.get("TRUSTED_PROXIES", ""))
    except ValueError as error:
        raise ConfigError("TRUSTED_PROXIES", str(error)) from None


def _parse_float(env: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(name, f"{raw!r} is not a number") from None
    if value < minimum:
        raise ConfigError(name, f"{value} is below {minimum}")
    return value
