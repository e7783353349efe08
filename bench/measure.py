"""What one benchmark run measures besides wrk's own figures: CPU time and RSS of process trees (from /proc), and
PostgreSQL's committed transactions (pg_stat_database), each as a before/after pair around the run."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
WRK_SCRIPT = Path(__file__).resolve().parent / "wrk" / "bench.lua"
WRK_MARKER = "BENCH_WRK "


@dataclass(frozen=True)
class ProcessSample:
    pid: int
    ppid: int
    name: str
    cpu_seconds: float  # utime + stime of the process itself (its threads included)
    rss_bytes: int


def _read_stat(pid: int) -> ProcessSample | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The name is in parentheses and may hold spaces or parentheses itself: split after the last ')'.
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is field 3 of proc(5): ppid is field 4, utime 14, stime 15, rss (pages) 24.
    ppid, utime, stime, rss_pages = int(fields[1]), int(fields[11]), int(fields[12]), int(fields[21])
    return ProcessSample(pid, ppid, name, (utime + stime) / CLOCK_TICKS, rss_pages * PAGE_SIZE)


def process_tree(root: int) -> dict[int, ProcessSample]:
    """The process and all its descendants (workers, PostgreSQL backends), sampled now."""
    samples = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            sample = _read_stat(int(entry.name))
            if sample is not None:
                samples[sample.pid] = sample
    tree, frontier = {}, [root]
    while frontier:
        pid = frontier.pop()
        if pid in samples and pid not in tree:
            tree[pid] = samples[pid]
            frontier.extend(p for p, s in samples.items() if s.ppid == pid)
    return tree


def cpu_deltas(before: dict[int, ProcessSample], after: dict[int, ProcessSample]) -> dict[int, float]:
    """CPU seconds each process used between the samples (a process born in between counts from zero). A process
    that died in between is lost; the caller checks its servers are alive."""
    return {pid: s.cpu_seconds - (before[pid].cpu_seconds if pid in before else 0.0) for pid, s in after.items()}


def children_cpu_seconds() -> float:
    """CPU of this process's waited-for children (wrk), for the load generator's own cost."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def postmaster_pid(datadir: Path) -> int:
    return int((Path(datadir) / "postmaster.pid").read_text().splitlines()[0])


def transaction_counts(admin_dsn: str, database: str) -> tuple[int, int]:
    """(committed, rolled back) transactions of the database so far. Backends report them at most once a second
    when idle (PostgreSQL 15's cumulative statistics), so read this a little after the load stopped."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        row = conn.execute(
            "select xact_commit, xact_rollback from pg_stat_database where datname = %s", (database,)
        ).fetchone()
    return int(row[0]), int(row[1])


def wait_until_idle(admin_dsn: str, database: str, *, timeout: float = 300.0) -> float:
    """Wait until no query runs in `database` (but this one), and return how long that took. wrk stops sending when
    its run ends, but what it sent keeps the server busy, and slow requests (a search reading 200k rows) would
    otherwise run into the next scenario and void it. Raises TimeoutError after `timeout` seconds."""
    started = time.monotonic()
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        while True:
            (active,) = conn.execute(
                "select count(*) from pg_stat_activity where datname = %s and state <> 'idle'"
                " and pid <> pg_backend_pid()",
                (database,),
            ).fetchone()
            waited = time.monotonic() - started
            if active == 0:
                return waited
            if waited > timeout:
                raise TimeoutError(f"{active} queries still running in {database} after {timeout:.0f} s")
            time.sleep(0.2)


def wrk_version() -> str:
    result = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return (result.stdout + result.stderr).splitlines()[0].strip() if (result.stdout + result.stderr) else "?"


def run_wrk(
    url: str, scenario: str, data_file: Path, *, connections: int, threads: int, seconds: int, timeout: int
) -> dict:
    """One wrk run of a scenario of bench/wrk/bench.lua; wrk's summary as the script's done() printed it."""
    command = [
        "wrk",
        f"--threads={min(threads, connections)}",
        f"--connections={connections}",
        f"--duration={seconds}s",
        f"--timeout={timeout}s",
        f"--script={WRK_SCRIPT}",
        url,
        "--",
        str(data_file),
        scenario,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + timeout + 60, check=False)
    for line in result.stdout.splitlines():
        if line.startswith(WRK_MARKER):
            return json.loads(line[len(WRK_MARKER) :])
    raise RuntimeError(f"wrk printed no summary (status {result.returncode}):\n{result.stdout}\n{result.stderr}")
