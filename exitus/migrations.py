"""Schema migrations: plain SQL up/down steps in migrations/, applied by yoyo-migrations.

yoyo keeps the applied set in `_yoyo_migration` and takes its own lock table; around it we hold a PostgreSQL
advisory lock on a separate connection, so instances that start together queue instead of racing (even on a fresh
database, before yoyo's lock table exists).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from yoyo import get_backend, read_migrations

from exitus.resources import MIGRATIONS_DIR

ADVISORY_LOCK_KEY = 0x657869747573  # "exitus"


@dataclass(frozen=True)
class MigrationStatus:
    id: str
    applied: bool


@functools.cache
def expected_migration_ids() -> frozenset[str]:
    return frozenset(m.id for m in read_migrations(str(MIGRATIONS_DIR)))


@contextlib.contextmanager
def _locked_backend(database_url: str) -> Iterator:
    # Autocommit: the session-level lock needs no transaction, and a connection left idle in one for the whole run
    # would be cut by idle_in_transaction_session_timeout (set on RDS: infra/).
    lock_engine = create_engine(database_url, poolclass=NullPool, hide_parameters=True, isolation_level="AUTOCOMMIT")
    try:
        with lock_engine.connect() as lock:
            lock.execute(text("select pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            backend = get_backend(database_url)
            try:
                yield backend
            finally:
                backend.connection.close()
                lock.execute(text("select pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
    finally:
        lock_engine.dispose()


class MigrationRefused(ValueError):
    """A migration command that cannot do exactly what it was asked: nothing was changed."""


def up(database_url: str, steps: int | None = None) -> list[str]:
    """Apply the pending migrations (the first `steps` of them, in yoyo's order, when given); returns the ids applied.
    Refuses, changing nothing, when `steps` is not a positive number or more than are pending."""
    if steps is not None and steps < 1:
        raise MigrationRefused(f"--steps must be a positive integer, not {steps}")
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with _locked_backend(database_url) as backend, backend.lock():
        pending = backend.to_apply(migrations)
        if steps is not None and steps > len(pending):
            raise MigrationRefused(f"--steps {steps}: only {len(pending)} migration(s) pending")
        chosen = pending.__class__(list(pending)[:steps], pending.post_apply)
        backend.apply_migrations(chosen)
        return [m.id for m in chosen]


def to_revert(database_url: str, steps: int | None = 1) -> list[str]:
    """The ids `down(database_url, steps)` would revert, newest first (every applied one when steps is None),
    without reverting anything. Refuses when `steps` is not a positive number or more than are applied."""
    if steps is not None and steps < 1:
        raise MigrationRefused(f"--steps must be a positive integer, not {steps} (--all reverts every migration)")
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with _locked_backend(database_url) as backend:
        return [m.id for m in _newest_applied(backend, migrations, steps)]


def down(database_url: str, steps: int | None = 1, *, expected: list[str] | None = None) -> list[str]:
    """Roll back the newest `steps` applied migrations (all of them when steps is None); returns the ids reverted.
    With `expected` (what `to_revert` showed an operator), refuses unless exactly those would be reverted."""
    if steps is not None and steps < 1:
        raise MigrationRefused(f"--steps must be a positive integer, not {steps} (--all reverts every migration)")
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with _locked_backend(database_url) as backend, backend.lock():
        chosen = _newest_applied(backend, migrations, steps)
        ids = [m.id for m in chosen]
        if expected is not None and ids != expected:
            raise MigrationRefused(f"the applied migrations changed meanwhile: would now revert {', '.join(ids)}")
        backend.rollback_migrations(chosen)
        return ids


def _newest_applied(backend, migrations, steps: int | None) -> list:
    applied = list(backend.to_rollback(migrations))  # newest first
    if steps is not None and steps > len(applied):
        raise MigrationRefused(f"--steps {steps}: only {len(applied)} migration(s) applied")
    return applied if steps is None else applied[:steps]


def status(database_url: str) -> list[MigrationStatus]:
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with _locked_backend(database_url) as backend:
        applied = backend.get_applied_migration_hashes()
        return [MigrationStatus(m.id, m.hash in applied) for m in migrations]
