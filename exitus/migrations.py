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


def up(database_url: str) -> list[str]:
    """Apply every pending migration; returns the ids applied."""
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with _locked_backend(database_url) as backend, backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
        return [m.id for m in pending]


def down(database_url: str, steps: int = 1) -> list[str]:
    """Roll back the newest `steps` applied migrations (all of them when steps is 0); returns the ids reverted."""
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with _locked_backend(database_url) as backend, backend.lock():
        applied = backend.to_rollback(migrations)  # newest first
        chosen = applied if steps == 0 else applied[:steps]
        backend.rollback_migrations(chosen)
        return [m.id for m in chosen]


def status(database_url: str) -> list[MigrationStatus]:
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with _locked_backend(database_url) as backend:
        applied = backend.get_applied_migration_hashes()
        return [MigrationStatus(m.id, m.hash in applied) for m in migrations]
