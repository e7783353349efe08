"""The database: a bounded pool of psycopg 3 connections, and the named queries of queries/*.sql run on them.

queries/*.sql stays the one source of SQL, in pugsql's format: pugsql parses the files, SQLAlchemy's compiler turns
each statement's `:name` parameters into psycopg's `%(name)s` once at start, and each call runs the statement through
psycopg directly, as a prepared statement. (Through pugsql's own execution, SQLAlchemy's session, text compilation and
result layers cost about 300 µs a statement; bench/README.md has the measurement.)

A prepared statement is planned with its values for its first five executions; after that PostgreSQL may settle on
a generic plan, planned once for any values, when its estimate is below the average of those custom plans'. That is
what a prepared statement is for, except for the statements named in CUSTOM_PLANNED: a generic plan of those is
wrong for every call, so each of their executions is planned with its values (plan_cache_mode, transaction-local).

A request is one transaction on one connection (`Database.run`): BEGIN and the customer binding for row-level
security travel in one message, then the handler's statements, then COMMIT, so a read costs three round trips (a
list of issues four: CUSTOM_PLANNED). (psycopg's pipeline mode saves one more, but measured more CPU per request
than it saves: bench/README.md.)
Connections are not pinged before use; a connection found dead on the first use of a transaction
(a database restart) is discarded and the transaction runs again on a live one (`Database.run`), since nothing of it
can have been committed.

Observed here, once for every caller: each named query runs in a span named after it and is timed by name; the pool
reports its size, connections in use, requests waiting and connection errors (exitus.metrics).
"""

from __future__ import annotations

import contextlib
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import psycopg
import pugsql
import sqlalchemy
import sqlalchemy.exc
from opentelemetry import trace
from psycopg.rows import dict_row, tuple_row
from pugsql.statement import Many, One, Scalar
from sqlalchemy import create_engine, event
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

from exitus import metrics
from exitus.config import Config
from exitus.errors import database_error_summary
from exitus.resources import QUERIES_DIR

tracer = trace.get_tracer("exitus.db")
T = TypeVar("T")
BIND_REQUEST = "set_request_context"  # queries/session.sql
# The role requests run as (migrations/0005.audit.sql): it owns nothing, so row-level security and the audit trail's
# append-only rules bind it, and it can change no table's definition, policies or triggers.
SERVICE_ROLE = "exitus_service"
# Statements whose generic plan is wrong for every call. list_issues is one statement for every sort: only a plan made
# with its values folds the `sort` CASEs to one sort key and walks that sort's index to the page's end; the generic
# plan sorts the whole project. It wins after deep pages of a big project (costly custom plans; the generic one is
# costed for an average project), and then serves every later call on that connection (tests/test_query_plans.py).
# `set local` costs a round trip, a few % of a list page; unprepared, a page costs a fifth more, and custom plans for
# every statement (the role's setting) triple get_issue (bench/README.md, "Generic plans of `list_issues`").
CUSTOM_PLANNED = frozenset({"list_issues"})
FORCE_CUSTOM_PLAN = b"set local plan_cache_mode = force_custom_plan"


@dataclass(frozen=True)
class RequestContext:
    """What a request's transaction is bound to: its customer (row-level security) and what the audit trail
    records with each change it makes."""

    customer_id: str | None = None
    actor_sub: str | None = None
    request_id: str | None = None
    trace_id: str | None = None
    client_ip: str | None = None
    user_agent: str | None = None


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


