"""`exitus serve`: the API under uvicorn, with a concurrency gate, a graceful drain on SIGTERM, optional workers.

Shutdown, as an orchestrator (ECS, Kubernetes) expects it:
1. The first SIGTERM (or SIGINT) marks the process as shutting down (exitus.lifecycle): /readyz answers 503 at once,
   /healthz stays 200, responses carry `Connection: close` so keep-alive clients reconnect through the load balancer.
2. For SHUTDOWN_DRAIN_SECONDS the server goes on accepting and serving, while the load balancer notices the failing
   readiness and stops sending. A second signal ends the drain early; a third abandons in-flight requests.
3. Every connection already accepted gets its answer: the listening socket stops completing new handshakes (a
   drop-everything socket filter: late clients are refused or time out, never accepted and then reset), the server
   accepts what the kernel had already queued, gives connections that have not sent their request yet
   FRESH_CONNECTION_GRACE_SECONDS to send it, and only then stops listening.
4. uvicorn's graceful shutdown: let in-flight requests finish (SHUTDOWN_TIMEOUT_SECONDS at most), then the
   application's lifespan closes the database pool. The process exits 0.

With WEB_CONCURRENCY > 1 the supervisor receives the signal. In its signal handler it sets the shutdown flag that it
shares with the workers (exitus.lifecycle), so readiness fails in every worker from that instant, and passes the
signal (and every later one) straight on to each worker, which then drains as above.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import ctypes
import functools
import logging
import os
import select
import shutil
import signal
import socket
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from uvicorn.supervisors import multiprocess

from exitus import lifecycle
from exitus.client import forwarded_allow_ips
from exitus.config import Config

# Nothing here imports prometheus_client (or exitus.metrics) at module level: in multiprocess mode a process opens
# its files in PROMETHEUS_MULTIPROC_DIR when its metrics are created, and serve() must clear the directory of earlier
# runs' files before that, or it would delete this run's own files and most metrics would vanish from the scrapes.

log = logging.getLogger("exitus.serve")
APP_FACTORY = "exitus.serve:create_served_app"
# How long, at the end of the drain, a connection already accepted may take to send its request (step 3 above).
FRESH_CONNECTION_GRACE_SECONDS = 2.0
SO_ATTACH_FILTER = getattr(socket, "SO_ATTACH_FILTER", 26)  # Linux
# A classic BPF program of one instruction, `ret #0`: every packet dropped, SYNs to a listening socket included.
_DROP_EVERYTHING = ctypes.create_string_buffer(struct.pack("HBBI", 0x06, 0, 0, 0))


def serve(config: Config) -> int:
    created_metrics_dir = prepare_prometheus_dir(config)  # before this process creates any metric (see above)
    from exitus.logs import configure_logging  # imports exitus.metrics (by exitus.errors)

    configure_logging(stage=config.stage, level=config.log_level)
    server_config = uvicorn.Config(
        APP_FACTORY,
        factory=True,  # each worker builds its own app (and pool) from the environment
        host=config.host,
        port=config.port,
        workers=config.web_concurrency,
        **server_settings(config),
    )
    if config.metrics_addr:
        from exitus.metrics import start_metrics_listener

        start_metrics_listener(config.metrics_addr)  # here, in the supervisor when there are workers
    try:
        if config.web_concurrency > 1:
            return _run_workers(server_config)
        DrainingServer(server_config, drain_seconds=config.shutdown_drain_seconds).run()
        return 0
    finally:
        if created_metrics_dir is not None:
            shutil.rmtree(created_metrics_dir, ignore_errors=True)


def server_settings(config: Config) -> dict[str, Any]:
    """uvicorn's settings from the configuration, shared by `exitus serve` and `make run` (exitus.dev.stack)."""
    from exitus.protocol import BoundedHttpToolsProtocol

    return {
        "log_config": None,
        "proxy_headers": True,
        # httptools, with the request head capped while it is read (uvicorn caps it for h11 only): 431 beyond it. A
        # partial, not a subclass made here: uvicorn pickles its settings for the worker processes.
        "http": functools.partial(
            BoundedHttpToolsProtocol,
            max_header_bytes=config.max_header_bytes,
            max_header_count=config.max_header_count,
            head_timeout=config.header_read_timeout_seconds,
        ),
        "forwarded_allow_ips": forwarded_allow_ips(config.trusted_proxies),  # exitus/client.py
        # A backstop on open connections (idle keep-alive ones included): beyond it uvicorn itself answers a bare
        # text/plain 503. MAX_CONCURRENCY, enforced below it by the app's EdgeMiddleware, is the limit clients meet
        # (config: MAX_CONNECTIONS > MAX_CONCURRENCY, so the first client beyond it still gets the problem+json 503).
        # uvicorn counts the asking connection itself among the open ones (`>=`): + 1 lets exactly MAX_CONNECTIONS in.
        "limit_concurrency": config.max_connections + 1,
        "backlog": config.listen_backlog,
        "timeout_keep_alive": config.keep_alive_timeout_seconds,
        "timeout_graceful_shutdown": config.shutdown_timeout_seconds,
    }


