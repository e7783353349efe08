"""The edge: the outermost layer of ours, around Connexion's routing, security and validation (exitus.app installs
it), so it sees every request and every answer, Connexion's rejections included (EdgeMiddleware); and the admission
of requests to the service's work once their token is accepted (AdmissionMiddleware). Beneath both, exitus serve
caps the request head while reading it (exitus.protocol)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote

import structlog
from connexion.lifecycle import ConnexionResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from werkzeug.http import parse_options_header

from exitus import lifecycle, metrics
from exitus.errors import (
    BadRequest,
    ExitusError,
    HeadersTooLarge,
    NotFound,
    Overloaded,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
    elide_long_runs,
    problem_response,
    request_id_var,
)
from exitus.logs import RequestFacts, request_facts

access_log = structlog.get_logger("exitus.access")
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
PROBE_ROUTES = {"/healthz", "/readyz"}
REQUEST_ID_HEADER = b"x-request-id"
# On every response, errors and rejections included (OWASP secure headers for APIs).
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
MAX_REQUEST_ID = 128
JSON = "application/json"
# RFC 3986 pchar without the unreserved characters (quote keeps those) and percent-encodings: a canonical path
# encodes nothing else, and everything else only one way (upper-case hex).
_PATH_SAFE = "/!$&'()*+,;=:@"
CLIENT_CLOSED = 499  # the status counted when the client went away before an answer (nginx's convention)


class EdgeMiddleware:
    """The outermost layer of ours, before Connexion's routing, security and validation, so it sees every request
    and every answer, rejections included. Per request it:

    - gives it an id (an incoming sane X-Request-ID, or a new one) that problem bodies and log lines carry and the
      response echoes, and adds the security headers; while the process shuts down it asks clients to close their
      connections, so their next request goes to another instance;
    - rejects what must not reach routing: a request head over MAX_HEADER_BYTES or MAX_HEADER_COUNT (431; `exitus
      serve` also caps it while reading: exitus.protocol), control characters in the path (400), any path
      that is not in its one canonical form (404, counted as unmatched: Connexion's and Flask's routers disagree
      on such paths, `//v1/customers` or `/%6detrics`), a JSON Content-Type in another charset than UTF-8 or a body
      without a Content-Type (415), a declared length over MAX_BODY_BYTES (413);
    - hands on a JSON Content-Type in one spelling, `application/json`, so Connexion's validation and Flask's parser
      read the body the same way;
    - counts and times it by route template (never the raw path) and writes one access log line.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Mapping[str, str],
        max_body_bytes: int,
        max_header_bytes: int,
        max_header_count: int,
    ):
        self.app = app
        self.routes = routes  # operationId -> path template
        self.max_body_bytes = max_body_bytes
        self.max_header_bytes = max_header_bytes
        self.max_header_count = max_header_count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        id_token = request_id_var.set(request_id)
        facts_token = request_facts.set(RequestFacts())
        scope.setdefault("extensions", {})  # shared with Connexion's routing, which notes the operation there
        status: int | None = None  # None until a response starts
        disconnected = False
        canonical = True
        recorded = False
        metrics.HTTP_REQUESTS_IN_FLIGHT.inc()

        def record() -> None:
            nonlocal recorded
            if not recorded:
                recorded = True
                metrics.HTTP_REQUESTS_IN_FLIGHT.dec()
                # No answer: the client went away first, or we failed before a response started (uvicorn sends 500).
                answered = status if status is not None else CLIENT_CLOSED if disconnected else 500
                route = self._route(scope) if canonical else "unmatched"
                record_request(scope.get("method", ""), route, answered, time.perf_counter() - started, scope)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != REQUEST_ID_HEADER]
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                headers.extend(SECURITY_HEADERS)
                if lifecycle.shutting_down():
                    headers.append((b"connection", b"close"))
                message = {**message, "headers": headers}
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                # Now, not when the app returns: a2wsgi returns a little later, and by then the client may have
                # sent its next request (a scrape must see the request it follows).
                record()

        async def observed_receive() -> Message:
            nonlocal disconnected
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnected = True
            return message

        try:
            canonical = _is_canonical_path(scope)
            rejection = self._rejection(scope, canonical)
            if rejection is not None:
                await send_problem(send_with_id, rejection)
                return
            await self.app(_with_json_content_type(scope), observed_receive, send_with_id)
        finally:
            record()  # the client went away, or an error escaped before the response ended
            request_facts.reset(facts_token)
            request_id_var.reset(id_token)

    def _rejection(self, scope: Scope, canonical: bool) -> ExitusError | None:
        """Why the request must be answered here, before routing, or None."""
        head = _head_problem(scope, self.max_header_bytes, self.max_header_count)
        if head is not None:
            return HeadersTooLarge(head)
        if _has_control_characters(scope.get("path", "")):
            return BadRequest("the path contains control characters")
        if not canonical:
            return NotFound("no such path (paths have one spelling: no empty or dot segments, no needless escapes)")
        media_problem = _content_type_problem(scope)
        if media_problem is not None:
            return media_problem
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            return PayloadTooLarge(too_large(self.max_body_bytes))
        return None

    def _route(self, scope: Scope) -> str:
        """The route template of the operation Connexion matched, or a fixed name for what is not an operation."""
        operation_id = _operation_id(scope)
        if operation_id in self.routes:
            return self.routes[operation_id]
        path = scope.get("path", "")
        if path in ("/metrics", "/openapi.json", "/openapi.yaml"):
            return path
        if path == "/ui" or path.startswith("/ui/"):
            return "/ui"
        return "unmatched"  # a 404 or 405: the raw path would let any client add label values


