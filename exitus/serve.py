"""`exitus serve`: the API under uvicorn, with a concurrency gate, a graceful drain on SIGTERM, optional workers.

Shutdown, as an orchestrator (ECS, Kubernetes) expects it:
1. The first SIGTERM (or SIGINT) marks the process as shutting down (exitus.lifecycle): /readyz answers 503 at once,
   /healthz stays 200, responses carry `Connection: close` so keep-alive clients reconnect through the load balancer.
2. For SHUTDOWN_DRAIN_SECONDS the server goes on accepting and serving, while the load balancer notices the failing
   readiness and stops sending. A second signal ends the drain early; a third abandons in-flight requests.
3. uvicorn's graceful shutdown: stop listening, let in-flight requests finish (SHUTDOWN_TIMEOUT_SECONDS at most),
   then the application's lifespan closes the database pool. The process exits 0.

With WEB_CONCURRENCY > 1, uvicorn's supervisor forwards SIGTERM to every worker and each one drains as above.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from prometheus_client import multiprocess as prometheus_multiprocess
from starlette.types import ASGIApp
from uvicorn.supervisors import multiprocess

from exitus import lifecycle
from exitus.config import Config
from exitus.edge import BoundedHttpToolsProtocol
from exitus.metrics import start_metrics_listener

log = logging.getLogger("exitus.serve")
APP_FACTORY = "exitus.serve:create_served_app"


def serve(config: Config) -> int:
    from exitus.logs import configure_logging

    configure_logging(stage=config.stage, level=config.log_level)
    created_metrics_dir = prepare_prometheus_dir(config)
    server_config = uvicorn.Config(
        APP_FACTORY,
        factory=True,  # each worker builds its own app (and pool) from the environment
        host=config.host,
        port=config.port,
        workers=config.web_concurrency,
        log_config=None,
        proxy_headers=True,
        # httptools, with the request head capped while it is read (uvicorn caps it for h11 only): 431 beyond it.
        http=functools.partial(
            BoundedHttpToolsProtocol,
            max_header_bytes=config.max_header_bytes,
            max_header_count=config.max_header_count,
        ),
        # A backstop on open connections (idle keep-alive ones included): beyond it uvicorn itself answers a bare
        # text/plain 503. MAX_CONCURRENCY, enforced below it by the app's EdgeMiddleware, is the limit clients meet.
        limit_concurrency=config.max_connections,
        backlog=config.listen_backlog,
        timeout_keep_alive=config.keep_alive_timeout_seconds,
        timeout_graceful_shutdown=config.shutdown_timeout_seconds,
    )
    if config.metrics_addr:
        start_metrics_listener(config.metrics_addr)  # here, in the supervisor when there are workers
    try:
        if config.web_concurrency > 1:
            return _run_workers(server_config)
        DrainingServer(server_config, drain_seconds=config.shutdown_drain_seconds).run()
        return 0
    finally:
        if created_metrics_dir is not None:
            shutil.rmtree(created_metrics_dir, ignore_errors=True)


def create_served_app() -> ASGIApp:
    """The uvicorn app factory, called in each worker."""
    from exitus.app import create_app
    from exitus.logs import configure_logging

    config = Config.from_env()
    configure_logging(stage=config.stage, level=config.log_level)
    return create_app(config)


def prepare_prometheus_dir(config: Config) -> Path | None:
    """prometheus_client's multiprocess mode needs a directory shared by the workers, set before they start, and
    free of the files of earlier runs (their counters would be summed in). Returns the directory if created here."""
    if config.prometheus_multiproc_dir:
        directory = Path(config.prometheus_multiproc_dir)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        return None
    if config.web_concurrency == 1:
        return None
    directory = Path(tempfile.mkdtemp(prefix="exitus-prometheus-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)  # inherited by the workers, which read it at import
    return directory


class DrainingServer(uvicorn.Server):
    """uvicorn's server, with a drain between the first signal and its graceful shutdown (see the module doc)."""

    def __init__(self, config: uvicorn.Config, *, drain_seconds: float):
        super().__init__(config)
        self.drain_seconds = drain_seconds
        self.drain_deadline: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # A signal handler runs in whatever context was current when the signal came, a request's maybe: start from
        # an empty one, or its lines would carry that request's ids.
        contextvars.Context().run(self._handle_exit, sig, frame)

    def _handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Unlike uvicorn's, the signal is not re-raised after shutdown: a completed drain is a clean exit (0).
        if self.drain_deadline is None:
            lifecycle.begin_shutdown()
            self.drain_deadline = time.monotonic() + self.drain_seconds
            log.info("shutdown requested: draining for %.1f s, readiness now fails", self.drain_seconds)
        elif not self.should_exit:
            log.info("second shutdown signal: ending the drain now")
            self.should_exit = True
        else:
            self.force_exit = True

    async def on_tick(self, counter: int) -> bool:
        if self.drain_deadline is not None and time.monotonic() >= self.drain_deadline:
            self.should_exit = True
        return await super().on_tick(counter)


class DrainingProcess(multiprocess.Process):
    """A uvicorn worker process whose server drains. Unpickled in the spawned worker, which imports this module."""

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            drain_seconds = Config.from_env().shutdown_drain_seconds
            self._server = DrainingServer(self.config, drain_seconds=drain_seconds)
        return self._server


class DrainingSupervisor(multiprocess.Multiprocess):
    """uvicorn's worker supervisor, which also:

    - lets go of the listening socket once it has told the workers to stop: each worker holds its own copy and
      closes it after its drain, and ours must not keep the port accepting connections into a queue that nobody
      serves any more;
    - tells prometheus_client when a worker it replaced is gone, so the live gauges (pool size, in use, in flight)
      stop counting the dead worker's last values; its counters stay, what it counted did happen."""

    def terminate_all(self) -> None:
        super().terminate_all()
        for sock in self.sockets:
            sock.close()

    def keep_subprocess_alive(self) -> None:
        before = {process.pid for process in self.processes}
        super().keep_subprocess_alive()
        self._forget_gone_workers(before)

    def restart_all(self) -> None:
        before = {process.pid for process in self.processes}
        super().restart_all()
        self._forget_gone_workers(before)

    def _forget_gone_workers(self, before: set[int | None]) -> None:
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            return
        for pid in before - {process.pid for process in self.processes}:
            if pid is not None:
                log.info("worker %d is gone: its live gauges leave the metrics", pid)
                prometheus_multiprocess.mark_process_dead(pid)


def _run_workers(server_config: uvicorn.Config) -> int:
    # uvicorn's supervisor builds every worker (at start, and when one dies) from this module global; this process
    # only supervises, so replacing it here has no other effect.
    multiprocess.Process = DrainingProcess  # type: ignore[misc]
    supervisor = DrainingSupervisor(server_config, sockets=[server_config.bind_socket()])
    supervisor.run()
    exit_codes: list[Any] = [worker.exitcode for worker in supervisor.processes]
    return 0 if all(code == 0 for code in exit_codes) else 1