def create_served_app() -> ASGIApp:
    """The uvicorn app factory, called in each worker."""
    from exitus.cli import silence_known_warnings

    silence_known_warnings()
    from exitus.app import create_app
    from exitus.logs import configure_logging

    config = Config.from_env()
    configure_logging(stage=config.stage, level=config.log_level)
    return create_app(config)


def prepare_prometheus_dir(config: Config) -> Path | None:
    """prometheus_client's multiprocess mode needs a directory shared by the workers, set before they start, and
    free of the files of earlier runs (their counters would be summed in). Returns the directory if created here.

    Called before this process creates a metric: it would otherwise delete the files this process already has open."""
    if "exitus.metrics" in sys.modules and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        raise RuntimeError("the metrics directory must be prepared before exitus.metrics is imported")
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

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Answer every connection already accepted before uvicorn stops listening (step 3 of the module doc)."""
        listeners = [sock for server in getattr(self, "servers", []) for sock in server.sockets]
        for listener in listeners:
            refuse_new_connections(listener)
        log.info("drain over: no new connections; answering the %d open ones", len(self.server_state.connections))
        deadline = time.monotonic() + FRESH_CONNECTION_GRACE_SECONDS
        # The event loop goes on accepting while we wait, and the protocols go on reading.
        await _until(lambda: not any(connections_queued(listener) for listener in listeners), deadline)
        await _until(lambda: not any(_awaiting_first_request(c) for c in self.server_state.connections), deadline)
        await super().shutdown(sockets)


def refuse_new_connections(listener: socket.socket) -> None:
    """From now on no TCP handshake completes on this listening socket (shared by every worker): clients are not
    accepted, rather than accepted and then reset when the socket closes. Connections already queued stay."""
    program = struct.pack("HL", 1, ctypes.addressof(_DROP_EVERYTHING))
    try:
        listener.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, program)
    except OSError as error:  # not Linux: connections queued when the socket closes are reset, as without this
        log.warning("cannot stop new connections before closing the listening socket: %s", error)


def connections_queued(listener: socket.socket) -> bool:
    """Whether the kernel holds accepted connections that no worker has taken yet."""
    try:
        return bool(select.select([listener], [], [], 0)[0])
    except (OSError, ValueError):  # closed meanwhile
        return False


def _awaiting_first_request(connection: object) -> bool:
    # uvicorn's HTTP protocols have no request cycle until a request's headers have arrived.
    return getattr(connection, "cycle", None) is None and getattr(connection, "transport", None) is not None


async def _until(condition: Callable[[], bool], deadline: float) -> None:
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


class DrainingProcess(multiprocess.Process):
    """A uvicorn worker process whose server drains. Unpickled in the spawned worker, which imports this module;
    it carries the supervisor's shared shutdown flag there."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]):
        self.shutdown_flag = lifecycle.share_with_workers()
        super().__init__(config, sockets)

    def target(self, sockets: list[socket.socket] | None = None) -> None:  # runs in the worker
        lifecycle.adopt(self.shutdown_flag)
        super().target(sockets)

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            drain_seconds = Config.from_env().shutdown_drain_seconds
            self._server = DrainingServer(self.config, drain_seconds=drain_seconds)
        return self._server


class DrainingSupervisor(multiprocess.Multiprocess):
    """uvicorn's worker supervisor, which also:

    - on SIGTERM or SIGINT, in the signal handler itself, sets the shutdown flag shared with the workers (readiness
      fails in every worker from then on) and passes the signal on to each worker at once, and every later signal
      too (the second ends the workers' drain, the third abandons their requests); uvicorn's own loop would only
      notice the signal up to half a second later, and forwards only the first;
    - replaces no worker once shutting down: one that finished its drain is done, not dead;
    - lets go of the listening socket once it has told the workers to stop: each worker holds its own copy and
      closes it after its drain, and ours must not keep the port accepting connections into a queue that nobody
      serves any more;
    - tells prometheus_client when a worker it replaced is gone, so the live gauges (pool size, in use, in flight)
      stop counting the dead worker's last values; its counters stay, what it counted did happen."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]):
        super().__init__(config, sockets)
        self.stop_signals = 0
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_stop_signal)

    def _on_stop_signal(self, sig: int, frame: FrameType | None) -> None:
        self.stop_signals += 1
        if self.stop_signals == 1:
            lifecycle.begin_shutdown()
            self.signal_queue.append(sig)  # uvicorn's loop: stop supervising, wait for the workers
        for process in self.processes:
            if process.pid is not None and process.exitcode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, sig)

    def terminate_all(self) -> None:
        if not self.stop_signals:  # stopping for another reason (a worker failed to start): tell them now
            super().terminate_all()
        for sock in self.sockets:
            sock.close()

    def keep_subprocess_alive(self) -> None:
        if self.stop_signals:
            return
        before = {process.pid for process in self.processes}
        super().keep_subprocess_alive()
        self._forget_gone_workers(before)

    def restart_all(self) -> None:
        if self.stop_signals:
            return
        before = {process.pid for process in self.processes}
        super().restart_all()
        self._forget_gone_workers(before)

    def _forget_gone_workers(self, before: set[int | None]) -> None:
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            return
        from prometheus_client import multiprocess as prometheus_multiprocess

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
