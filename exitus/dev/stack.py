"""`make run`: the whole local stack in one process — PostgreSQL in .data/, migrations, dev issuer, API."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exitus import migrations
from exitus.config import Config, database_url_from_env
from exitus.db import array
from exitus.dev.issuer import ALL_SCOPES, DevIssuer
from exitus.dev.postgres import LocalPostgres, PostgresNotInstalled

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


def prepare_local_stack(data_dir: Path, env: Mapping[str, str], *, issuer_port: int = 9400) -> LocalStack:
    """Start what is not configured: PostgreSQL unless a database is set, the dev issuer unless a provider is set."""
    from exitus.app import create_app

    env = dict(env)
    env.setdefault("ADDR", "127.0.0.1:8080")
    postgres = issuer = None
    if not any(env.get(k) for k in ("PGDATASOURCE", "DATABASE_URL", "DB_SECRET")):
        postgres = LocalPostgres(data_dir / "postgres").start()
        env["PGDATASOURCE"] = postgres.create_database("exitus")
    migrations.up(database_url_from_env(env))
    if not env.get("OPENID_PROVIDER_URL"):
        issuer = DevIssuer(data_dir / "dev-issuer", port=issuer_port).start()
        env["OPENID_PROVIDER_URL"] = issuer.url
        env.setdefault("OAUTH_CLIENT_ID", "exitus-local")
    config = Config.from_env(env)
    stack = LocalStack(config, create_app(config), postgres=postgres, issuer=issuer)
    base = f"http://{config.host}:{config.port}"
    stack.banner = f"\nexitus is starting on {base}\n  Swagger UI:  {base}/ui/\n"
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
        )
    return stack


def run_local_stack(data_dir: Path, *, issuer_port: int = 9400) -> int:
    """Serve until Ctrl-C or SIGTERM, then stop what was started (PostgreSQL above all: it must not outlive us)."""
    import uvicorn

    from exitus.logs import configure_logging
    from exitus.serve import DrainingServer

    try:
        stack = prepare_local_stack(data_dir, os.environ, issuer_port=issuer_port)
    except PostgresNotInstalled as error:
        print(f"exitus: {error}", file=sys.stderr)
        return 1
    configure_logging(stage=stack.config.stage, level=stack.config.log_level)
    print(stack.banner, flush=True)
    # Not uvicorn.run: after its shutdown uvicorn re-raises the signal, which would end the process before the
    # `finally` below and leave PostgreSQL running in .data/. No drain: nothing routes traffic here.
    server = DrainingServer(
        uvicorn.Config(stack.app, host=stack.config.host, port=stack.config.port, log_config=None), drain_seconds=0
    )
    try:
        server.run()
    finally:
        stack.stop()
    return 0


def _demo_customer(queries: Any) -> str:
    rows = [*queries.list_customers(only_id=None, pattern=DEMO_CUSTOMER, offset=0, limit=1)]
    if rows:
        return str(rows[0]["id"])
    return str(queries.create_customer(name=DEMO_CUSTOMER, description="created by make run", labels=array([]))["id"])
