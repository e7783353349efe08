"""Metrics with several uvicorn workers: one scrape gives one correct view (prometheus_client multiprocess mode),
here from the separate METRICS_ADDR listener that the supervisor runs."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import httpx

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