class AdmissionMiddleware:
    """Between Connexion's security and its validation: a request is admitted to the service's work (a thread, a
    database connection) only once its token is accepted and its whole body has arrived.

    - Probes (/healthz, /readyz) are always answered: they never count against MAX_CONCURRENCY.
    - A body is read here, before the request takes a place among the MAX_CONCURRENCY in flight, within
      BODY_READ_TIMEOUT_SECONDS (else 408) and MAX_BODY_BYTES (else 413). An operation's security has run by now,
      so a client without a valid token is answered 401 before a byte of its body is read, and no client holds a
      place while its body trickles in. A client that goes away while sending is forgotten at once.
    - Beyond MAX_CONCURRENCY requests in flight: 503 with Retry-After (uvicorn's own limit answers bare text and
      counts idle keep-alive connections too). Requests that match no operation (404s, /metrics) count as well.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Mapping[str, str],
        max_body_bytes: int,
        body_read_timeout_seconds: float,
        max_in_flight: int,
    ):
        self.app = app
        self.probes = {operation_id for operation_id, path in routes.items() if path in PROBE_ROUTES}
        self.max_body_bytes = max_body_bytes
        self.body_read_timeout_seconds = body_read_timeout_seconds
        self.max_in_flight = max_in_flight
        self.in_flight = 0  # one event loop per process: no lock needed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        operation_id = _operation_id(scope) if scope["type"] == "http" else None
        if scope["type"] != "http" or operation_id in self.probes:
            await self.app(scope, receive, send)
            return
        if operation_id is not None and _has_body(scope):
            body = await self._read_body(receive)
            if body is None:
                return  # the client went away: nobody to answer
            scope, receive = _with_body(scope, body, receive)
        if self.in_flight >= self.max_in_flight:
            raise Overloaded("the server is at its concurrency limit, try again shortly")
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body; None if the client went away first."""
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.body_read_timeout_seconds):
                while True:
                    message = await receive()
                    if message["type"] != "http.request":
                        return None
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_body_bytes:
                        raise PayloadTooLarge(too_large(self.max_body_bytes))  # the rest is never read
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            seconds = f"{self.body_read_timeout_seconds:g}"
            raise RequestTimeout(f"the request body did not arrive whole within {seconds} seconds") from None


def record_request(method: str, route: str, status: int, seconds: float, scope: Scope) -> None:
    group = _route_group(route)
    metrics.HTTP_REQUESTS.labels(method=method, route=route, status=str(status), group=group).inc()
    metrics.HTTP_REQUEST_DURATION.labels(method=method, route=route, group=group).observe(seconds)
    access_log.log(
        logging.WARNING if status >= 500 else logging.INFO,
        "request",
        method=method,
        route=route,
        path=elide_long_runs(scope.get("path", ""))[:200],
        status=status,
        duration_ms=round(seconds * 1000, 3),
    )


def too_large(limit: int) -> str:
    return f"the request body is larger than {limit} bytes"


def _route_group(route: str) -> str:
    if route in PROBE_ROUTES:
        return "probe"
    if route in ("/metrics", "/openapi.json", "/openapi.yaml", "/ui"):
        return "meta"
    return "api"


def operation_routes(spec: Mapping[str, Any]) -> dict[str, str]:
    """operationId -> path template, for labels and log lines."""
    return {
        operation["operationId"]: path
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS and "operationId" in operation
    }


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value
    return None


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    try:
        return None if value is None else int(value)
    except ValueError:
        return None  # the server rejects a malformed length before we run


