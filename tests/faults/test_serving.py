"""The serving layer's limits and settings: the concurrency gate, the serving configuration, the metrics directory."""

from __future__ import annotations

import contextvars
import dataclasses
import logging
import os
import signal
import threading

import httpx
import pytest
import uvicorn

from bench.stack import new_customer, user_token
from exitus import lifecycle
from exitus.app import create_app
from exitus.config import Config, ConfigError
from exitus.errors import request_id_var
from exitus.logs import add_request_ids
from exitus.serve import DrainingServer, prepare_prometheus_dir
from tests.conftest import RunningServer
from tests.faults.conftest import assert_retryable_503, project_creation_held


def test_beyond_max_concurrency_requests_get_a_503_problem_and_the_gate_reopens(config, postgres, issuer):
    gated = create_app(dataclasses.replace(config, max_concurrency=1))
    server = RunningServer(gated).start()
    try:
        customer = new_customer(server.url, issuer)
        another_user = {"Authorization": f"Bearer {user_token(issuer, customer.id, 'another-user')}"}
        with project_creation_held(
            postgres, "exitus_test", server.url, customer.headers, "holds the only slot"
        ) as held:
            rejected = httpx.get(f"{server.url}/v1/users/me", headers=another_user, timeout=10)
            assert_retryable_503(rejected)
            assert "concurrency limit" in rejected.json()["detail"]
            assert rejected.headers["x-content-type-options"] == "nosniff"
            scrape = httpx.get(f"{server.url}/metrics", timeout=10)
            assert scrape.status_code == 503  # the scrape is a request too: the gate counts it
        assert held.result(timeout=30).status_code == 201
        assert httpx.get(f"{server.url}/v1/users/me", headers=another_user, timeout=10).status_code == 200
    finally:
        server.stop()


SERVING_DEFAULTS = {
    "web_concurrency": 1,
    "max_concurrency": 200,
    "max_connections": 1000,
    "listen_backlog": 2048,
    "keep_alive_timeout_seconds": 75,
    "shutdown_drain_seconds": 5.0,
    "shutdown_timeout_seconds": 20,
    "prometheus_multiproc_dir": "",
}
DATABASE = {"PGDATASOURCE": "postgresql://exitus@127.0.0.1:5432/exitus"}


def test_max_connections_lets_exactly_that_many_in_and_the_first_beyond_max_concurrency_gets_a_problem(
    postgres, fresh_database, start_exitus, issuer
):
    name, url = fresh_database
    exitus = start_exitus(url, MAX_CONCURRENCY=1, MAX_CONNECTIONS=2, SHUTDOWN_DRAIN_SECONDS=0)
    customer = new_customer(exitus.url, issuer)
    with (
        project_creation_held(postgres, name, exitus.url, customer.headers, "holds the only slot") as held,
        httpx.Client(base_url=exitus.url, timeout=10) as second,  # a kept-alive connection: the second one
    ):
        another_user = {"Authorization": f"Bearer {user_token(issuer, customer.id, 'another-user')}"}
        rejected = second.get("/v1/users/me", headers=another_user)
        assert_retryable_503(rejected)  # beyond MAX_CONCURRENCY, within MAX_CONNECTIONS: the app's problem
        assert "concurrency limit" in rejected.json()["detail"]
        assert second.get("/healthz").status_code == 200  # probes never count against MAX_CONCURRENCY
        beyond = httpx.get(f"{exitus.url}/healthz", timeout=10)  # a third connection
        assert (beyond.status_code, beyond.headers["content-type"]) == (503, "text/plain; charset=utf-8")
    assert held.result(timeout=30).status_code == 201
    assert exitus.stop() == 0


def test_serving_settings_default_and_parse():
    defaults = Config.from_env(DATABASE, need_oidc=False)
    assert {name: getattr(defaults, name) for name in SERVING_DEFAULTS} == SERVING_DEFAULTS
    configured = Config.from_env(
        {
            **DATABASE,
            "WEB_CONCURRENCY": "4",
            "MAX_CONCURRENCY": "50",
            "MAX_CONNECTIONS": "51",
            "LISTEN_BACKLOG": "128",
            "KEEP_ALIVE_TIMEOUT_SECONDS": "65",
            "SHUTDOWN_DRAIN_SECONDS": "0",
            "SHUTDOWN_TIMEOUT_SECONDS": "30",
            "PROMETHEUS_MULTIPROC_DIR": "/tmp/metrics",
        },
        need_oidc=False,
    )
    assert (configured.web_concurrency, configured.max_concurrency, configured.max_connections) == (4, 50, 51)
    assert (configured.listen_backlog, configured.keep_alive_timeout_seconds) == (128, 65)
    assert (configured.shutdown_drain_seconds, configured.shutdown_timeout_seconds) == (0.0, 30)
    assert configured.prometheus_multiproc_dir == "/tmp/metrics"


