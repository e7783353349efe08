"""Domain exceptions and the one renderer that turns every error into RFC 9457 `application/problem+json`.

Handlers and the request scope raise; nothing builds an error response by hand. The renderer is registered on
Connexion's exception middleware, so it also formats what Connexion itself rejects (validation, security, routing)
before a request reaches Flask.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from http import HTTPStatus
from typing import Any

import jsonschema
import psycopg
import psycopg.errors
import sqlalchemy.exc
import yaml
from connexion.exceptions import OAuthProblem, OAuthScopeProblem, ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from exitus import metrics
from exitus.resources import SPEC_FILE

log = logging.getLogger("exitus.errors")

PROBLEM_JSON = "application/problem+json"
# Set per request by the request-id middleware, so every problem body can name the request it answers.
request_id_var: ContextVar[str | None] = ContextVar("exitus_request_id", default=None)


# A problem's `type` is this prefix + a stable slug (RFC 9457 §3.1.1: a URI reference, resolved against the request's
# URI), so a client can tell failures with one status apart without parsing English. The slugs, their titles and what
# a client should do are the spec's catalogue (`components.x-problem-types`); `GET /problems/<slug>` serves an entry.
PROBLEM_TYPE_PREFIX = "/problems/"


@functools.cache
def problem_types() -> dict[str, dict[str, Any]]:
    """The spec's catalogue: slug -> {title, status, description}."""
    spec = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    return spec["components"]["x-problem-types"]


class ExitusError(Exception):
    """A failure with an HTTP meaning. Subclasses fix the status and, for a failure a client should tell apart from
    others of that status, `problem_type` (a slug); `detail` says what happened to this request."""

    status = 500
    problem_type: str | None = None
    headers: Mapping[str, str] = {}

    def __init__(self, detail: str, *, headers: Mapping[str, str] | None = None, **extensions: Any):
        super().__init__(detail)
        self.detail = detail
        if headers:
            self.headers = dict(headers)
        self.extensions = extensions


class BadRequest(ExitusError):
    status = 400
    problem_type = "malformed-request"


class ValidationFailed(BadRequest):
    """A value breaks the schema; `errors` (an extension) lists each: `pointer` (body) or `parameter`, `message`."""

    problem_type = "validation"


class MalformedBody(BadRequest):
    problem_type = "malformed-body"


class Unauthorized(ExitusError):
    """The bearer token is missing or invalid; `reason` is a short machine-readable cause (for metrics)."""

    status = 401
    problem_type = "invalid-token"

    def __init__(self, detail: str, *, reason: str = "invalid_token"):
        super().__init__(detail, headers={"WWW-Authenticate": _bearer_challenge("invalid_token", detail)})
        self.reason = reason


class Forbidden(ExitusError):
    status = 403
    problem_type = "forbidden"


class TenantRequired(Forbidden):
    problem_type = "tenant-required"


class NotFound(ExitusError):
    status = 404
    problem_type = "not-found"


class Conflict(ExitusError):
    """A state conflict; raise one of the subclasses, which a client tells apart by `type`."""

    status = 409


class IllegalTransition(Conflict):
    """A move the issue workflow does not allow from the issue's state; `allowed` lists the states it allows."""

    problem_type = "illegal-transition"


class VersionConflict(Conflict):
    """The body's `version` is not the resource's current one: it was changed since the client read it. Raise with
    `current_version=` where the current version is known."""

    problem_type = "version-conflict"


class IdempotencyKeyInFlight(Conflict):
    """Another request with the same Idempotency-Key has not completed yet: retry after Retry-After."""

    problem_type = "idempotency-key-in-flight"

    def __init__(self, detail: str, *, retry_after: int = 1):
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class PreconditionFailed(ExitusError):
    """An `If-Match` names no current representation of the resource (RFC 9110 §13.1.1)."""

    status = 412
    problem_type = "precondition-failed"


class IdempotencyKeyReused(ExitusError):
    """The Idempotency-Key was first used with another request (another method, path, body or caller)."""

    status = 422
    problem_type = "idempotency-key-reused"


class DuplicateName(Conflict):
    problem_type = "duplicate-name"


class UnknownAssignee(Conflict):
    problem_type = "unknown-assignee"


class RequestTimeout(ExitusError):
    """The body did not arrive in time; the connection is closed, its unread rest cannot be told from a next request."""

    status = 408
    problem_type = "request-timeout"
    headers = {"Connection": "close"}


