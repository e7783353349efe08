"""Liveness and readiness probes."""

from exitus.errors import ServiceUnavailable
from exitus.migrations import expected_migration_ids
from exitus.request_scope import current


def liveness():
    return {"status": "ok"}


def readiness():
    try:
        applied = {row["migration_id"] for row in current().queries.list_applied_migrations()}
    except Exception:
        raise ServiceUnavailable("the database is unreachable or not migrated", retry_after=5) from None
    pending = sorted(expected_migration_ids() - applied)
    if pending:
        raise ServiceUnavailable(f"migrations pending: {', '.join(pending)}", retry_after=5)
    return {"status": "ok"}