class NamedQuery:
    """One statement of queries/*.sql as pugsql parsed it, compiled once for psycopg."""

    def __init__(self, statement: Any, database_name: str, *, custom_planned: bool = False):
        self.name: str = statement.name
        self.custom_planned = custom_planned  # see CUSTOM_PLANNED
        compiled = sqlalchemy.text(statement.sql).compile(dialect=PGDialect_psycopg())
        self.sql: str = str(compiled)  # `:x` -> `%(x)s`, a literal `%` -> `%%`
        self.parameters = frozenset(compiled.params)
        self.fetch: Callable[[psycopg.Cursor], Any] = _fetcher(statement.result, self.name)
        self.row_factory = tuple_row if isinstance(statement.result, Scalar) else dict_row
        self.span_attributes = {
            "db.system.name": "postgresql",
            "db.operation.name": self.name,
            "db.namespace": database_name,
        }
        self.duration = {
            outcome: metrics.DB_QUERY_DURATION.labels(query=self.name, outcome=outcome) for outcome in ("ok", "error")
        }

    def send(self, connection: psycopg.Connection, params: dict[str, Any]) -> psycopg.Cursor:
        """Run the statement; its rows are read from the returned cursor."""
        if params.keys() != self.parameters:
            raise TypeError(f"{self.name} takes {sorted(self.parameters)}, not {sorted(params)}")
        if self.custom_planned:  # transaction-local: the request's later statements (count_issues) are so planned too
            connection.execute(FORCE_CUSTOM_PLAN)
        cursor = connection.cursor(row_factory=self.row_factory)
        return cursor.execute(self.sql, params, prepare=True)

    def __call__(self, connection: psycopg.Connection, params: dict[str, Any]) -> Any:
        started = time.perf_counter()
        # Not made the current span: nothing runs inside it, and attaching it to the context costs a third more.
        span = tracer.start_span(self.name, kind=trace.SpanKind.CLIENT, attributes=self.span_attributes)
        outcome = "error"
        try:
            result = self.fetch(self.send(connection, params))
            outcome = "ok"
            return result
        except Exception as error:
            summary = database_error_summary(error)  # never the message: it quotes the statement's values
            span.record_exception(error, attributes=None if summary is None else _redacted_exception(error, summary))
            span.set_status(trace.StatusCode.ERROR, type(error).__name__)
            raise
        finally:
            span.end()
            self.duration[outcome].observe(time.perf_counter() - started)


def named_queries(database_name: str) -> dict[str, NamedQuery]:
    """queries/*.sql's statements by name, the CUSTOM_PLANNED ones marked (each of which must exist)."""
    statements = {s.name: s for s in pugsql.module(str(QUERIES_DIR))}
    if missing := CUSTOM_PLANNED - statements.keys():
        raise ValueError(f"CUSTOM_PLANNED names no statement of queries/: {sorted(missing)}")
    return {name: NamedQuery(s, database_name, custom_planned=name in CUSTOM_PLANNED) for name, s in statements.items()}


def _redacted_exception(error: BaseException, summary: str) -> dict[str, str]:
    """A span's exception attributes for a database error, its message and stack trace's last line replaced."""
    stack = "".join(traceback.format_tb(error.__traceback__))
    return {"exception.message": summary, "exception.stacktrace": f"{stack}{type(error).__name__}: {summary}"}


def _fetcher(result: Any, name: str) -> Callable[[psycopg.Cursor], Any]:
    """What a call returns, by pugsql's result kind: a row (dict) or None, a list of rows, or a value (or None).
    The kinds queries/ does not use are refused when the files are loaded, rather than half supported."""
    if isinstance(result, One):
        return lambda cursor: cursor.fetchone()
    if isinstance(result, Many):
        return lambda cursor: cursor.fetchall()
    if type(result) is Scalar:
        return lambda cursor: (row := cursor.fetchone()) and row[0]
    raise ValueError(f"{name}: pugsql result kind {type(result).__name__} is not supported")


class Queries:
    """The named queries, as methods (`queries.get_issue(customer_id=..., ...)`), run on one connection."""

    def __init__(self, statements: dict[str, NamedQuery], connection: psycopg.Connection):
        self._statements = statements
        self._connection = connection

    def __getattr__(self, name: str) -> Callable[..., Any]:
        try:
            statement = self._statements[name]
        except KeyError:
            raise AttributeError(f"no named query {name!r} in queries/") from None
        return lambda **params: statement(self._connection, params)


class UnboundQueries:
    """The named queries outside a request's transaction: each call is a transaction of its own (probes, tools)."""

    def __init__(self, database: Database):
        self._database = database

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def run(**params: Any) -> Any:
            with self._database.transaction() as queries:
                return getattr(queries, name)(**params)

        return run


