"""Soak: mixed reads and writes with real tokens against a local stack this starts itself, for a long while.

    .venv/bin/python -m bench.soak [--duration 600] [--connections 64] [--workers 1] [--reference-seconds 10]

Starts its own PostgreSQL (LocalPostgres in a temp dir), a dev issuer and `exitus serve` on loopback. Reports the
error count (any is a failure), the request rate, latency percentiles per operation, and the worker's RSS after
warm-up, at the middle and at the end (growing more than --max-rss-growth-mib after warm-up is a failure). Exit
status 0 only if both hold. Before the soak, the reference phases measure GET /v1/projects against GET /healthz at
the same concurrency in the same run: figures are compared as ratios (bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import statistics
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.stack import (
    ExitusProcess,
    exitus_env,
    local_stack,
    migrated_database,
    new_customer,
    traversable_tempdir,
    user_token,
)
from exitus.dev.issuer import DevIssuer
from exitus.dev.postgres import LocalPostgres

CUSTOMERS = 8
ISSUE = {"subject": "Soak", "content": "Filed under load", "severity": "medium", "category": "task", "labels": []}
# The mix a connection draws from: (operation, weight). Reads dominate, as in an issue tracker.
MIX = [
    ("list_projects", 30),
    ("get_project", 15),
    ("list_issues", 20),
    ("create_issue", 15),
    ("update_issue", 10),
    ("create_comment", 10),
]


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(map(len, self.latencies.values()))

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def record(self, operation: str, started: float, response: httpx.Response | None, expected: int, error=None):
        self.latencies[operation].append(time.perf_counter() - started)
        if error is not None or response is None or response.status_code != expected:
            self.errors += 1
            if len(self.error_samples) < 5:
                what = repr(error) if error is not None else f"{response.status_code} {response.text[:200]}"
                self.error_samples.append(f"{operation}: {what}")

    def summary(self) -> str:
        everything = [x for values in self.latencies.values() for x in values]
        lines = [
            f"{self.name}: {self.requests} requests in {self.seconds:.1f} s = {self.rate:.0f}/s, "
            f"{self.errors} errors; latency {_percentiles(everything)}"
        ]
        if len(self.latencies) > 1:
            lines += [f"  {op:<15} {len(v):>7}  {_percentiles(v)}" for op, v in sorted(self.latencies.items())]
        lines += [f"  error: {sample}" for sample in self.error_samples]
        return "\n".join(lines)


def _percentiles(values: Sequence[float]) -> str:
    if len(values) < 2:
        return "n/a"
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return f"p50 {cuts[49] * 1000:.1f} ms, p90 {cuts[89] * 1000:.1f} ms, p99 {cuts[98] * 1000:.1f} ms, " + (
        f"max {max(values) * 1000:.1f} ms"
    )


@dataclass
class Connection:
    """One client connection's identity and what it has created (so it can read and update its own rows)."""

    headers: dict[str, str]
    project_id: str
    issues: dict[str, int] = field(default_factory=dict)  # id -> version


@dataclass
class SoakReport:
    reference: list[Phase]
    soak: Phase
    rss_mib: dict[str, float]
    max_rss_growth_mib: float

    @property
    def rss_growth_mib(self) -> float:
        return self.rss_mib["end"] - self.rss_mib["after warm-up"]

    @property
    def passed(self) -> bool:
        return self.soak.errors == 0 and self.soak.requests > 0 and self.rss_growth_mib <= self.max_rss_growth_mib

    def text(self) -> str:
        lines = [phase.summary() for phase in self.reference]
        if len(self.reference) == 2 and self.reference[0].rate:
            health, projects = self.reference
            lines.append(f"ratio: GET /v1/projects throughput = {projects.rate / health.rate:.2f} x GET /healthz")
        lines.append(self.soak.summary())
        lines.append(
            "worker RSS: "
            + ", ".join(f"{moment} {mib:.1f} MiB" for moment, mib in self.rss_mib.items())
            + f"; growth after warm-up {self.rss_growth_mib:+.1f} MiB (bound {self.max_rss_growth_mib:.0f} MiB)"
        )
        lines.append("PASS" if self.passed else "FAIL")
        return "\n".join(lines)


