"""Metrics from a real `exitus serve`: with several uvicorn workers one scrape gives one correct view (prometheus_client
multiprocess mode), and every documented combination of WEB_CONCURRENCY, PROMETHEUS_MULTIPROC_DIR and METRICS_ADDR
serves the full set."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from bench.stack import new_customer
from exitus.dev.postgres import free_port
from tests.test_metrics import parse_samples


def test_two_workers_are_counted_as_one_service_on_the_metrics_listener(start_exitus, fresh_database):
    _name, url = fresh_database
    metrics_port = free_port()
    exitus = start_exitus(
        url, WEB_CONCURRENCY=2, DB_POOL_SIZE=3, METRICS_ADDR=f"127.0.0.1:{metrics_port}", SHUTDOWN_DRAIN_SECONDS=0
    )
    try:
        health_checks = 40
        for _ in range(health_checks - 1):  # start_exitus waited on one already; a new connection each time
            assert httpx.get(f"{exitus.url}/healthz", timeout=10).status_code == 200
        assert httpx.get(f"{exitus.url}/metrics", timeout=10).status_code == 404  # not on the API port then
        scrape = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10)
        assert scrape.status_code == 200
        seen = parse_samples(scrape.text)
        labels = frozenset({"method": "GET", "route": "/healthz", "status": "200", "group": "probe"}.items())
        assert seen[("exitus_http_requests_total", labels)] == health_checks
        assert seen[("exitus_db_pool_size", frozenset())] == 2 * 3  # both workers' pools, summed
        build = [key for key in seen if key[0] == "exitus_build_info"]
        assert len(build) == 1 and seen[build[0]] == 1

        # A worker dies and is replaced: its live gauges leave the sum, its counts stay.
        first, second = workers_of(exitus.pid)
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while first in workers_of(exitus.pid) or len(workers_of(exitus.pid)) < 2:
            assert time.monotonic() < deadline, "the dead worker was not replaced"
            time.sleep(0.2)
        assert second in workers_of(exitus.pid)
        while True:  # the replacement opens its pool when it starts serving
            with contextlib.suppress(httpx.TransportError):
                after = parse_samples(httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text)
                if after.get(("exitus_db_pool_size", frozenset())) == 2 * 3:
                    break
            assert time.monotonic() < deadline, f"pool size stays {after.get(('exitus_db_pool_size', frozenset()))}"
            time.sleep(0.2)
        assert after[("exitus_http_requests_total", labels)] >= health_checks
    finally:
        exit_status = exitus.stop()
    assert exit_status == 0


def workers_of(supervisor: int) -> list[int]:
    """The uvicorn worker processes (multiprocessing spawn children) of the supervisor."""
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    workers = []
    for child in map(int, children):
        with contextlib.suppress(FileNotFoundError):
            command = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"spawn_main" in command:
                workers.append(child)
    return workers


@pytest.mark.parametrize("metrics_listener", [False, True], ids=["metrics-on-api-port", "metrics-addr"])
@pytest.mark.parametrize("multiproc_dir", [False, True], ids=["no-multiproc-dir", "multiproc-dir"])
@pytest.mark.parametrize("workers", [1, 2], ids=["1-worker", "2-workers"])
def test_every_documented_combination_serves_the_full_set_of_metrics(
    workers, multiproc_dir, metrics_listener, start_exitus, fresh_database, issuer, tmp_path
):
    """WEB_CONCURRENCY x PROMETHEUS_MULTIPROC_DIR x METRICS_ADDR: the same metrics, counted once, in every one."""
    _name, url = fresh_database
    settings: dict[str, str | int] = {"WEB_CONCURRENCY": workers, "DB_POOL_SIZE": 3, "SHUTDOWN_DRAIN_SECONDS": 0}
    if multiproc_dir:
        directory = tmp_path / "prometheus"
        directory.mkdir()
        (directory / "counter_1.db").write_bytes(b"a previous run's file: must not be read")
        settings["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    metrics_url = None
    if metrics_listener:
        port = free_port()
        settings["METRICS_ADDR"] = f"127.0.0.1:{port}"
        metrics_url = f"http://127.0.0.1:{port}/metrics"
    exitus = start_exitus(url, **settings)
    metrics_url = metrics_url or f"{exitus.url}/metrics"
    try:
        customer = new_customer(exitus.url, issuer)  # one admin request: accepted, a customer created
        api = httpx.Client(base_url=exitus.url, headers=customer.headers, timeout=30)
        project = api.post("/v1/projects", json={"name": "metrics", "labels": []}).json()
        issues = f"/v1/projects/{project['id']}/issues"
        issue = api.post(issues, json=ISSUE).json()
        closed = api.put(f"{issues}/{issue['id']}", json={**ISSUE, "state": "closed", "version": issue["version"]})
        assert closed.status_code == 200, closed.text
        assert api.post(f"{issues}/{issue['id']}/comments", json={"content": "seen"}).status_code == 201
        assert httpx.get(f"{exitus.url}/v1/projects", timeout=10).status_code == 401
        health_checks = 5
        for _ in range(health_checks - 1):  # start_exitus waited on one already
            assert httpx.get(f"{exitus.url}/healthz", timeout=10).status_code == 200

        scrape = httpx.get(metrics_url, timeout=10)
        assert scrape.status_code == 200, scrape.text
        seen = parse_samples(scrape.text)
    finally:
        exit_status = exitus.stop()
    assert exit_status == 0
    assert "Warning" not in exitus.output()  # a clean start, in the supervisor and the workers alike

    def value(name: str, **labels: str) -> float | None:
        return seen.get((name, frozenset(labels.items())))

    probe = {"method": "GET", "route": "/healthz", "status": "200", "group": "probe"}
    assert value("exitus_http_requests_total", **probe) == health_checks
    assert value("exitus_http_requests_total", method="POST", route="/v1/projects", status="201", group="api") == 1
    assert value("exitus_auth_outcomes_total", outcome="accepted", reason="valid") == 5
    assert value("exitus_auth_outcomes_total", outcome="rejected", reason="missing") == 1
    assert value("exitus_db_pool_size") == workers * 3
    assert value("exitus_db_query_duration_seconds_count", query="create_project", outcome="ok") == 1
    assert value("exitus_issues_created_total") == 1
    assert value("exitus_issue_state_changes_total", state="closed") == 1
    assert value("exitus_comments_created_total") == 1
    assert [seen[key] for key in seen if key[0] == "exitus_build_info"] == [1]


ISSUE = {"subject": "counted", "content": "once", "severity": "low", "category": "bug", "labels": []}
