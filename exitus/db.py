"""The database: one SQLAlchemy engine (psycopg 3) and one pugsql module of the named queries in queries/*.sql.

Observed here, once for every caller: each named query runs in a span named after it and is timed by name; the pool
reports its size, connections in use, requests waiting and connection errors (exitus.metrics).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pugsql
import sqlalchemy.exc
from opentelemetry import trace
from pugsql.statement import ArrayLiteral
from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

from exitus import metrics
from exitus.config import Config
from exitus.resources import QUERIES_DIR

tracer = trace.get_tracer("exitus.db")


class ObservedQueuePool(QueuePool):
    """SQLAlchemy's bounded pool, counting who waits for a connection and why getting one failed."""

    def _do_get(self) -> Any:
        metrics.DB_POOL_WAITING.inc()
        try:
            return super()._do_get()
        except sqlalchemy.exc.TimeoutError:
            metrics.DB_CONNECTION_ERRORS.labels(kind="pool_timeout").inc()
            raise
        except Exception:
            metrics.DB_CONNECTION_ERRORS.labels(kind="connect").inc()
            raise
        finally:
            metrics.DB_POOL_WAITING.dec()


class Database:
    def __init__(self, config: Config):
        self.engine = create_engine(
            config.database_url,
            poolclass=ObservedQueuePool,
            pool_size=config.db_pool_size,
            max_overflow=0,
            pool_timeout=config.db_pool_timeout,  # a bounded wait: exhaustion answers 503, never hangs
            pool_pre_ping=True,  # a connection broken by a database restart is replaced, not handed out
            hide_parameters=True,  # user data must not reach error messages or logs
            connect_args={
                "application_name": "exitus",
                "connect_timeout": 5,
                # Per-connection, so it costs no query per request.
                "options": f"-c statement_timeout={config.statement_timeout_ms}",
            },
        )
        self._observe_pool(config.db_pool_size)
        # Built once: parsing the .sql files is not free, and transactions are tracked per module and thread.
        self.queries = pugsql.module(str(QUERIES_DIR))
        self.queries.setengine(self.engine)
        database_name = make_url(config.database_url).database or ""
        for statement in self.queries:
            setattr(self.queries, statement.name, _observed(statement, database_name))

    def _observe_pool(self, size: int) -> None:
        metrics.DB_POOL_SIZE.inc(size)
        self._pool_size = size
        event.listen(self.engine, "checkout", lambda *_: metrics.DB_POOL_IN_USE.inc())
        event.listen(self.engine, "checkin", lambda *_: metrics.DB_POOL_IN_USE.dec())

        @event.listens_for(self.engine, "handle_error")
        def count_disconnects(context: Any) -> None:
            if context.is_disconnect:
                metrics.DB_CONNECTION_ERRORS.labels(kind="disconnect").inc()

    def close(self) -> None:
        self.engine.dispose()
        metrics.DB_POOL_SIZE.dec(self._pool_size)
        self._pool_size = 0


def _observed(statement: Callable, database_name: str) -> Callable:
    """The named query, run in a span named after it and timed by name."""
    name = statement.name
    attributes = {"db.system.name": "postgresql", "db.operation.name": name, "db.namespace": database_name}
    histogram = {outcome: metrics.DB_QUERY_DURATION.labels(query=name, outcome=outcome) for outcome in ("ok", "error")}

    def run(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        outcome = "error"
        try:
            with tracer.start_as_current_span(name, kind=trace.SpanKind.CLIENT, attributes=attributes):
                result = statement(*args, **kwargs)
            outcome = "ok"
            return result
        finally:
            histogram[outcome].observe(time.perf_counter() - started)

    run.__name__ = run.__qualname__ = name
    return run


def array(values: list[str]) -> ArrayLiteral:
    """A PostgreSQL array parameter (pugsql would expand a bare list into an IN-list)."""
    return ArrayLiteral(list(values))


def like_pattern(q: str | None) -> str | None:
    """An ILIKE pattern matching `q` as a literal substring, or None for no filter."""
    if not q:
        return None
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
