"""Tracing: one trace per request, server span (route template) > Flask handler span > a span per named query;
an incoming W3C traceparent continues the caller's trace; rejections get a server span too; OTLP export only when
the OTEL_* variables ask, and the access log line carries the exported span's ids.

In-process tests record spans with the SDK's in-memory exporter on the process's one tracer provider (OpenTelemetry
allows one per process: the processor is added once for this module and shut down after it). Two tests run
`exitus serve` as a real process: one exporting OTLP/HTTP to a receiver of the test's own, one with no OTEL_*
variable at all.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from bench.stack import ExitusProcess, exitus_env
from exitus import __version__
from exitus.app import create_app
from exitus.config import Config
from exitus.edge import EdgeMiddleware
from exitus.tracing import (
    ServerSpanMiddleware,
    TracingConfigError,
    add_span_processor,
    build_tracer_provider,
    configure_tracing,
    service_resource,
    span_exporter_from_env,
)
from tests.conftest import RunningServer, Tenant
from tests.faults.conftest import command_prefix

SPAN_WAIT_SECONDS = 10


def status_code(attributes: Any) -> int | None:
    """The HTTP status of a server span, under the stable or the older semantic-convention name."""
    return attributes.get("http.response.status_code", attributes.get("http.status_code"))


# --- in-process: in-memory exporter -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recorded(config: Config) -> Iterator[InMemorySpanExporter]:
    assert isinstance(configure_tracing(config), TracerProvider)
    exporter = InMemorySpanExporter()
    add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()  # the provider keeps the processor; a shut-down exporter drops what it is given


@pytest.fixture(scope="module")
def traced(config: Config, recorded: InMemorySpanExporter) -> Iterator[httpx.Client]:
    """A server of this module's own, built by create_app like every other."""
    server = RunningServer(create_app(config)).start()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client
    server.stop()


def wait_for_spans(
    recorded: InMemorySpanExporter, expected: set[tuple[SpanKind, str]], trace_id: int | None = None
) -> list[ReadableSpan]:
    """The recorded spans (of one trace, if given) once spans of these (kind, name) are among them: spans end just
    after the response is sent, so the client may see the response first."""
    deadline = time.monotonic() + SPAN_WAIT_SECONDS
    while True:
        spans = [s for s in recorded.get_finished_spans() if trace_id is None or s.context.trace_id == trace_id]
        if expected <= {(s.kind, s.name) for s in spans}:
            return spans
        if time.monotonic() > deadline:
            raise AssertionError(f"spans not recorded in time: {[(s.kind, s.name) for s in spans]}")
        time.sleep(0.02)