async def _operation(client: httpx.AsyncClient, conn: Connection, phase: Phase, operation: str) -> None:
    project = f"/v1/projects/{conn.project_id}"
    if operation in ("update_issue", "create_comment") and not conn.issues:
        operation = "create_issue"
    started = time.perf_counter()
    response = None
    expected = 200
    try:
        if operation == "healthz":
            response = await client.get("/healthz")
        elif operation == "list_projects":
            response = await client.get("/v1/projects", params={"limit": 20}, headers=conn.headers)
        elif operation == "get_project":
            response = await client.get(project, headers=conn.headers)
        elif operation == "list_issues":
            response = await client.get(f"{project}/issues", params={"limit": 20}, headers=conn.headers)
        elif operation == "create_issue":
            expected = 201
            response = await client.post(f"{project}/issues", json=ISSUE, headers=conn.headers)
            if response.status_code == 201:
                conn.issues[response.json()["id"]] = response.json()["version"]
        elif operation == "update_issue":
            issue_id, version = random.choice(list(conn.issues.items()))
            body = {**ISSUE, "subject": f"Soak {uuid.uuid4().hex[:8]}", "version": version}
            response = await client.put(f"{project}/issues/{issue_id}", json=body, headers=conn.headers)
            if response.status_code == 200:
                conn.issues[issue_id] = response.json()["version"]
        elif operation == "create_comment":
            expected = 201
            issue_id = random.choice(list(conn.issues))
            response = await client.post(
                f"{project}/issues/{issue_id}/comments", json={"content": "still there"}, headers=conn.headers
            )
        phase.record(operation, started, response, expected)
    except httpx.HTTPError as error:
        phase.record(operation, started, None, expected, error)


async def _run_phase(
    base_url: str, connections: list[Connection], seconds: float, name: str, choose: Callable[[], str]
) -> Phase:
    phase = Phase(name)
    limits = httpx.Limits(max_connections=len(connections), max_keepalive_connections=len(connections))
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        deadline = time.monotonic() + seconds
        started = time.monotonic()

        async def loop(conn: Connection) -> None:
            while time.monotonic() < deadline:
                await _operation(client, conn, phase, choose())

        await asyncio.gather(*(loop(conn) for conn in connections))
        phase.seconds = time.monotonic() - started
    return phase


def _mixed() -> str:
    return random.choices([op for op, _ in MIX], weights=[w for _, w in MIX])[0]


def worker_rss_mib(pid: int) -> float:
    """The largest RSS among the serving processes: the process itself, or its workers when it supervises some."""
    children_file = Path(f"/proc/{pid}/task/{pid}/children")
    children = [int(c) for c in children_file.read_text().split()] if children_file.exists() else []
    # Workers are spawned python processes; the multiprocessing resource tracker is small and never the largest.
    return max(_rss_kib(p) for p in [pid, *children]) / 1024


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


