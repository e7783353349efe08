"""`make run`: the whole local stack in one process — PostgreSQL in .data/, migrations, dev issuer, API."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exitus import migrations
from exitus.config import Config, ConfigError, database_url_from_env
from exitus.db import array
from exitus.dev.issuer import ALL_SCOPES, DevIssuer, IssuerInUse
from exitus.dev.postgres import SERVICE_LOGIN, LocalPostgres, LocalPostgresError

DEMO_CUSTOMER = "Local demo"


@dataclass
class LocalStack:
    config: Config
    app: Any
    token: str | None = None
    customer_id: str | None = None
    postgres: LocalPostgres | None = None
    issuer: DevIssuer | None = None
    banner: str = field(default="")

    def stop(self) -> None:
        self.app.database.close()
        if self.issuer is not None:
            self.issuer.stop()
        if self.postgres is not None:
            self.postgres.stop()


# Read by `exitus serve` but not by the local stack, which is one process serving one app object.
NOT_USED_LOCALLY = ("WEB_CONCURRENCY", "PROMETHEUS_MULTIPROC_DIR")


class StartFailed(RuntimeError):
    """The local stack could not start; what it had started is stopped again."""


def prepare_local_stack(data_dir: Path, env: Mapping[str, str], *, issuer_port: int = 9400) -> LocalStack:
    """Start what is not configured: PostgreSQL unless a database is set, the dev issuer unless a provider is set.
    Ports are taken before PostgreSQL starts; on any failure what was started is stopped again."""
    from exitus.app import create_app

    env = dict(env)
    env.setdefault("ADDR", "127.0.0.1:8080")
    postgres = issuer = None
    try:
        if not env.get("OPENID_PROVIDER_URL"):
            try:
                issuer = DevIssuer(data_dir / "dev-issuer", port=issuer_port)  # binds its port now
            except OSError as error:
                raise StartFailed(
                    f"the dev issuer cannot listen on 127.0.0.1:{issuer_port} ({error.strerror}): "
                    f"move it with `make run ISSUER_PORT=<port>`"
                ) from None
        if not any(env.get(k) for k in ("PGDATASOURCE", "DATABASE_URL", "DB_SECRET")):
            postgres = LocalPostgres(data_dir / "postgres").start()
            env["PGDATASOURCE"] = postgres.create_database("exitus")
        migrations.up(database_url_from_env(env))
        if postgres is not None:
            # Served as deployments are: by the service's own login, which can become nothing but exitus_service
            # (migrations/0009.service-login.sql); the owner's URL (the banner's) is for migrations.
            env["PGDATASOURCE"] = postgres.url("exitus", SERVICE_LOGIN)
        if issuer is not None:
            issuer.start()
            env["OPENID_PROVIDER_URL"] = issuer.url
            env.setdefault("OAUTH_CLIENT_ID", "exitus-local")
        config = Config.from_env(env)
        stack = LocalStack(config, create_app(config), postgres=postgres, issuer=issuer)
    except BaseException:
        if issuer is not None:
            issuer.stop()
        if postgres is not None:
            postgres.stop()
        raise
    base = f"http://{config.host}:{config.port}"
    stack.banner = f"\nexitus is starting on {base}\n  Swagger UI:  {base}/ui/\n"
    if postgres is not None:
        stack.banner += (
            f"  Database:    PGDATASOURCE={postgres.url('exitus').replace('+psycopg', '')}"
            " (e.g. for `exitus migrate status`)\n"
        )
    if config.metrics_addr:
        stack.banner += f"  Metrics:     http://{config.metrics_addr}/metrics\n"
    unused = [name for name in NOT_USED_LOCALLY if env.get(name)]
    if unused:
        stack.banner += f"  Not used by make run (one process; `exitus serve` reads them): {', '.join(unused)}\n"
    if issuer is not None:
        stack.customer_id = _demo_customer(stack.app.database.queries)
        stack.token = issuer.token(
            scopes=ALL_SCOPES,
            customer=stack.customer_id,
            subject="local-developer",
            email="developer@localhost",
            name="Local Developer",
            client_id=config.oauth_client_ids[0],
            tenant_claim=config.tenant_claim,
            ttl_seconds=12 * 3600,
        )
        token_file = data_dir / "token"
        token_file.write_text(stack.token + "\n")
        stack.banner += (
            f"  Token (12 h, all scopes, customer {stack.customer_id}; also in {token_file}):\n\n{stack.token}\n\n"
            f'  Try: curl -H "Authorization: Bearer $(cat {token_file})" {base}/v1/projects\n'
            f"  or in Swagger UI: Authorize, paste the token into bearerAuth, then Try it out.\n"
        )
    return stack


def run_local_stack(data_dir: Path, *, issuer_port: int = 9400, environ: Mapping[str, str] | None = None) -> int:
    """Serve until Ctrl-C or SIGTERM, then stop what was started (PostgreSQL above all: it must not outlive us).
    Any failure to start is one line on stderr, with everything started stopped again."""
    import uvicorn

    from exitus.logs import configure_logging
    from exitus.serve import DrainingServer, server_settings

    env = dict(os.environ if environ is None else environ)
    env.setdefault("ADDR", "127.0.0.1:8080")
    # Local default: no drain (nothing routes traffic here), unless asked for.
    env.setdefault("SHUTDOWN_DRAIN_SECONDS", "0")
    try:
        # The API's port, taken before anything starts (only ADDR and LISTEN_BACKLOG are read here).
        listener = _listen(Config.from_env({"PGDATASOURCE": "postgresql://unused/unused", **env}, need_oidc=False))
    except StartFailed as error:
        print(f"exitus: make run: {error}", file=sys.stderr)
        return 1
    try:
        stack = prepare_local_stack(data_dir, env, issuer_port=issuer_port)
    except (StartFailed, LocalPostgresError, IssuerInUse) as error:
        listener.close()
        print(f"exitus: make run: {error}", file=sys.stderr)
        return 1
    except ConfigError:
        listener.close()
        raise
    except Exception as error:
        listener.close()
        first_line = (str(error).strip().splitlines() or [""])[0]
        print(f"exitus: make run could not start: {type(error).__name__}: {first_line}", file=sys.stderr)
        return 1
    config = stack.config
    configure_logging(stage=config.stage, level=config.log_level)
    print(stack.banner, flush=True)
    if config.metrics_addr:
        from exitus.metrics import start_metrics_listener

        start_metrics_listener(config.metrics_addr)
    # Not uvicorn.run: after its shutdown uvicorn re-raises the signal, which would end the process before the
    # `finally` below and leave PostgreSQL running in .data/.
    server = DrainingServer(
        uvicorn.Config(stack.app, host=config.host, port=config.port, **server_settings(config)),
        drain_seconds=config.shutdown_drain_seconds,
    )
    try:
        server.run(sockets=[listener])
    finally:
        listener.close()
        stack.stop()
    return 0


def _listen(config: Config) -> socket.socket:
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((config.host, config.port))
        listener.listen(config.listen_backlog)
    except OSError as error:
        listener.close()
        raise StartFailed(
            f"the API cannot listen on {config.host}:{config.port} ({error.strerror}): "
            "move it with `ADDR=127.0.0.1:<port> make run`"
        ) from None
    return listener


def _demo_customer(queries: Any) -> str:
    unfiltered = dict.fromkeys(("created_after", "created_before", "after_time", "after_id"))
    rows = [*queries.list_customers(only_id=None, pattern=DEMO_CUSTOMER, **unfiltered, offset=0, limit=1)]
    if rows:
        return str(rows[0]["id"])
    return str(queries.create_customer(name=DEMO_CUSTOMER, description="created by make run", labels=array([]))["id"])