class PayloadTooLarge(ExitusError):
    status = 413
    problem_type = "payload-too-large"
    headers = {"Connection": "close"}  # the unread rest of the body is not read


class UnsupportedMediaType(ExitusError):
    status = 415
    problem_type = "unsupported-media-type"


class HeadersTooLarge(ExitusError):
    status = 431
    problem_type = "headers-too-large"
    headers = {"Connection": "close"}


class ServiceUnavailable(ExitusError):
    status = 503
    problem_type = "unavailable"

    def __init__(self, detail: str, *, retry_after: int = 1):
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class Overloaded(ServiceUnavailable):
    problem_type = "overloaded"


# Constraint names (migrations/) → what a violation means to the caller. Anything else stays a 500.
CONSTRAINT_ERRORS: dict[str, tuple[type[ExitusError], str]] = {
    "customers_name_key": (DuplicateName, "a customer with this name already exists"),
    "projects_name_key": (DuplicateName, "a project with this name already exists"),
    "issues_project_fkey": (NotFound, "project not found"),
    # Schema-valid, but not (yet) a user of the caller's customer: users appear with their first request, so the
    # client can resolve this state conflict and retry. Not 400 (the request is well-formed), not 404 (the target
    # exists), and the same answer whether or not another customer has such a user.
    "issues_assignee_fkey": (UnknownAssignee, "the assignee is not a user of this customer"),
    "comments_issue_fkey": (NotFound, "issue not found"),
    "issue_votes_issue_fkey": (NotFound, "issue not found"),
    # The workflow's trigger (migrations/0006), beneath the queries that check a move before making it.
    "issues_state_transition": (IllegalTransition, "the issue workflow does not allow this move"),
}
# CHECK constraints hold the limits the spec declares for what clients write (migrations/ 0001 and 0004): validation
# rejects such values first, so a violation means a value got past it, and is still the client's error. (Those of
# `users` are not here: their values come from tokens, trimmed to fit, and a violation there is a bug.)
_CHECKED_COLUMNS = {
    "customers": ("name", "description", "labels"),
    "projects": ("name", "description", "labels"),
    "issues": ("subject", "content", "severity", "category", "labels", "state"),
    "comments": ("content",),
}
CONSTRAINT_ERRORS.update(
    {
        f"{table}_{column}_check": (ValidationFailed, f"the {column} is outside the limits the API declares")
        for table, columns in _CHECKED_COLUMNS.items()
        for column in columns
    }
)
CONSTRAINT_ERRORS.update(
    {
        f"{table}_label_length": (
            ValidationFailed,
            "a label is outside the limits the API declares (1 to 64 characters)",
        )
        for table in ("customers", "projects", "issues")
    }
)


MAX_VALIDATION_ERRORS = 20


def validation_errors(errors: Sequence[jsonschema.ValidationError], *, source: str) -> list[dict[str, str]]:
    """The `errors` extension of a validation problem: `source` "body" names each member by its JSON pointer
    (RFC 6901); otherwise `source` is the parameter's name. Messages quote values shortened, never whole."""
    listed = []
    for error in sorted(errors, key=lambda error: [str(part) for part in error.absolute_path])[:MAX_VALIDATION_ERRORS]:
        message = _tidy(error.message)[:200]
        if source == "body":
            pointer = "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in error.absolute_path)
            listed.append({"pointer": _tidy(pointer)[:200], "message": message})
        else:
            listed.append({"parameter": source, "message": message})
    return listed


def from_integrity_error(error: psycopg.errors.IntegrityError) -> ExitusError | None:
    """The domain error a constraint violation stands for, or None when it is a bug."""
    constraint = error.diag.constraint_name
    if constraint in CONSTRAINT_ERRORS:
        cls, detail = CONSTRAINT_ERRORS[constraint]
        return cls(detail)
    return None


