"""Liveness and readiness probes."""

from exitus import lifecycle
from exitus.errors import ServiceUnavailable
from exitus.migrations import expected_migration_ids
from exitus.request_scope import current


def check_liveness():
    # Stays 200 while draining: the process is healthy, only leaving; restarting it would cut in-flight requests.
    return {"status": "ok"}


def check_readiness():
    if lifecycle.shutting_down():
        raise ServiceUnavailable("shutting down", retry_after=5)
    try:
        applied = {row["migration_id"] for row in current().queries.list_applied_migrations()}
    except Exception:
        raise ServiceUnavailable("the database is unreachable or not migrated", retry_after=5) from None
    pending = sorted(expected_migration_ids() - applied)
    if pending:
        raise ServiceUnavailable(f"migrations pending: {', '.join(pending)}", retry_after=5)
    return {"status": "ok"}