def _operation_id(scope: Scope) -> str | None:
    return scope.get("extensions", {}).get("connexion_routing", {}).get("operation_id")


def _has_body(scope: Scope) -> bool:
    declared = _content_length(scope)
    return bool(declared) or (declared is None and _header(scope, b"transfer-encoding") is not None)


def _head_problem(scope: Scope, max_bytes: int, max_count: int) -> str | None:
    headers = scope.get("headers", [])
    if len(headers) > max_count:
        return f"the request has more than {max_count} header fields"
    size = len(scope.get("raw_path") or b"") + len(scope.get("query_string", b"")) + 16  # + method and version
    size += sum(len(name) + len(value) + 4 for name, value in headers)
    if size > max_bytes:
        return f"the request head is larger than {max_bytes} bytes"
    return None


def _is_canonical_path(scope: Scope) -> bool:
    """Whether the path is spelled the one way its routes are: absolute, no empty or dot segments, and nothing
    percent-encoded that needs no encoding (an unreserved character, a slash) or in lower-case hex."""
    raw = scope.get("raw_path")
    text = raw.decode("latin-1") if raw is not None else scope.get("path", "")
    if not text.startswith("/") or "//" in text:
        return False
    decoded = unquote(text, errors="replace")
    if any(segment in (".", "..") for segment in decoded.split("/")):
        return False
    return quote(decoded, safe=_PATH_SAFE) == text


def _content_type_problem(scope: Scope) -> ExitusError | None:
    """JSON is UTF-8 (RFC 8259): another declared charset would have Connexion validate one document while Flask
    parses another. Other media types are Connexion's to refuse (415 for an operation that takes JSON)."""
    values = [value for name, value in scope.get("headers", []) if name.lower() == b"content-type"]
    if not values:
        if _has_body(scope):
            return UnsupportedMediaType(f"a request body needs Content-Type: {JSON}")
        return None
    if len(values) > 1:
        return BadRequest("the request has more than one Content-Type")
    media_type, parameters = parse_options_header(values[0].decode("latin-1"))
    charset = parameters.get("charset")
    if media_type.lower() == JSON and charset is not None and charset.lower() != "utf-8":
        return UnsupportedMediaType(f"JSON bodies are UTF-8 (RFC 8259); charset {charset[:40]!r} is not accepted")
    return None


def _with_json_content_type(scope: Scope) -> Scope:
    """The scope with a JSON Content-Type spelled `application/json` (media types are case-insensitive; the charset
    is UTF-8 by now), so every parser downstream reads the body as the same JSON document."""
    headers = scope.get("headers", [])
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"content-type":
            if value == JSON.encode() or parse_options_header(value.decode("latin-1"))[0].lower() != JSON:
                return scope
            return {**scope, "headers": [*headers[:index], (b"content-type", JSON.encode()), *headers[index + 1 :]]}
    return scope


def _with_body(scope: Scope, body: bytes, receive: Receive) -> tuple[Scope, Receive]:
    """The request as if it had declared its length: the scope says Content-Length, `receive` replays the body
    and then waits on the connection as before (for the disconnect)."""
    headers = [(k, v) for k, v in scope["headers"] if k.lower() not in (b"transfer-encoding", b"content-length")]
    headers.append((b"content-length", str(len(body)).encode()))
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return {**scope, "headers": headers}, replay


def _has_control_characters(path: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in path)


async def send_problem(send: Send, error: ExitusError) -> None:
    """Answer with `error` from outside Connexion's exception middleware (the edge runs before it)."""
    response: ConnexionResponse = problem_response(
        error.status, error.detail, problem_type=error.problem_type, headers=error.headers, extensions=error.extensions
    )
    await send(
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": [
                (b"content-type", response.content_type.encode()),
                (b"content-length", str(len(response.body)).encode()),
                *(
                    (name.lower().encode(), value.encode())
                    for name, value in response.headers.items()
                    if name.lower() not in ("content-type", "content-length")
                ),
            ],
        }
    )
    await send({"type": "http.response.body", "body": response.body.encode()})


def _incoming_request_id(scope: Scope) -> str | None:
    value = _header(scope, REQUEST_ID_HEADER)
    if value is None:
        return None
    text = value.decode("latin-1")
    return text if 0 < len(text) <= MAX_REQUEST_ID and all(c.isalnum() or c in "-_.:" for c in text) else None
