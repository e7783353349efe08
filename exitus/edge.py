"""The edge: the outermost layer of ours, around Connexion's routing, security and validation (exitus.app installs
it), so it sees every request and every answer, Connexion's rejections included. See EdgeMiddleware."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any

import structlog
from connexion.lifecycle import ConnexionResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exitus import lifecycle, metrics
from exitus.errors import PayloadTooLarge, problem_response, request_id_var
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


class EdgeMiddleware:
    """The outermost layer of ours, before Connexion's routing, security and validation, so it sees every request
    and every answer, rejections included. Per request it:

    - gives it an id (an incoming sane X-Request-ID, or a new one) that problem bodies and log lines carry and the
      response echoes, and adds the security headers;
    - answers 503 with Retry-After beyond MAX_CONCURRENCY requests in flight (uvicorn's own limit answers bare
      text and counts idle keep-alive connections too), and asks clients to close their connections while the
      process shuts down, so their next request goes to another instance;
    - rejects what must not reach routing (control characters in the path) and bodies over MAX_BODY_BYTES (413,
      from Content-Length before reading, or once the bytes received exceed it);
    - counts and times it by route template (never the raw path) and writes one access log line.
    """

    def __init__(self, app: ASGIApp, *, routes: Mapping[str, str], max_body_bytes: int, max_in_flight: int):
        self.app = app
        self.routes = routes  # operationId -> path template
        self.max_body_bytes = max_body_bytes
        self.max_in_flight = max_in_flight
        self.in_flight = 0  # one event loop per process: no lock needed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        id_token = request_id_var.set(request_id)
        facts_token = request_facts.set(RequestFacts())
        scope.setdefault("extensions", {})  # shared with Connexion's routing, which notes the operation there
        status = 500  # what the client gets if we fail before a response starts
        recorded = False
        metrics.HTTP_REQUESTS_IN_FLIGHT.inc()

        def record() -> None:
            nonlocal recorded
            if not recorded:
                recorded = True
                metrics.HTTP_REQUESTS_IN_FLIGHT.dec()
                self._record(scope, status, time.perf_counter() - started)

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

        self.in_flight += 1
        try:
            if self.in_flight > self.max_in_flight:
                detail = "the server is at its concurrency limit, try again shortly"
                await _send_problem(send_with_id, problem_response(503, detail, headers={"Retry-After": "1"}))
                return
            if _has_control_characters(scope.get("path", "")):
                # Connexion's and Flask's routers disagree on such paths; answer before either sees it.
                await _send_problem(send_with_id, problem_response(400, "the path contains control characters"))
                return
            declared = _content_length(scope)
            if declared is not None and declared > self.max_body_bytes:
                await _send_problem(send_with_id, problem_response(413, self._too_large()))
                return
            if declared is None and _header(scope, b"transfer-encoding"):
                # Connexion reads a body only when its length is declared: read a chunked one here, within the
                # limit, and pass it on with its length.
                body = await self._read_bounded(receive)
                if body is None:
                    await _send_problem(send_with_id, problem_response(413, self._too_large()))
                    return
                scope, receive = _with_body(scope, body, receive)
            await self.app(scope, self._bounded(receive), send_with_id)
        finally:
            self.in_flight -= 1
            record()  # the client went away, or an error escaped before the response ended
            request_facts.reset(facts_token)
            request_id_var.reset(id_token)

    def _too_large(self) -> str:
        return f"the request body is larger than {self.max_body_bytes} bytes"

    async def _read_bounded(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it outgrows the limit (the rest is never read)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)  # the client went away; what follows will notice
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _bounded(self, receive: Receive) -> Receive:
        """`receive`, failing with 413 once the body outgrows the limit (a chunked body declares no length)."""
        received = 0

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise PayloadTooLarge(self._too_large())
            return message

        return bounded_receive

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope.get("method", "")
        route = self._route(scope)
        group = _route_group(route)
        metrics.HTTP_REQUESTS.labels(method=method, route=route, status=str(status), group=group).inc()
        metrics.HTTP_REQUEST_DURATION.labels(method=method, route=route, group=group).observe(seconds)
        access_log.log(
            logging.WARNING if status >= 500 else logging.INFO,
            "request",
            method=method,
            route=route,
            path=scope.get("path", ""),
            status=status,
            duration_ms=round(seconds * 1000, 3),
        )

    def _route(self, scope: Scope) -> str:
        """The route template of the operation Connexion matched, or a fixed name for what is not an operation."""
        operation_id = scope["extensions"].get("connexion_routing", {}).get("operation_id")
        if operation_id in self.routes:
            return self.routes[operation_id]
        path = scope.get("path", "")
        if path in ("/metrics", "/openapi.json", "/openapi.yaml"):
            return path
        if path == "/ui" or path.startswith("/ui/"):
            return "/ui"
        return "unmatched"  # a 404 or 405: the raw path would let any client add label values


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


def _with_body(scope: Scope, body: bytes, receive: Receive) -> tuple[Scope, Receive]:
    """The request as if it had declared its length: the scope says Content-Length, `receive` replays the body
    and then waits on the connection as before (for the disconnect)."""
    headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"transfer-encoding"]
    headers.append((b"content-length", str(len(body)).encode()))
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return {**scope, "headers": headers}, replay


def _has_control_characters(path: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in path)


async def _send_problem(send: Send, response: ConnexionResponse) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": [
                (b"content-type", response.content_type.encode()),
                (b"content-length", str(len(response.body)).encode()),
                *((name.lower().encode(), value.encode()) for name, value in response.headers.items()),
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
