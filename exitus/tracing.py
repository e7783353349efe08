"""Tracing: an OpenTelemetry span for every request, its Flask handler and its named queries (exitus.db).

Spans are always made (their ids go into the log lines) and exported only when the standard OTEL_* variables ask:
OTLP over HTTP/protobuf when `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, or when
`OTEL_TRACES_EXPORTER=otlp`; nothing, and nothing printed, when none is set (unlike the SDK's auto-configuration,
which would export to localhost:4318 and complain when no collector listens). `OTEL_SDK_DISABLED=true` turns tracing
off. The SDK itself reads the rest: the exporter's headers, timeout and compression, the batch processor's `OTEL_BSP_*`,
`OTEL_TRACES_SAMPLER`, `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` (which override the resource built here).

Layers, outermost first, so each span is the parent of the next:
- `ServerSpanMiddleware`, outside every other middleware (exitus.edge.EdgeMiddleware's access log reads its span ids
  from the current span): the SERVER span of every request, Connexion's rejections (400/401/403) included. It
  continues an incoming W3C `traceparent`. Named after the method alone until routing knows the operation;
- `RouteSpanNaming`, right after Connexion's routing: renames that span `METHOD /path/{template}`, the spec's path of
  the matched operation (never the raw path, whose ids would make every name unique), and sets `http.route`;
- the Flask instrumentation: an INTERNAL span around the handler, in a2wsgi's worker thread (a2wsgi copies the
  context into it, so the span is a child of the server span);
- exitus.db: a CLIENT span per named query.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from functools import partial
from typing import Any

import flask
from connexion import FlaskApp
from connexion.middleware.abstract import RoutedAPI, RoutedMiddleware
from connexion.middleware.main import MiddlewarePosition
from connexion.operations import AbstractOperation
from opentelemetry import trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.util.http import parse_excluded_urls, sanitize_method
from starlette.types import ASGIApp, Receive, Scope, Send

from exitus import __version__
from exitus.config import Config

log = logging.getLogger("exitus.tracing")
SERVICE_NAME = "exitus"
HTTP_ROUTE = "http.route"
# Scrapes every few seconds would drown the traces; the metrics endpoint is the only thing not traced.
UNTRACED_URLS = r"^[a-z]+://[^/]+/metrics(\?.*)?$"
OTLP_PROTOCOL = "http/protobuf"  # the one OTLP transport shipped (opentelemetry-exporter-otlp-proto-http)

_lock = threading.Lock()
_configured = False


class TracingConfigError(Exception):
    """An OTEL_* variable asks for something this service cannot do."""


def configure_tracing(config: Config, env: Mapping[str, str] | None = None) -> TracerProvider | None:
    """Sets the process's tracer provider, once: OpenTelemetry allows one per process, so later calls (and a
    provider someone else set, e.g. `opentelemetry-instrument`) win over a new one and are returned as they are.
    None when tracing is disabled: spans are then the API's no-ops."""
    global _configured
    with _lock:
        current = trace.get_tracer_provider()
        if _configured or isinstance(current, TracerProvider):
            _configured = True
            return current if isinstance(current, TracerProvider) else None
        _configured = True
        provider = build_tracer_provider(config, os.environ if env is None else env)
        if provider is not None:
            trace.set_tracer_provider(provider)
        return provider


def build_tracer_provider(config: Config, env: Mapping[str, str]) -> TracerProvider | None:
    """A provider for this service, exporting as the variables say; None when `OTEL_SDK_DISABLED=true`. An exporter
    asked for that cannot be built is one warning, and spans go on without export: telemetry must not stop the
    service."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    provider = TracerProvider(resource=service_resource(config))
    try:
        exporter = span_exporter_from_env(env)
    except TracingConfigError as error:
        log.warning("traces are not exported: %s", error)
        exporter = None
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def service_resource(config: Config) -> Resource:
    """service.name `exitus` with version, stage and branch; OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES win."""
    ours = {
        "service.name": SERVICE_NAME,
        "service.version": __version__,
        "deployment.environment.name": config.stage,
        "vcs.ref.head.name": config.branch,
    }
    return Resource.create({**ours, **OTELResourceDetector().detect().attributes})


def span_exporter_from_env(env: Mapping[str, str]) -> SpanExporter | None:
    """The exporter the standard variables choose, or None (the default: no variable set)."""
    names = [n.strip().lower() for n in env.get("OTEL_TRACES_EXPORTER", "").split(",") if n.strip()]
    endpoint_set = any(
        env.get(v, "").strip() for v in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )
    if not names:
        names = ["otlp"] if endpoint_set else []
    names = [n for n in names if n != "none"]
    if not names:
        return None
    unsupported = [n for n in names if n != "otlp"]
    if unsupported or len(names) > 1:
        raise TracingConfigError(f"OTEL_TRACES_EXPORTER={env['OTEL_TRACES_EXPORTER']!r}: only 'otlp' or 'none'")
    protocol = (env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "").strip()
    if protocol and protocol != OTLP_PROTOCOL:
        raise TracingConfigError(f"OTLP protocol {protocol!r}: only {OTLP_PROTOCOL!r} is supported")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # endpoint, headers, timeout, compression: from the same variables


def add_span_processor(processor: SpanProcessor) -> None:
    """Attach a span processor to the process's provider (tests: an in-memory exporter)."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        raise RuntimeError("tracing is not configured (configure_tracing) or is disabled (OTEL_SDK_DISABLED)")
    provider.add_span_processor(processor)