def database_error_summary(error: BaseException) -> str | None:
    """What logs and traces may say of a database error: its class, SQLSTATE and the names of what it concerns,
    never its message, which quotes values (a failing row, a duplicate key, an input it could not parse: SQL
    parameters). None for anything else."""
    if isinstance(error, sqlalchemy.exc.DBAPIError) and isinstance(error.orig, psycopg.Error):
        return f"{type(error).__name__}: {database_error_summary(error.orig)}"
    if not isinstance(error, psycopg.Error):
        return None
    diag = error.diag
    names = {
        "sqlstate": error.sqlstate,
        "constraint": diag.constraint_name,
        "table": diag.table_name,
        "column": diag.column_name,
        "type": diag.datatype_name,
    }
    described = ", ".join(f"{key} {value}" for key, value in names.items() if value)
    return f"{type(error).__module__}.{type(error).__qualname__}" + (f" ({described})" if described else "")


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    problem_type: str | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> ConnexionResponse:
    known = problem_types().get(problem_type) if problem_type else None
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + problem_type if problem_type else "about:blank",
        "title": title or (known["title"] if known else _status_title(status)),
        "status": status,
    }
    if detail:
        body["detail"] = _tidy(detail)
    request_id = request_id_var.get()
    if request_id:
        body["request_id"] = request_id
    if extensions:
        body.update(extensions)
    return ConnexionResponse(
        status_code=status,
        mimetype=PROBLEM_JSON,
        content_type=PROBLEM_JSON,
        body=json.dumps(body),
        headers=dict(headers or {}),
    )


async def render_exitus_error(_request: ConnexionRequest, exc: ExitusError) -> ConnexionResponse:
    if isinstance(exc, Unauthorized):
        metrics.AUTH_OUTCOMES.labels(outcome="rejected", reason=exc.reason).inc()
    if isinstance(exc, ServiceUnavailable):
        log.warning("request refused: %s", exc.detail)  # expected while draining or the database restarts
    elif exc.status >= 500:
        log.error("request failed: %s", exc.detail)
    return problem_response(
        exc.status, exc.detail, problem_type=exc.problem_type, headers=exc.headers, extensions=exc.extensions
    )


async def render_http_exception(
    request: ConnexionRequest, exc: HTTPException, *, routes: Sequence[Route] = ()
) -> ConnexionResponse:
    """What Connexion and Starlette reject before a handler runs: schema validation (400), security (401/403),
    media type (415), unknown routes (404), methods (405). Some of Connexion's are ProblemExceptions (with `ext`);
    its security errors are plain Starlette HTTPExceptions. `routes`: the spec's paths and their methods."""
    status = exc.status_code
    headers = dict(exc.headers or {})
    extensions = dict(getattr(exc, "ext", None) or {})
    detail = exc.detail if exc.detail != _status_title(status) else None
    problem_type = _REJECTION_TYPES.get(status)
    if isinstance(exc, OAuthScopeProblem):
        problem_type = "insufficient-scope"
        required = sorted(exc.required_scopes or [])
        detail = f"this operation needs the scope(s) {' '.join(required)}"
        extensions["required_scopes"] = required
        metrics.AUTH_OUTCOMES.labels(outcome="forbidden", reason="insufficient_scope").inc()
        headers["WWW-Authenticate"] = _bearer_challenge("insufficient_scope", detail, scope=" ".join(required))
    elif status == 405:
        headers["Allow"] = _allowed_methods(routes, request.url.path) or headers.get("Allow", "")
    elif status == 401:
        reason = "invalid_header"  # e.g. another scheme than Bearer
        if isinstance(exc, OAuthProblem) and "No authorization" in str(detail):
            detail, reason = "a bearer token is required", "missing"
        metrics.AUTH_OUTCOMES.labels(outcome="rejected", reason=reason).inc()
        headers.setdefault("WWW-Authenticate", _bearer_challenge(None, None))
    return problem_response(status, detail, problem_type=problem_type, headers=headers, extensions=extensions)


# What Connexion and Starlette reject, by status. A 401 here is a request without a bearer token (a token that is
# present is checked by exitus/auth.py, which raises Unauthorized); a 403 here lacks a scope.
_REJECTION_TYPES = {
    400: "validation",
    401: "missing-token",
    403: "insufficient-scope",
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
    415: "unsupported-media-type",
}


async def render_database_error(
    _request: ConnexionRequest, exc: psycopg.Error | sqlalchemy.exc.SQLAlchemyError
) -> ConnexionResponse:
    """Pool exhaustion (SQLAlchemy's pool) and lost connections are transient: 503 with Retry-After, never a stack
    trace."""
    if isinstance(exc, psycopg.DataError):
        # The spec should have rejected it (a NUL byte, say); a bad value is never a 500.
        return problem_response(400, "a value in the request is not acceptable", problem_type="validation")
    if isinstance(exc, sqlalchemy.exc.TimeoutError | psycopg.OperationalError):
        log.warning("database unavailable: %s", type(exc).__name__)
        return problem_response(
            503,
            "the database is unavailable, try again shortly",
            problem_type="unavailable",
            headers={"Retry-After": "1"},
        )
    return await render_unexpected(_request, exc)