def server_span(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    matching = [s for s in spans if s.kind == SpanKind.SERVER and s.name == name]
    assert len(matching) == 1, [(s.name, s.kind) for s in spans]
    return matching[0]


def new_traceparent() -> tuple[int, int, str]:
    trace_id, parent_id = secrets.randbits(128) or 1, secrets.randbits(64) or 1
    return trace_id, parent_id, f"00-{trace_id:032x}-{parent_id:016x}-01"


def test_a_request_is_one_trace_server_then_flask_then_named_queries(traced, recorded, tenant: Tenant):
    project = tenant.create_project()
    recorded.clear()

    response = traced.get(f"/v1/projects/{project['id']}", headers={"Authorization": f"Bearer {tenant.token()}"})

    assert response.status_code == 200, response.text
    # The customer binding travels with BEGIN (exitus/db.py), not as a named query of its own.
    queries = {"upsert_user", "get_project"}

    server_name = "GET /v1/projects/{id}"
    server = server_span(wait_for_spans(recorded, {(SpanKind.SERVER, server_name)}), server_name)
    expected = {(SpanKind.INTERNAL, "GET /v1/projects/<id>"), *((SpanKind.CLIENT, q) for q in queries)}
    spans = wait_for_spans(recorded, expected, server.context.trace_id)
    assert server.parent is None
    assert server.attributes["http.route"] == "/v1/projects/{id}"
    assert status_code(server.attributes) == 200
    (flask,) = [s for s in spans if s.name == "GET /v1/projects/<id>"]
    assert flask.kind == SpanKind.INTERNAL
    assert flask.parent.span_id == server.context.span_id
    assert status_code(flask.attributes) == 200  # Flask's wsgi_app wrapper is reached through a2wsgi
    by_name = {s.name: s for s in spans}
    for name in queries:
        query = by_name[name]
        assert query.kind == SpanKind.CLIENT
        assert query.parent.span_id == flask.context.span_id
        assert query.attributes["db.operation.name"] == name
        assert query.attributes["db.system.name"] == "postgresql"
    assert project["id"] not in " ".join(s.name for s in spans)  # no raw ids in span names


def test_a_failing_named_query_has_an_error_span(traced, recorded, tenant: Tenant):
    project = tenant.create_project()
    trace_id, _parent_id, traceparent = new_traceparent()
    issue = {"subject": "s", "content": "c", "severity": "low", "category": "bug", "labels": []}
    response = traced.post(
        f"/v1/projects/{project['id']}/issues",
        json={**issue, "assignee": str(uuid.uuid4())},  # not a user: the insert violates issues_assignee_fkey
        headers={"Authorization": f"Bearer {tenant.token()}", "traceparent": traceparent},
    )
    assert response.status_code == 409, response.text
    spans = wait_for_spans(recorded, {(SpanKind.CLIENT, "create_issue")}, trace_id)
    (query,) = [s for s in spans if s.name == "create_issue"]
    assert query.status.status_code == StatusCode.ERROR
    assert [event.name for event in query.events] == ["exception"]
    assert query.events[0].attributes["exception.type"].endswith("ForeignKeyViolation")


def test_an_incoming_traceparent_continues_the_callers_trace(traced, recorded, tenant: Tenant):
    trace_id, parent_id, traceparent = new_traceparent()

    response = traced.get(
        "/v1/projects", headers={"Authorization": f"Bearer {tenant.token()}", "traceparent": traceparent}
    )

    assert response.status_code == 200, response.text
    name = "GET /v1/projects"
    expected = {(SpanKind.SERVER, name), (SpanKind.INTERNAL, name), (SpanKind.CLIENT, "list_projects")}
    spans = wait_for_spans(recorded, expected, trace_id)
    server = server_span(spans, name)
    assert server.parent.span_id == parent_id
    assert server.parent.is_remote
    assert all(s.context.trace_id == trace_id for s in spans)
    (flask,) = [s for s in spans if s.kind == SpanKind.INTERNAL]
    assert flask.parent.span_id == server.context.span_id


@pytest.mark.parametrize(
    ("method", "path", "body", "with_token", "name", "status"),
    [
        ("GET", f"/v1/projects/{uuid.uuid4()}", None, False, "GET /v1/projects/{id}", 401),  # security rejects
        ("POST", "/v1/projects", {"name": 5, "labels": []}, True, "POST /v1/projects", 400),  # validation rejects
    ],
    ids=["security", "validation"],  # stable ids: the path holds a fresh uuid
)
def test_rejected_requests_get_a_server_span(traced, recorded, tenant, method, path, body, with_token, name, status):
    trace_id, _parent, traceparent = new_traceparent()
    headers = {"traceparent": traceparent, **({"Authorization": f"Bearer {tenant.token()}"} if with_token else {})}

    response = traced.request(method, path, json=body, headers=headers)

    assert response.status_code == status, response.text
    spans = wait_for_spans(recorded, {(SpanKind.SERVER, name)}, trace_id)
    server = server_span(spans, name)
    assert status_code(server.attributes) == status
    assert [s for s in spans if s.kind != SpanKind.SERVER] == []  # rejected before Flask: no handler, no query


def test_a_path_no_route_matches_names_its_spans_by_method_alone(traced, recorded):
    """Connexion hands an unmatched path to Flask (404); neither span may be named after the raw path, which any
    client can vary without end."""
    trace_id, _parent, traceparent = new_traceparent()

    response = traced.get("/v1/no/such/route/123", headers={"traceparent": traceparent})

    assert response.status_code == 404, response.text
    spans = wait_for_spans(recorded, {(SpanKind.SERVER, "GET"), (SpanKind.INTERNAL, "GET")}, trace_id)
    assert sorted(s.name for s in spans) == ["GET", "GET"]
    assert status_code(server_span(spans, "GET").attributes) == 404
    assert "http.route" not in server_span(spans, "GET").attributes


def test_a_method_http_does_not_define_is_named_http(traced, recorded):
    trace_id, _parent, traceparent = new_traceparent()

    response = traced.request("PROPFIND", "/v1/projects", headers={"traceparent": traceparent})

    assert response.status_code >= 400
    spans = wait_for_spans(recorded, {(SpanKind.SERVER, "HTTP")}, trace_id)
    assert {s.name for s in spans} == {"HTTP"}


def test_the_server_span_is_outside_the_edge_middleware(config: Config):
    """EdgeMiddleware logs the current span's ids, so the server span must already be current around it."""
    app = create_app(config)
    app.database.close()
    middlewares = [getattr(m, "func", m) for m in app.middleware.middlewares]
    assert middlewares.index(ServerSpanMiddleware) < middlewares.index(EdgeMiddleware)


def test_configure_tracing_sets_one_provider_per_process(config: Config, recorded):
    provider = configure_tracing(config)
    assert provider is trace.get_tracer_provider()
    assert configure_tracing(config) is provider


# --- what the OTEL_* variables choose -----------------------------------------------------------------------------


def test_no_variable_means_no_exporter():
    assert span_exporter_from_env({}) is None


@pytest.mark.parametrize(
    "env",
    [
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
        {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"},
        {"OTEL_TRACES_EXPORTER": "otlp"},
        {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
    ],
)
def test_otlp_over_http_when_asked(env):
    assert isinstance(span_exporter_from_env(env), OTLPSpanExporter)


def test_exporter_none_wins_over_an_endpoint():
    assert (
        span_exporter_from_env({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}) is None
    )


@pytest.mark.parametrize(
    "env",
    [
        {"OTEL_TRACES_EXPORTER": "zipkin"},
        {"OTEL_TRACES_EXPORTER": "otlp,console"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"},
    ],
)
def test_what_cannot_be_exported_is_refused_by_name(env):
    with pytest.raises(TracingConfigError, match=r"OTEL_TRACES_EXPORTER|protocol"):
        span_exporter_from_env(env)


def exporting_processors(provider: TracerProvider) -> list[str]:
    return [type(p).__name__ for p in provider._active_span_processor._span_processors]


def test_a_provider_exports_in_batches_when_asked(config: Config):
    provider = build_tracer_provider(config, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
    try:
        assert exporting_processors(provider) == ["BatchSpanProcessor"]
    finally:
        provider.shutdown()


def test_an_exporter_that_cannot_be_had_is_one_warning_and_spans_go_on(config: Config, caplog):
    provider = build_tracer_provider(config, {"OTEL_TRACES_EXPORTER": "zipkin"})
    assert exporting_processors(provider) == []
    (record,) = [r for r in caplog.records if r.name == "exitus.tracing"]
    assert record.levelname == "WARNING"
    assert "zipkin" in record.getMessage()


def test_otel_sdk_disabled_means_no_provider(config: Config):
    assert build_tracer_provider(config, {"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}) is None


def test_the_resource_names_service_version_stage_and_branch():
    attributes = service_resource(
        Config(database_url="postgresql+psycopg:///x", stage="prod", branch="rel-1")
    ).attributes
    assert attributes["service.name"] == "exitus"
    assert attributes["service.version"] == __version__
    assert attributes["deployment.environment.name"] == "prod"
    assert attributes["vcs.ref.head.name"] == "rel-1"


def test_otel_service_name_and_resource_attributes_win(monkeypatch):
    monkeypatch.setenv("OTEL_SERVICE_NAME", "exitus-canary")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=prod-eu,team=issues")
    attributes = service_resource(Config(database_url="postgresql+psycopg:///x", stage="prod")).attributes
    assert attributes["service.name"] == "exitus-canary"
    assert attributes["deployment.environment.name"] == "prod-eu"
    assert attributes["team"] == "issues"


# --- `exitus serve` as a process ----------------------------------------------------------------------------------


class OtlpReceiver:
    """An OTLP/HTTP trace receiver on loopback: POST /v1/traces, protobuf, as a collector takes it."""

    def __init__(self) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces" or self.headers.get("Content-Type") != "application/x-protobuf":
                    self.send_error(404)
                    return
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                with receiver.lock:
                    receiver.requests.append(request)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def spans(self) -> list[tuple[dict[str, Any], Any]]:
        """(resource attributes, span) for every span received."""
        with self.lock:
            requests = list(self.requests)
        return [
            ({kv.key: kv.value.string_value for kv in resource_spans.resource.attributes}, span)
            for request in requests
            for resource_spans in request.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    otlp = OtlpReceiver()
    otlp.thread.start()
    yield otlp
    otlp.server.shutdown()
    otlp.server.server_close()


@pytest.fixture
def run_exitus(database_url: str, issuer, tmp_path: Path) -> Iterator[Callable[..., ExitusProcess]]:
    started: list[ExitusProcess] = []

    def start(**settings: str) -> ExitusProcess:
        env = exitus_env(database_url, issuer.url, SHUTDOWN_DRAIN_SECONDS=0, **settings)
        process = ExitusProcess(env, tmp_path / f"exitus-{len(started)}.log", command_prefix=command_prefix())
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.kill()


def json_lines(output: str) -> list[dict[str, Any]]:
    lines = []
    for line in output.splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict):
                lines.append(record)
    return lines


def access_line(output: str, request_id: str) -> dict[str, Any]:
    lines = [
        r
        for r in json_lines(output)
        if r.get("logger") == "exitus.access" and r.get("event") == "request" and r.get("request_id") == request_id
    ]
    assert len(lines) == 1, output
    return lines[0]


def test_exitus_serve_exports_otlp_and_logs_the_same_trace_id(run_exitus, receiver, tenant: Tenant):
    project = tenant.create_project()
    exitus = run_exitus(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, OTEL_BSP_SCHEDULE_DELAY=50, BRANCH="feature-x")
    request_id = uuid.uuid4().hex
    response = httpx.get(
        f"{exitus.url}/v1/projects/{project['id']}",
        headers={"Authorization": f"Bearer {tenant.token()}", "X-Request-ID": request_id},
        timeout=30,
    )
    assert response.status_code == 200, response.text

    deadline = time.monotonic() + SPAN_WAIT_SECONDS
    while True:
        received = receiver.spans()
        servers = [(r, s) for r, s in received if s.name == "GET /v1/projects/{id}"]
        names = {s.name for _, s in received}
        if servers and {"GET /v1/projects/<id>", "get_project"} <= names:
            break
        assert time.monotonic() < deadline, f"not exported in time: {sorted(names)}\n{exitus.output()}"
        time.sleep(0.05)
    assert exitus.stop() == 0

    (resource, server), *_ = servers
    assert resource["service.name"] == "exitus"
    assert resource["service.version"] == __version__
    assert resource["deployment.environment.name"] == "test"
    assert resource["vcs.ref.head.name"] == "feature-x"
    same_trace = {s.name: s for _, s in received if s.trace_id == server.trace_id}
    flask = same_trace["GET /v1/projects/<id>"]
    assert server.parent_span_id == b""
    assert flask.parent_span_id == server.span_id
    assert same_trace["get_project"].parent_span_id == flask.span_id

    logged = access_line(exitus.output(), request_id)
    assert logged["trace_id"] == server.trace_id.hex()
    assert logged["span_id"] == server.span_id.hex()


def test_exitus_serve_without_otel_variables_exports_nothing_and_says_nothing(run_exitus, tenant: Tenant):
    exitus = run_exitus()
    request_id = uuid.uuid4().hex
    response = httpx.get(
        f"{exitus.url}/v1/projects",
        headers={"Authorization": f"Bearer {tenant.token()}", "X-Request-ID": request_id},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert exitus.stop() == 0

    output = exitus.output()
    logged = access_line(output, request_id)
    assert int(logged["trace_id"], 16) != 0  # spans are still made: log lines carry their ids
    assert "opentelemetry" not in output.lower()
    assert "span batch" not in output.lower()  # what the OTLP exporter says when it cannot export
    assert not any(str(r.get("logger", "")).startswith("opentelemetry") for r in json_lines(output))
