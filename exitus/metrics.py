"""Prometheus metrics: what an operator reads to see what is failing, for whom, since when.

Every metric is defined here, once, so names and help texts are reviewed in one place (and `promtool check metrics`
checks them in tests). HTTP requests are measured at the ASGI edge (exitus.edge.EdgeMiddleware), not with Flask hooks:
Connexion answers 400/401/403/404 before Flask sees a request, and those answers must be counted too, exactly once.

Several uvicorn workers give one view through prometheus_client's multiprocess mode: when PROMETHEUS_MULTIPROC_DIR
is set (exitus serve sets it for more than one worker) every process writes its samples there and a scrape merges
them. Gauges say how they merge (`multiprocess_mode`).
"""

from __future__ import annotations

import os

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    multiprocess,
    start_http_server,
)
from prometheus_flask_exporter import PrometheusMetrics

disable_created_metrics()  # the *_created series double a scrape's size for little use

# Request latency buckets (seconds): an API answering from PostgreSQL, 1 ms to 10 s.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
QUERY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)

HTTP_REQUESTS = Counter(
    "exitus_http_requests_total",
    "HTTP requests answered, by method, route template, status code and route group "
    "(api, probe for /healthz and /readyz, meta for metrics and docs).",
    ["method", "route", "status", "group"],
)
HTTP_REQUEST_DURATION = Histogram(
    "exitus_http_request_duration_seconds",
    "Time from receiving a request to sending the last byte of its response, by method, route template and group.",
    ["method", "route", "group"],
    buckets=LATENCY_BUCKETS,
)
HTTP_REQUESTS_IN_FLIGHT = Gauge(
    "exitus_http_requests_in_flight",
    "Requests being served now.",
    multiprocess_mode="livesum",
)

DB_POOL_SIZE = Gauge(
    "exitus_db_pool_size",
    "Connections the database pool may hold (DB_POOL_SIZE), summed over live processes.",
    multiprocess_mode="livesum",
)
DB_POOL_IN_USE = Gauge(
    "exitus_db_pool_connections_in_use",
    "Pooled database connections checked out by requests now.",
    multiprocess_mode="livesum",
)
DB_POOL_WAITING = Gauge(
    "exitus_db_pool_waiting",
    "Requests waiting for a pooled database connection now.",
    multiprocess_mode="livesum",
)
DB_CONNECTION_ERRORS = Counter(
    "exitus_db_connection_errors_total",
    "Failures to get a database connection, by kind (pool_timeout: the pool stayed exhausted for DB_POOL_TIMEOUT; "
    "connect: PostgreSQL refused or could not be reached; disconnect: a connection broke while in use).",
    ["kind"],
)
DB_QUERY_DURATION = Histogram(
    "exitus_db_query_duration_seconds",
    "Time to run one named query (queries/*.sql), by query name and outcome (ok or error).",
    ["query", "outcome"],
    buckets=QUERY_BUCKETS,
)

AUTH_OUTCOMES = Counter(
    "exitus_auth_outcomes_total",
    "Bearer token checks, by outcome (accepted, rejected: 401, forbidden: 403) and reason "
    "(missing, expired, bad_signature, wrong_audience, wrong_issuer, unknown_key, insufficient_scope, ...).",
    ["outcome", "reason"],
)
AUTH_TOKEN_CACHE = Counter(
    "exitus_auth_token_cache_total",
    "Bearer tokens found already verified in this process (hit: no signature check) or checked in full (miss).",
    ["outcome"],
)
JWKS_REFRESHES = Counter(
    "exitus_jwks_refreshes_total",
    "Fetches of the OpenID provider's signing keys, by outcome (ok, error). On error the cached keys stay in use.",
    ["outcome"],
)

ISSUES_CREATED = Counter("exitus_issues_created_total", "Issues created (counted after their transaction commits).")
ISSUE_STATE_CHANGES = Counter(
    "exitus_issue_state_changes_total",
    "Issues moved to another state, by the new state (counted after their transaction commits).",
    ["state"],
)
COMMENTS_CREATED = Counter(
    "exitus_comments_created_total", "Comments created (counted after their transaction commits)."
)

BUILD_INFO = Gauge(
    "exitus_build_info",
    "Always 1; the labels say which exitus runs where: version, stage and branch.",
    ["version", "stage", "branch"],
    multiprocess_mode="max",
)


def serve_metrics(flask_app, *, version: str, stage: str, branch: str, on_app: bool = True) -> None:
    """/metrics on the Flask app, by prometheus-flask-exporter (it merges the workers' samples in multiprocess mode),
    unless METRICS_ADDR gives it a listener of its own (`start_metrics_listener`).

    The exporter's own per-request metrics stay off (`export_defaults=False`): Flask hooks miss Connexion's
    rejections, so requests are measured at the ASGI edge instead."""
    BUILD_INFO.labels(version=version, stage=stage, branch=branch).set(1)
    if on_app:
        PrometheusMetrics(flask_app, path="/metrics", export_defaults=False)


def start_metrics_listener(address: str) -> None:
    """/metrics on its own `host:port`, in a thread of this process; with several workers, this is the supervisor,
    and the scrape merges the workers' samples from PROMETHEUS_MULTIPROC_DIR."""
    host, _, port = address.rpartition(":")
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    start_http_server(int(port), addr=host, registry=registry)