async def render_undecodable_body(_request: ConnexionRequest, _exc: UnicodeDecodeError) -> ConnexionResponse:
    """Connexion decodes JSON bodies before validating them; bytes that are not UTF-8 are the client's error."""
    return problem_response(400, "the request body is not valid UTF-8", problem_type="malformed-body")


async def render_unexpected(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    log.error("unhandled error", exc_info=exc)
    return problem_response(500, "an unexpected error occurred; it has been logged", problem_type="internal-error")


def register_error_handlers(app, spec: Mapping[str, Any]) -> None:
    """`spec`: the spec as served, for the `Allow` header of a 405."""
    routes = spec_routes(spec)

    async def render_rejection(request: ConnexionRequest, exc: HTTPException) -> ConnexionResponse:
        return await render_http_exception(request, exc, routes=routes)

    app.add_error_handler(ExitusError, render_exitus_error)
    app.add_error_handler(ProblemException, render_rejection)  # replaces Connexion's own for this class
    app.add_error_handler(HTTPException, render_rejection)
    app.add_error_handler(psycopg.Error, render_database_error)
    app.add_error_handler(sqlalchemy.exc.SQLAlchemyError, render_database_error)
    app.add_error_handler(UnicodeDecodeError, render_undecodable_body)
    app.add_error_handler(Exception, render_unexpected)


Route = tuple[re.Pattern[str], str]  # a spec path as a pattern, and the methods it allows


def spec_routes(spec: Mapping[str, Any]) -> list[Route]:
    routes = []
    for path, item in spec["paths"].items():
        methods = [method.upper() for method in item if method in _HTTP_METHODS]
        if "GET" in methods:
            methods.append("HEAD")  # Starlette answers HEAD wherever GET is routed
        routes.append((re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path)) + "$"), ", ".join(methods)))
    return routes


def _allowed_methods(routes: Sequence[Route], path: str) -> str | None:
    """The `Allow` header of a 405: Starlette routes each operation of a path separately and its 405 names only the
    first one's method, so the spec says which methods the path has (RFC 9110: all of them)."""
    return next((methods for pattern, methods in routes if pattern.match(path)), None)


_HTTP_METHODS = ("get", "put", "post", "delete", "patch")


def _status_title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


_LONG_QUOTED = re.compile(r"'([^']{0,40})[^']{20,}'")
MAX_DETAIL = 500
_SCHEMA_ECHO = "\n\nFailed validating "
_LONG_RUN = re.compile(r"([^\s'\"]{40})[^\s'\"]{20,}")


def _tidy(detail: str) -> str:
    """Validation messages quote the offending value whole: shorten long quotes so a detail never echoes a payload
    (a token put where it does not belong, say). Parameters' messages go on to quote the schema and the value again
    ("Failed validating ... On instance: ..."), where quotes inside the schema's patterns pair up wrongly: that part
    is dropped, and any long unbroken run left is shortened too."""
    detail = str(detail).split(_SCHEMA_ECHO, 1)[0]
    detail = elide_long_runs(_LONG_QUOTED.sub(lambda m: f"'{m.group(1)}…'", detail))
    return detail if len(detail) <= MAX_DETAIL else detail[: MAX_DETAIL - 1] + "…"


def elide_long_runs(text: str) -> str:
    """`text` with each run of 60 or more characters without a space or quote cut to its first 40: what a request
    carried (a token where it does not belong, say) is never repeated whole, in a problem or a log line."""
    return _LONG_RUN.sub(lambda m: f"{m.group(1)}…", text)


def _bearer_challenge(error: str | None, description: str | None, *, scope: str | None = None) -> str:
    """An RFC 6750 challenge: `Bearer realm="exitus", error="...", error_description="..."`."""
    parts = ['realm="exitus"']
    if error:
        parts.append(f'error="{error}"')
    if description:
        parts.append('error_description="{}"'.format(description.replace('"', "'").replace("\\", "/")[:200]))
    if scope:
        parts.append(f'scope="{scope}"')
    return "Bearer " + ", ".join(parts)
