"""Logging: structlog for our events, and the standard library's (uvicorn's too) through the same renderer.

JSON lines on stdout; a human console format when STAGE=local. Every line logged while a request is served carries
its ids: request_id, the caller's sub and customer_id once known, and the current trace_id/span_id, so a log line
leads to its trace and its tenant. Each request also gets one access line (exitus.edge.EdgeMiddleware).
"""

from __future__ import annotations

import logging
import sys
import traceback
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TextIO

import structlog
from opentelemetry import trace

from exitus.errors import database_error_summary, request_id_var


@dataclass
class RequestFacts:
    """What is learnt about the caller while a request is served. Set at the edge; the token check and the request
    scope fill it in (the same object, also from Flask's worker thread, which runs in a copy of the edge's context)."""

    sub: str | None = None
    customer_id: str | None = None


request_facts: ContextVar[RequestFacts | None] = ContextVar("exitus_request_facts", default=None)


def note_caller(*, sub: str | None = None, customer_id: str | None = None) -> None:
    facts = request_facts.get()
    if facts is None:
        return
    if sub is not None:
        facts.sub = sub
    if customer_id is not None:
        facts.customer_id = customer_id


def add_request_ids(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: the ids of the request (and trace) being served, on every line logged during it."""
    request_id = request_id_var.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    facts = request_facts.get()
    if facts is not None:
        if facts.sub is not None:
            event.setdefault("sub", facts.sub)
        if facts.customer_id is not None:
            event.setdefault("customer_id", facts.customer_id)
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event.setdefault("trace_id", format(span_context.trace_id, "032x"))
        event.setdefault("span_id", format(span_context.span_id, "016x"))
    return event


def redact_database_errors(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """A logged exception's traceback, with every database error in it (and in its causes) described by
    `database_error_summary` instead of its message: PostgreSQL's messages quote the values of the statement."""
    exc_info = event_dict.get("exc_info")
    if isinstance(exc_info, BaseException):
        error = exc_info
    elif isinstance(exc_info, tuple):
        error = exc_info[1]
    elif exc_info:
        error = sys.exc_info()[1]
    else:
        return event_dict
    if error is None:
        return event_dict
    rendered = traceback.TracebackException.from_exception(error)
    if _redact(rendered, error, set()):
        del event_dict["exc_info"]
        event_dict["exception"] = "".join(rendered.format()).rstrip("\n")
    return event_dict


def _redact(rendered: traceback.TracebackException, error: BaseException | None, seen: set[int]) -> bool:
    """Replaces, in place, the message of each database error of the chain; whether there was one."""
    if error is None or id(error) in seen:
        return False
    seen.add(id(error))
    summary = database_error_summary(error)
    if summary is not None:
        rendered._str = summary  # what format() prints after the type name (CPython's TracebackException)
    found = summary is not None
    for linked, cause in ((rendered.__cause__, error.__cause__), (rendered.__context__, error.__context__)):
        if linked is not None:
            found = _redact(linked, cause, seen) or found
    return found


def configure_logging(*, stage: str = "local", level: str = "INFO", stream: TextIO | None = None) -> None:
    """Route structlog and the standard library through one renderer, at `level` (Config.log_level)."""
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        add_request_ids,
    ]
    renderer = (
        structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty())
        if stage == "local"
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                redact_database_errors,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # connexion's validators log each refused value whole (INFO), and each path (DEBUG): the access line and the
    # problem already say what was refused, without repeating what the request carried.
    logging.getLogger("connexion.validators").setLevel(max(logging.WARNING, logging.getLevelName(level)))
    # uvicorn's own access log would be a second, poorer line per request: ours is exitus.access.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
