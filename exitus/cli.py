"""The `exitus` command: serve, migrate, and the local-development helpers."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path


def silence_known_warnings() -> None:
    """Connexion imports starlette's test client when it loads (for its `test_client()` helper, never used in
    serving), and starlette then warns, on stderr at every start, that its test client wants `httpx2`. Installing
    httpx2 would add a second HTTP client to every image only to quiet that; this filter, set before anything
    imports connexion, quiets exactly that one message."""
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient` is deprecated")


silence_known_warnings()

from exitus.config import Config, ConfigError  # noqa: E402 - after the filter: nothing before it may warn

ISSUER_PORT = 9400


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except ConfigError as error:
        print(f"exitus: configuration error: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exitus", description="A multi-tenant issue-tracking REST API.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the API with uvicorn (ADDR, default :8080)")
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="apply, revert or list database migrations")
    migrate.add_argument("direction", choices=["up", "down", "status"])
    migrate.add_argument(
        "--steps", help="up: apply only the next N pending (default: all); down: revert the newest N (default: 1)"
    )
    migrate.add_argument("--all", action="store_true", help="with down: revert every applied migration")
    migrate.add_argument("--yes", action="store_true", help="with down: do not ask for confirmation")
    migrate.set_defaults(run=_migrate)

    prune = commands.add_parser(
        "prune-idempotency-keys",
        help="remove expired Idempotency-Keys that no later POST of their customer removed (run it e.g. hourly)",
    )
    prune.set_defaults(run=_prune_idempotency_keys)

    issuer = commands.add_parser("dev-issuer", help="serve a development OpenID issuer on 127.0.0.1")
    issuer.add_argument("--port", type=int, default=ISSUER_PORT)
    issuer.add_argument("--key-dir", type=Path, help="default: .data/dev-issuer in the checkout (as make run's)")
    issuer.set_defaults(run=_dev_issuer)

    token = commands.add_parser("dev-token", help="mint an access token from the development issuer")
    token.add_argument("--scopes", nargs="+", help="scopes to grant (default: all)")
    token.add_argument("--customer", help="the customer id to put in the tenant claim")
    token.add_argument("--subject", help="the token subject (default: a random id)")
    token.add_argument("--email")
    token.add_argument("--name")
    token.add_argument("--client-id", default=os.environ.get("OAUTH_CLIENT_ID", "exitus-local").split(",")[0])
    token.add_argument("--tenant-claim", default=os.environ.get("TENANT_CLAIM", "customer_id"))
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    token.add_argument("--key-dir", type=Path, help="default: .data/dev-issuer in the checkout (as make run's)")
    token.set_defaults(run=_dev_token)

    up = commands.add_parser("dev-up", help="run the whole local stack (PostgreSQL, dev issuer, API): `make run`")
    up.add_argument("--data-dir", type=Path, help="default: .data at the top of the checkout")
    up.add_argument(
        "--issuer-port", type=int, default=ISSUER_PORT, help="the dev issuer's port (`make run ISSUER_PORT=9401`)"
    )
    up.set_defaults(run=_dev_up)
    return parser


def _serve(_args: argparse.Namespace) -> int:
    from exitus.serve import serve

    return serve(Config.from_env())


def _migrate(args: argparse.Namespace) -> int:
    from exitus import migrations

    url = Config.from_env(need_oidc=False).database_url
    try:
        steps = _steps(args.steps)
        if args.direction != "down" and (args.all or args.yes):
            raise migrations.MigrationRefused("--all and --yes are for down only")
        if args.direction == "status" and steps is not None:
            raise migrations.MigrationRefused("--steps is for up and down only")
        if args.direction == "up":
            applied = migrations.up(url, steps=steps)
            print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))
        elif args.direction == "down":
            return _migrate_down(url, steps, args)
        else:
            for item in migrations.status(url):
                print(f"{'applied' if item.applied else 'pending'}  {item.id}")
    except migrations.MigrationRefused as refused:
        print(f"exitus: migrate {args.direction}: {refused}; nothing changed", file=sys.stderr)
        return 2
    return 0


def _prune_idempotency_keys(_args: argparse.Namespace) -> int:
    from exitus.db import Database
    from exitus.idempotency import prune_expired

    database = Database(Config.from_env(need_oidc=False))
    try:
        removed = prune_expired(database)
    finally:
        database.close()
    print(f"removed {removed} expired idempotency key(s)")
    return 0


def _steps(raw: str | None) -> int | None:
    from exitus.migrations import MigrationRefused

    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise MigrationRefused(f"--steps must be a positive integer, not {raw!r}") from None


def _migrate_down(url: str, steps: int | None, args: argparse.Namespace) -> int:
    """Reverting drops what the migrations created, data included: say what goes, and ask unless --yes."""
    from exitus import migrations

    if args.all and steps is not None:
        raise migrations.MigrationRefused("give --steps N or --all, not both")
    steps = None if args.all else (1 if steps is None else steps)
    planned = migrations.to_revert(url, steps)
    if not planned:
        print("reverted 0 migration(s): none is applied")
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            raise migrations.MigrationRefused(
                f"would revert {', '.join(planned)} and drop their tables and data: confirm with --yes"
            )
        print(f"This reverts {len(planned)} migration(s), newest first: {', '.join(planned)}.")
        print("Tables, columns and the data in them that these migrations created are dropped.")
        try:
            answer = input("Revert? Type yes to continue: ").strip().lower()
        except EOFError:
            answer = ""
        if answer != "yes":
            print("not confirmed: nothing reverted")
            return 1
    reverted = migrations.down(url, steps, expected=planned)
    print(f"reverted {len(reverted)} migration(s): {', '.join(reverted)}")
    return 0


def _key_dir(args: argparse.Namespace) -> Path:
    from exitus.dev import default_data_dir

    return args.key_dir if args.key_dir is not None else default_data_dir() / "dev-issuer"


def _dev_issuer(args: argparse.Namespace) -> int:
    from exitus.dev.issuer import DevIssuer, IssuerInUse

    try:
        issuer = DevIssuer(_key_dir(args), port=args.port)
    except OSError as error:
        print(f"exitus: dev-issuer: 127.0.0.1:{args.port}: {error.strerror}; try --port", file=sys.stderr)
        return 1
    print(f"dev issuer: {issuer.url} (set OPENID_PROVIDER_URL={issuer.url}); Ctrl-C stops it", flush=True)
    try:
        issuer.serve_forever()
    except IssuerInUse as error:
        print(f"exitus: dev-issuer: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def _dev_token(args: argparse.Namespace) -> int:
    from exitus.dev.issuer import ALL_SCOPES, token_from_key_dir

    try:
        token = token_from_key_dir(
            _key_dir(args),
            scopes=args.scopes or ALL_SCOPES,
            customer=args.customer,
            subject=args.subject,
            email=args.email,
            name=args.name,
            client_id=args.client_id,
            tenant_claim=args.tenant_claim,
            ttl_seconds=args.ttl,
        )
    except FileNotFoundError as error:
        print(f"exitus: {error}", file=sys.stderr)
        return 1
    print(token)
    return 0


def _dev_up(args: argparse.Namespace) -> int:
    environ = dict(os.environ)
    # One process: its metrics stay in memory. prometheus_client reads this when first imported (just below), and
    # the banner names it as not used.
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    from exitus.dev import default_data_dir
    from exitus.dev.stack import run_local_stack

    data_dir = args.data_dir if args.data_dir is not None else default_data_dir()
    return run_local_stack(data_dir, issuer_port=args.issuer_port, environ=environ)