async def _sample_rss(pid: int, samples: list[tuple[float, float]], stop: asyncio.Event) -> None:
    while not stop.is_set():
        samples.append((time.monotonic(), worker_rss_mib(pid)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1)


def run_soak(
    *,
    duration: float,
    connections: int,
    workers: int = 1,
    reference_seconds: float = 0,
    max_rss_growth_mib: float = 64,
    warmup_fraction: float = 0.1,
    log: Callable[[str], None] = print,
    stack: tuple[LocalPostgres, DevIssuer] | None = None,
) -> SoakReport:
    """The soak, on a PostgreSQL and an issuer of its own, or on `stack` when given (the CI test's)."""
    workdir = traversable_tempdir("exitus-soak-")
    try:
        with contextlib.nullcontext(stack) if stack else local_stack(workdir) as (postgres, issuer):
            _name, url = migrated_database(postgres, "soak")
            exitus = ExitusProcess(
                exitus_env(url, issuer.url, WEB_CONCURRENCY=workers, SHUTDOWN_DRAIN_SECONDS=0), workdir / "exitus.log"
            ).start()
            try:
                log(f"exitus pid {exitus.pid} on {exitus.url}, {connections} connections, {workers} worker(s)")
                clients = _connections(exitus.url, issuer, connections, ttl_seconds=int(duration) + 3600)
                return asyncio.run(
                    _soak(exitus, clients, duration, reference_seconds, max_rss_growth_mib, warmup_fraction, log)
                )
            finally:
                status = exitus.stop()
                if status != 0:
                    log(f"exitus exited with {status}:\n{exitus.output()[-3000:]}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _connections(base_url: str, issuer, count: int, *, ttl_seconds: int) -> list[Connection]:
    customers = [new_customer(base_url, issuer, ttl_seconds=ttl_seconds) for _ in range(CUSTOMERS)]
    result = []
    for number in range(count):
        customer = customers[number % CUSTOMERS]
        # A user per connection: one user's requests serialize on its `users` row (see bench/stack.py).
        token = user_token(issuer, customer.id, f"soak-{number}", ttl_seconds=ttl_seconds)
        headers = {"Authorization": f"Bearer {token}"}
        response = httpx.post(
            f"{base_url}/v1/projects", json={"name": f"soak {number}", "labels": []}, headers=headers, timeout=30
        )
        response.raise_for_status()
        result.append(Connection(headers, response.json()["id"]))
    return result


async def _soak(exitus, clients, duration, reference_seconds, max_rss_growth_mib, warmup_fraction, log) -> SoakReport:
    reference = []
    if reference_seconds > 0:
        for name, operation in (("GET /healthz", "healthz"), ("GET /v1/projects", "list_projects")):
            log(f"reference phase: {name} for {reference_seconds:.0f} s")
            reference.append(await _run_phase(exitus.url, clients, reference_seconds, name, lambda op=operation: op))
    log(f"soak: mixed reads and writes for {duration:.0f} s")
    samples: list[tuple[float, float]] = []
    stop = asyncio.Event()
    sampler = asyncio.create_task(_sample_rss(exitus.pid, samples, stop))
    started = time.monotonic()
    soak = await _run_phase(exitus.url, clients, duration, "soak (mixed)", _mixed)
    stop.set()
    await sampler

    def at(moment: float) -> float:
        return min(samples, key=lambda s: abs(s[0] - moment))[1]

    rss = {
        "after warm-up": at(started + duration * warmup_fraction),
        "middle": at(started + duration / 2),
        "end": samples[-1][1],
    }
    return SoakReport(reference, soak, rss, max_rss_growth_mib)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.soak", description=__doc__.split("\n\n")[0])
    env = os.environ
    parser.add_argument("--duration", type=float, default=float(env.get("SOAK_DURATION", 600)), help="seconds")
    parser.add_argument("--connections", type=int, default=int(env.get("SOAK_CONNECTIONS", 64)))
    parser.add_argument("--workers", type=int, default=int(env.get("SOAK_WORKERS", 1)), help="WEB_CONCURRENCY")
    parser.add_argument(
        "--reference-seconds", type=float, default=float(env.get("SOAK_REFERENCE_SECONDS", 10)), help="0: none"
    )
    parser.add_argument(
        "--max-rss-growth-mib", type=float, default=float(env.get("SOAK_MAX_RSS_GROWTH_MIB", 64)), help="after warm-up"
    )
    args = parser.parse_args(argv)
    report = run_soak(
        duration=args.duration,
        connections=args.connections,
        workers=args.workers,
        reference_seconds=args.reference_seconds,
        max_rss_growth_mib=args.max_rss_growth_mib,
    )
    print(report.text(), flush=True)
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