def instrument_app(app: FlaskApp, config: Config) -> None:
    """Trace every request of this app (and set up the process's tracing, if nothing did yet). Call last in
    create_app: the server span's middleware goes outside every middleware added before it."""
    configure_tracing(config)
    # Outermost: Connexion applies the list first to last, outside in. MiddlewarePosition can only insert before
    # one of Connexion's own middlewares, which would put it inside ours (EdgeMiddleware) when added after them.
    app.middleware.middlewares.insert(0, partial(ServerSpanMiddleware))
    app.add_middleware(RouteSpanNaming, position=MiddlewarePosition.BEFORE_SECURITY)
    _call_flask_per_request(app)
    FlaskInstrumentor.instrument_app(
        app.app, request_hook=_name_unrouted_flask_span, excluded_urls=UNTRACED_URLS, enable_commenter=False
    )


def _call_flask_per_request(app: FlaskApp) -> None:
    """Connexion's a2wsgi bridge holds Flask's bound `wsgi_app` as it was when the app was built, which would bypass
    the Flask instrumentation's wrapper of it (the response status on the Flask span). Unless a WSGI middleware
    (`add_wsgi_middleware`) already wraps it, the bridge calls the Flask app instead, which looks `wsgi_app` up on
    each request."""
    bridge = app._middleware_app.asgi_app  # a2wsgi.WSGIMiddleware
    if bridge.app == app.app.wsgi_app:
        bridge.app = app.app


def _name_unrouted_flask_span(span: trace.Span, _environ: Mapping[str, Any]) -> None:
    # Flask names a span it has no route for after the raw path; the method alone, as for the server span.
    if flask.request.url_rule is None and span.is_recording():
        span.update_name(flask.request.method)


def _method_only(scope: Scope) -> tuple[str, dict[str, Any]]:
    # The span name before routing, and for what no operation matches (404s): the method alone, per the HTTP
    # semantic conventions, never the raw path.
    method = sanitize_method(str(scope.get("method", "")).strip())  # "_OTHER" for methods HTTP does not define
    return ("HTTP" if method in ("_OTHER", "") else method), {}


class ServerSpanMiddleware(OpenTelemetryMiddleware):
    """The SERVER span of each request (see the module doc)."""

    def __init__(self, app: ASGIApp):
        super().__init__(
            app,
            default_span_details=_method_only,
            excluded_urls=parse_excluded_urls(UNTRACED_URLS),
            # One span per ASGI message sent or received would triple the spans and say nothing more.
            exclude_spans=["receive", "send"],
        )


class _NameSpanOperation:
    def __init__(self, method: str, route: str, next_app: ASGIApp):
        self.span_name = f"{method} {route}"
        self.route = route
        self.next_app = next_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        span = trace.get_current_span()
        if span.is_recording():
            span.update_name(self.span_name)
            span.set_attribute(HTTP_ROUTE, self.route)
        await self.next_app(scope, receive, send)


class _RouteSpanNamingAPI(RoutedAPI[_NameSpanOperation]):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.add_paths()

    def make_operation(self, operation: AbstractOperation) -> _NameSpanOperation:
        route = self.base_path.rstrip("/") + operation.path
        return _NameSpanOperation(operation.method.upper(), route, self.next_app)


class RouteSpanNaming(RoutedMiddleware[_RouteSpanNamingAPI]):
    """Names the server span after the operation Connexion routed the request to (see the module doc)."""

    api_cls = _RouteSpanNamingAPI