@pytest.mark.parametrize(
    ("settings", "variable"),
    [
        ({"WEB_CONCURRENCY": "0"}, "WEB_CONCURRENCY"),
        ({"MAX_CONCURRENCY": "many"}, "MAX_CONCURRENCY"),
        ({"MAX_CONCURRENCY": "2000"}, "MAX_CONNECTIONS"),  # more in flight than connections allowed
        ({"MAX_CONCURRENCY": "50", "MAX_CONNECTIONS": "50"}, "MAX_CONNECTIONS"),  # no room for the 503 problem
        ({"SHUTDOWN_DRAIN_SECONDS": "-1"}, "SHUTDOWN_DRAIN_SECONDS"),
        ({"SHUTDOWN_TIMEOUT_SECONDS": "1.5"}, "SHUTDOWN_TIMEOUT_SECONDS"),
        ({"KEEP_ALIVE_TIMEOUT_SECONDS": "0"}, "KEEP_ALIVE_TIMEOUT_SECONDS"),
        ({"LISTEN_BACKLOG": "70000"}, "LISTEN_BACKLOG"),
    ],
)
def test_bad_serving_settings_name_the_variable(settings, variable):
    with pytest.raises(ConfigError) as raised:
        Config.from_env({**DATABASE, **settings}, need_oidc=False)
    assert raised.value.variable == variable


def test_several_workers_get_a_fresh_metrics_directory(monkeypatch):
    # Recorded as absent, so the directory serve() puts in os.environ is removed afterwards (single-process
    # metrics for the rest of this test session).
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    config = Config.from_env(DATABASE, need_oidc=False)
    assert prepare_prometheus_dir(config) is None  # one worker: single-process metrics, nothing to prepare

    created = prepare_prometheus_dir(dataclasses.replace(config, web_concurrency=2))
    try:
        assert created is not None and created.is_dir() and not any(created.iterdir())
        assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(created)  # set before the workers start
    finally:
        created.rmdir()


def test_a_configured_metrics_directory_is_cleared_of_stale_files(tmp_path):
    (tmp_path / "counter_1234.db").write_bytes(b"stale")
    (tmp_path / "keep.txt").write_text("not ours")
    config = Config.from_env({**DATABASE, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}, need_oidc=False)
    assert prepare_prometheus_dir(dataclasses.replace(config, web_concurrency=2)) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_the_shutdown_signal_is_logged_without_the_ids_of_the_request_it_interrupted(monkeypatch):
    """A signal handler runs in the context of whatever ran when the signal came (often a request's task)."""
    monkeypatch.setattr(lifecycle, "_shutting_down", threading.Event())  # the session's server lives on
    server = DrainingServer(uvicorn.Config(app=None), drain_seconds=5)
    ids_at_log_time = IdsAtLogTime()
    logger = logging.getLogger("exitus.serve")
    monkeypatch.setattr(logger, "level", logging.INFO)
    logger.addHandler(ids_at_log_time)

    def interrupted_request() -> None:
        request_id_var.set("req-interrupted")
        server.handle_exit(signal.SIGTERM, None)

    try:
        contextvars.copy_context().run(interrupted_request)
    finally:
        logger.removeHandler(ids_at_log_time)
    [event] = [e for e in ids_at_log_time.events if "shutdown requested" in e["event"]]
    assert lifecycle.shutting_down() and server.drain_deadline is not None
    assert "request_id" not in event


class IdsAtLogTime(logging.Handler):
    """The ids exitus.logs adds to a line, computed when it is logged (in the logging call's context)."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.events.append(add_request_ids(None, record.levelname.lower(), {"event": record.getMessage()}))


def test_the_metrics_directory_cannot_be_prepared_once_metrics_exist_in_this_process(monkeypatch, tmp_path):
    """Its wipe would delete this process's own open files: their samples would vanish from every scrape."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    config = Config.from_env({**DATABASE, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}, need_oidc=False)
    with pytest.raises(RuntimeError, match=r"before exitus\.metrics is imported"):
        prepare_prometheus_dir(config)