class Database:
    def __init__(self, config: Config):
        self.engine = create_engine(
            config.database_url,
            poolclass=ObservedQueuePool,
            pool_size=config.db_pool_size,
            max_overflow=0,
            pool_timeout=config.db_pool_timeout,  # a bounded wait: exhaustion answers 503, never hangs
            hide_parameters=True,  # user data must not reach error messages or logs
            # Transactions are ours (BEGIN with the customer binding, COMMIT): psycopg must not open its own.
            isolation_level="AUTOCOMMIT",
            connect_args={
                "application_name": "exitus",
                "connect_timeout": 5,
                # Per-connection, so it costs no query per request. No JIT: it compiles for plans it merely guesses
                # to be expensive, and costs an OLTP query tens of milliseconds when it does (seen at 1M issues).
                # The role: assumed at connection start, so no request ever runs as the owner of the tables. The
                # login is the owner's (one URL) or exitus_app's, which can become nothing else (0009.service-login).
                "options": f"-c statement_timeout={config.statement_timeout_ms} -c jit=off -c role={SERVICE_ROLE}",
            },
        )
        self._observe_pool(config.db_pool_size)
        # Parsed and compiled once: parsing the .sql files is not free.
        database_name = make_url(config.database_url).database or ""
        self.statements = named_queries(database_name)
        self.queries = UnboundQueries(self)

    def _observe_pool(self, size: int) -> None:
        metrics.DB_POOL_SIZE.inc(size)
        self._pool_size = size
        event.listen(self.engine, "checkout", lambda *_: metrics.DB_POOL_IN_USE.inc())
        event.listen(self.engine, "checkin", lambda *_: metrics.DB_POOL_IN_USE.dec())

    def run(self, work: Callable[[Queries], T], *, context: RequestContext | None = None) -> T:
        """`work` in one transaction (bound to `context`: see RequestContext), committed when it returns.

        A pooled connection may have died since its last use (a database restart). If that shows before the COMMIT
        was sent, nothing was committed: the connection is discarded and `work` runs again, once, on a connection
        that answers a ping."""
        try:
            return self._run_once(work, context, ping=False)
        except _DeadConnection:
            return self._run_once(work, context, ping=True)

    @contextlib.contextmanager
    def transaction(self, *, context: RequestContext | None = None) -> Iterator[Queries]:
        """The named queries in one transaction, committed when the block ends without an error (no retry)."""
        with self._connection(ping=False) as connection:
            self._begin(connection, context)
            try:
                yield Queries(self.statements, connection)
            except BaseException:
                _roll_back(connection)
                raise
            connection.execute(b"commit")

    def _run_once(self, work: Callable[[Queries], T], context: RequestContext | None, *, ping: bool) -> T:
        with self._connection(ping=ping) as connection:
            try:
                self._begin(connection, context)
                result = work(Queries(self.statements, connection))
            except psycopg.OperationalError as error:
                _roll_back(connection)
                if connection.broken and not ping:
                    raise _DeadConnection from error
                raise
            except BaseException:
                _roll_back(connection)
                raise
            connection.execute(b"commit")  # a failure here is not retried: the outcome is unknown
            return result

    def _begin(self, connection: psycopg.Connection, context: RequestContext | None) -> None:
        """BEGIN, and the request's binding (transaction-local: customer for row-level security, context for the
        audit trail), in one round trip: one simple-protocol message with the values bound client-side (psycopg
        quotes them as literals)."""
        if context is None:
            connection.execute(b"begin")
            return
        binding = self.statements[BIND_REQUEST]
        connection.execute(b"begin; " + psycopg.ClientCursor(connection).mogrify(binding.sql, asdict(context)).encode())

    @contextlib.contextmanager
    def _connection(self, *, ping: bool) -> Iterator[psycopg.Connection]:
        pooled = self._checkout(ping=ping)
        try:
            yield pooled.driver_connection
        finally:
            if pooled.driver_connection.broken:
                metrics.DB_CONNECTION_ERRORS.labels(kind="disconnect").inc()
                pooled.invalidate()  # closed, and replaced by a new connection on a later checkout
            pooled.close()  # back to the pool (an invalidated one leaves it)

    def _checkout(self, *, ping: bool) -> Any:
        """A pooled connection; with `ping`, one that answers (dead ones met on the way are discarded)."""
        for _ in range(self._pool_size + 1):
            pooled = self.engine.pool.connect()
            if not ping:
                return pooled
            try:
                self.engine.dialect.do_ping(pooled.driver_connection)
                return pooled
            except psycopg.OperationalError as error:
                metrics.DB_CONNECTION_ERRORS.labels(kind="disconnect").inc()
                pooled.invalidate(error)
                pooled.close()
        raise psycopg.OperationalError("no pooled connection answers")

    def close(self) -> None:
        self.engine.dispose()
        metrics.DB_POOL_SIZE.dec(self._pool_size)
        self._pool_size = 0


class _DeadConnection(Exception):
    """The transaction's connection died before anything could have been committed: safe to run it again."""


def _roll_back(connection: psycopg.Connection) -> None:
    if not connection.closed and not connection.broken:
        with contextlib.suppress(psycopg.Error):
            connection.execute(b"rollback")


def array(values: list[str]) -> list[str]:
    """A PostgreSQL array parameter (psycopg adapts a list to an array)."""
    return list(values)


def like_pattern(q: str | None) -> str | None:
    """An ILIKE pattern matching `q` as a literal substring, or None for no filter."""
    if not q:
        return None
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
