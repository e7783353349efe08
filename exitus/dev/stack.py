"""`make run`: the whole local stack in one process — PostgreSQL in .data/, migrations, dev issuer, API."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from exitus.config import Config, database_url_from_env
from exitus.dev.issuer import ALL_SCOPES, DevIssuer
from exitus.dev.postgres import LocalPostgres, PostgresNotInstalled

DEMO_CUSTOMER = "Local demo"


def run_local_stack(data_dir: Path, *, issuer_port: int = 9400) -> int:
    import uvicorn

    from exitus import migrations
    from exitus.app import create_app
    from exitus.logs import configure_logging

    env = dict(os.environ)
    env.setdefault("ADDR", "127.0.0.1:8080")
    postgres = None
    if not any(env.get(k) for k in ("PGDATASOURCE", "DATABASE_URL", "DB_SECRET")):
        try:
            postgres = LocalPostgres(data_dir / "postgres").start()
        except PostgresNotInstalled as error:
            print(f"exitus: {error}", file=sys.stderr)
            return 1
        env["PGDATASOURCE"] = postgres.create_database("exitus")
        print(f"PostgreSQL: {data_dir / 'postgres'} on 127.0.0.1:{postgres.port}", flush=True)
    migrations.up(database_url_from_env(env))

    issuer = None
    if not env.get("OPENID_PROVIDER_URL"):
        issuer = DevIssuer(data_dir / "dev-issuer", port=issuer_port).start()
        env["OPENID_PROVIDER_URL"] = issuer.url
        env.setdefault("OAUTH_CLIENT_ID", "exitus-local")
    config = Config.from_env(env)
    configure_logging(stage=config.stage, debug=config.debug)
    app = create_app(config)
    try:
        if issuer is not None:
            customer_id = _demo_customer(app.database.queries)
            token = issuer.token(
                scopes=ALL_SCOPES,
                customer=customer_id,
                subject="local-developer",
                email="developer@localhost",
                name="Local Developer",
                client_id=config.oauth_client_ids[0],
                tenant_claim=config.tenant_claim,
                ttl_seconds=12 * 3600,
            )
            (data_dir / "token").write_text(token + "\n")
            base = f"http://{config.host}:{config.port}"
            print(
                f"\nexitus is starting on {base}\n"
                f"  Swagger UI:  {base}/ui/\n"
                f"  Token (12 h, all scopes, customer {customer_id}; also in {data_dir / 'token'}):\n\n{token}\n\n"
                f'  Try: curl -H "Authorization: Bearer $(cat {data_dir / "token"})" {base}/v1/projects\n',
                flush=True,
            )
        uvicorn.run(app, host=config.host, port=config.port, log_config=None)
    finally:
        if issuer is not None:
            issuer.stop()
        if postgres is not None:
            postgres.stop()
    return 0


def _demo_customer(queries) -> str:
    rows = [*queries.list_customers(only_id=None, pattern=DEMO_CUSTOMER, offset=0, limit=1)]
    if rows:
        return str(rows[0]["id"])
    return str(queries.create_customer(name=DEMO_CUSTOMER, description="created by make run", labels=_empty())["id"])


def _empty():
    from exitus.db import array

    return array([])
