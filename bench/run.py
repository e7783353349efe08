"""`make bench`: exitus under load, beside a bare Flask reference and its own /healthz, at several data sizes.

    .venv/bin/python -m bench.run [--sizes 10k,100k,1m] [--connections 16,64] [--duration 5] [--repeats 3] ...

For each data size it reuses (or seeds, once) a database in a PostgreSQL cluster of its own under `.bench/`, starts
`exitus serve` as deployed (uvicorn, WEB_CONCURRENCY workers, JSON logs at INFO, metrics and tracing on, response
validation off) and the reference (bench/reference.py under gunicorn, same process count and pool size), mints real
tokens of seeded users from the dev issuer, and drives both with wrk from a separate process on loopback
(bench/wrk/bench.lua). Each repeat runs every scenario at every connection count, the reference, exitus's
GET issue and /healthz back to back, so the ratios compare neighbours in time. Writes results.json, summary.md and
plots to .bench/results/<time>/ (bench/report.py) and prints the directory. Exit status 1 if any result is void
(a non-2xx answer or a socket error): such a result is reported, never silently dropped. bench/README.md explains
the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

from bench import measure, report
from bench.seed import seed
from bench.stack import INHERITED_VARIABLES, ROOT, ExitusProcess, exitus_env, traversable_tempdir, user_token
from exitus import migrations
from exitus.dev.issuer import DevIssuer
from exitus.dev.postgres import LocalPostgres, free_port

DEFAULT_DIR = ROOT / ".bench"
SIZE_WORDS = {"k": 1_000, "m": 1_000_000}
TOKENS = 64  # distinct seeded users whose tokens the requests draw from
DEEP_OFFSET = 5000
NEW_ISSUE = {"subject": "Bench", "content": "Made by the benchmark", "severity": "low", "category": "task"}


@dataclass(frozen=True)
class Scenario:
    name: str
    target: str  # "exitus" or "reference"
    lua: str  # the scenario of bench/wrk/bench.lua
    title: str


# In the order of a repeat: the three compared for the ratios first, back to back.
SCENARIOS = (
    Scenario("reference", "reference", "get_issue", "reference: bare Flask + psycopg_pool, GET issue by id"),
    Scenario("get_issue", "exitus", "get_issue", "GET issue by id"),
    Scenario("healthz", "exitus", "healthz", "GET /healthz"),
    Scenario("list_first", "exitus", "list_first", "GET issues, first page (limit 50)"),
    Scenario("list_deep", "exitus", "list_deep", "GET issues, deep page (offset 5000, limit 50)"),
    Scenario("search_rare", "exitus", "search_rare", "GET issues?q=<rare term>"),
    Scenario("search_common", "exitus", "search_common", "GET issues?q=<common term>"),
    Scenario("post_issue", "exitus", "post_issue", "POST issue"),
    Scenario("post_issue_keyed", "exitus", "post_issue_keyed", "POST issue with a new Idempotency-Key"),
    Scenario("put_issue", "exitus", "put_issue", "PUT issue (current version)"),
    Scenario("post_comment", "exitus", "post_comment", "POST comment"),
    Scenario("mix", "exitus", "mix", "mix: 90 % reads, 10 % writes"),
)
SCENARIO_NAMES = tuple(s.name for s in SCENARIOS)


@dataclass
class Options:
    sizes: list[tuple[str, int]]
    connections: list[int]
    duration: int = 5
    warmup: int = 2
    repeats: int = 3
    workers: int = 1
    pool_size: int = 10
    threads: int = 2
    timeout: int = 30
    stats_wait: float = 11.0  # see transaction_pass
    scenarios: list[str] = field(default_factory=lambda: list(SCENARIO_NAMES))
    workdir: Path = DEFAULT_DIR
    results: Path | None = None
    reseed: bool = False


def libpq_url(url: str) -> str:
    """exitus's SQLAlchemy URL as libpq takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def parse_size(text: str) -> tuple[str, int]:
    match = re.fullmatch(r"(\d+)([kKmM]?)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 10k, 1m, 2500)")
    number = int(match.group(1)) * SIZE_WORDS.get(match.group(2).lower(), 1)
    if number < 100:
        raise argparse.ArgumentTypeError(f"too few issues: {number} (at least 100)")
    return text.strip().lower(), number


def _csv(convert: Callable[[str], object]) -> Callable[[str], list]:
    return lambda text: [convert(part) for part in text.split(",") if part.strip()]


def _scenario(name: str) -> str:
    if name not in SCENARIO_NAMES:
        raise argparse.ArgumentTypeError(f"unknown scenario {name!r}; known: {', '.join(SCENARIO_NAMES)}")
    return name


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=_csv(parse_size), default="10k,100k,1m", help="issues: 10k,100k,1m")
    parser.add_argument("--connections", type=_csv(int), default="16,64", help="wrk connections: 16,64")
    parser.add_argument("--duration", type=int, default=5, help="seconds per measured run (default 5)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load per scenario and size")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats; figures are their medians")
    parser.add_argument("--workers", type=int, default=1, help="WEB_CONCURRENCY, and the reference's workers")
    parser.add_argument("--pool-size", type=int, default=10, help="DB_POOL_SIZE; the reference's pool and threads")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--timeout", type=int, default=30, help="wrk's request timeout, seconds")
    parser.add_argument(
        "--stats-wait", type=float, default=11.0, help="transactions per request: seconds to wait (0: not measured)"
    )
    parser.add_argument("--scenarios", type=_csv(_scenario), default=",".join(SCENARIO_NAMES))
    parser.add_argument("--dir", dest="workdir", type=Path, default=DEFAULT_DIR, help="cluster and results (.bench)")
    parser.add_argument("--results", type=Path, help="results directory (default <dir>/results/<time>)")
    parser.add_argument("--reseed", action="store_true", help="seed again even if a seeded database exists")
    args = parser.parse_args(argv)
    if min(args.connections, default=0) < 1 or args.duration < 1 or args.repeats < 1 or not args.sizes:
        parser.error("connections, duration and repeats must be positive, and at least one size given")
    return Options(**{f.name: getattr(args, f.name) for f in dataclasses.fields(Options)})


# ---------------------------------------------------------------------------------------------------------- seeding


def database_name(issues: int) -> str:
    return f"seed_{issues}"  # as bench/datasize.py names it: the two share the cluster and its seeded databases


def seeded_database(postgres: LocalPostgres, issues: int, *, reseed: bool, log: Callable[[str], None]) -> dict:
    """The manifest of a database holding `issues` seeded issues (bench/seed.py), seeded now unless an earlier run
    did. Its manifest file, beside the cluster, is written last: an interrupted seeding is redone. A reused database
    gets the migrations added since, and ANALYZE if there were any (new statistics objects are empty until then)."""
    database = database_name(issues)
    manifest_file = postgres.datadir.parent / f"manifest-{issues}.json"
    admin = postgres.libpq_dsn(database, "postgres")
    if not reseed and manifest_file.exists() and _database_exists(postgres, database):
        # create_database: an existing database is kept, but its owner gets what the migrations need (CREATEROLE).
        if migrations.up(postgres.create_database(database)):
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute("analyze")
        log(f"{issues} issues: reusing the seeded database {database}")
        return json.loads(manifest_file.read_text())
    log(f"{issues} issues: seeding {database} ...")
    started = time.monotonic()
    manifest_file.unlink(missing_ok=True)
    postgres.drop_database(database)
    url = postgres.create_database(database)
    manifest = seed(url, issues)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("analyze")  # whatever the seeding did: the planner must know the data
    manifest_file.write_text(json.dumps(dataclasses.asdict(manifest), indent=2))
    log(f"{issues} issues: seeded in {time.monotonic() - started:.0f} s")
    return dataclasses.asdict(manifest)


def _database_exists(postgres: LocalPostgres, database: str) -> bool:
    with psycopg.connect(postgres.libpq_dsn("postgres", "postgres"), autocommit=True) as conn:
        return conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone() is not None


# ---------------------------------------------------------------------------------------------------------- servers


class ReferenceProcess(ExitusProcess):
    """bench/reference.py under gunicorn: gthread workers with as many threads as pool connections. Ready when it
    answers `probe_path` (an issue of the measured project) with 200."""

    name = "the reference"

    def __init__(
        self, database_url: str, customer_id: str, *, workers: int, pool_size: int, log_path: Path, probe_path: str
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.probe_path = probe_path
        self.command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--worker-class=gthread",
            f"--workers={workers}",
            f"--threads={pool_size}",
            f"--bind=127.0.0.1:{self.port}",
            "--keep-alive=75",  # as exitus's KEEP_ALIVE_TIMEOUT_SECONDS
            "--backlog=2048",
            "bench.reference:create_app()",
        ]
        self.env = {
            **{name: os.environ[name] for name in INHERITED_VARIABLES if name in os.environ},
            "REFERENCE_DATABASE": libpq_url(database_url),
            "REFERENCE_CUSTOMER_ID": customer_id,
            "REFERENCE_POOL_SIZE": str(pool_size),
        }
        self.popen = None


def exitus_settings(options: Options) -> dict[str, str | int]:
    """`exitus serve` as deployed: JSON logs at INFO (any STAGE but `local`), metrics on the API port, tracing as
    configured (spans made; exported only if OTEL_* variables in this environment ask). No shutdown drain: the
    harness stops it between sizes, with no load balancer to tell."""
    otel = {name: value for name, value in os.environ.items() if name.startswith("OTEL_")}
    return {
        "STAGE": "bench",
        "LOG_LEVEL": "INFO",
        "WEB_CONCURRENCY": options.workers,
        "DB_POOL_SIZE": options.pool_size,
        "SHUTDOWN_DRAIN_SECONDS": 0,
        **otel,
    }


@dataclass
class Fixture:
    """What a size's runs share: servers, the data file's fixed part, the PUT/comment issues."""

    label: str
    issues: int
    database: str
    manifest: dict
    exitus: ExitusProcess
    reference: ReferenceProcess
    tokens: list[str]
    write_project: str
    put_issues: list[str]
    deep_offset: int


def _write_fixture(url: str, manifest: dict, tokens: list[str], put_count: int) -> tuple[str, list[str]]:
    """A project of the measured customer that takes every write (so the measured project stays as seeded), and
    issues in it for PUT and POST comment, made through the API."""
    headers = {"Authorization": f"Bearer {tokens[0]}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        response = client.post("/v1/projects", json={"name": f"bench writes {time.time_ns()}", "labels": []})
        response.raise_for_status()
        project = response.json()["id"]
        issues = []
        for _ in range(put_count):
            response = client.post(f"/v1/projects/{project}/issues", json={**NEW_ISSUE, "labels": []})
            response.raise_for_status()
            issues.append(response.json()["id"])
    return project, issues


def _lua(value: object) -> str:
    """A Lua literal of strings, numbers, lists and string-keyed tables (ASCII data only)."""
    if isinstance(value, str):
        if not value.isascii():
            raise ValueError(f"non-ASCII value for the wrk script: {value!r}")
        return json.dumps(value)  # JSON's escapes of ASCII text are Lua's
    if isinstance(value, bool) or value is None:
        raise TypeError(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "{" + ",".join(_lua(v) for v in value) + "}"
    if isinstance(value, dict):
        return "{" + ",".join(f"[{_lua(k)}]={_lua(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def write_data_file(path: Path, fixture: Fixture, postgres: LocalPostgres, threads: int) -> None:
    """The wrk script's data (bench/wrk/bench.lua), with the PUT issues' versions as they are now."""
    with psycopg.connect(postgres.libpq_dsn(fixture.database, "postgres")) as conn:  # superuser: past RLS
        versions = dict(
            conn.execute(
                "select id::text, version from issues where project_id = %s", (fixture.write_project,)
            ).fetchall()
        )
    data = {
        "tokens": fixture.tokens,
        "project": fixture.manifest["project_id"],
        "issue_ids": fixture.manifest["issue_ids"],
        "write_project": fixture.write_project,
        "put_issues": [[issue, versions[issue]] for issue in fixture.put_issues],
        "rare": fixture.manifest["rare_term"],
        "common": fixture.manifest["common_term"],
        "deep_offset": fixture.deep_offset,
        "threads": threads,
    }
    path.write_text("return " + _lua(data) + "\n")


@contextlib.contextmanager
def size_fixture(
    postgres: LocalPostgres, issuer: DevIssuer, label: str, issues: int, options: Options, logs: Path, log
) -> Iterator[Fixture]:
    manifest = seeded_database(postgres, issues, reseed=options.reseed, log=log)
    database = database_name(issues)
    url = postgres.url(database)
    probe = f"/v1/projects/{manifest['project_id']}/issues/{manifest['issue_ids'][0]}"
    exitus = ExitusProcess(exitus_env(url, issuer.url, **exitus_settings(options)), logs / f"exitus-{label}.log")
    reference = ReferenceProcess(
        url, manifest["customer_id"], workers=options.workers, pool_size=options.pool_size,
        log_path=logs / f"reference-{label}.log", probe_path=probe,
    )  # fmt: skip
    try:
        exitus.start()
        reference.start()
        ttl = 6 * 3600 + len(options.sizes) * 3600
        subs = manifest["user_subs"][:TOKENS]
        tokens = [user_token(issuer, manifest["customer_id"], sub, ttl_seconds=ttl) for sub in subs]
        put_count = max(8, 2 * max(options.connections))  # a thread always has one of its own not in flight
        write_project, put_issues = _write_fixture(exitus.url, manifest, tokens, put_count)
        deep_offset = max(0, min(DEEP_OFFSET, manifest["issues_in_project"] - 50))
        yield Fixture(
            label, issues, database, manifest, exitus, reference, tokens, write_project, put_issues, deep_offset
        )
    finally:
        reference.stop()
        status = exitus.stop()
        if status != 0:
            log(f"exitus exited with {status}; its log: {exitus.log_path}")


# ---------------------------------------------------------------------------------------------------------- runs


@dataclass
class Runner:
    options: Options
    postgres: LocalPostgres
    database: str
    scratch: Path
    log: Callable[[str], None]

    def measure(
        self,
        fixture: Fixture,
        scenario: Scenario,
        connections: int,
        seconds: int,
        *,
        before: Callable[[], None] = lambda: None,
    ) -> dict:
        """One wrk run; `before` is called right before it starts (after the data file is written)."""
        server = fixture.exitus if scenario.target == "exitus" else fixture.reference
        threads = min(self.options.threads, connections)
        data_file = self.scratch / "data.lua"
        write_data_file(data_file, fixture, self.postgres, threads)
        postmaster = measure.postmaster_pid(self.postgres.datadir)
        waited = measure.wait_until_idle(self.postgres.libpq_dsn(fixture.database, "postgres"), fixture.database)
        if waited > 1:
            self.log(f"  waited {waited:.0f} s for the previous run's requests to finish")
        before()
        server_before = measure.process_tree(server.pid)
        postgres_before = measure.process_tree(postmaster)
        wrk_before = measure.children_cpu_seconds()
        wrk = measure.run_wrk(
            server.url, scenario.lua, data_file,
            connections=connections, threads=threads, seconds=seconds, timeout=self.options.timeout,
        )  # fmt: skip
        wrk_cpu = measure.children_cpu_seconds() - wrk_before
        server_after = measure.process_tree(server.pid)
        postgres_after = measure.process_tree(postmaster)
        requests = wrk["requests"]
        per_request = 1000 / requests if requests else 0.0  # seconds -> ms per request
        server_cpu = measure.cpu_deltas(server_before, server_after)
        errors = wrk["errors"]
        void = [f"{name} errors: {count}" for name, count in errors.items() if count]
        if wrk["put_unmatched"] or wrk["put_starved"]:
            void.append(f"PUT bookkeeping: {wrk['put_unmatched']} unmatched, {wrk['put_starved']} starved")
        if requests == 0:
            void.append("no request completed")
        if not (server.popen is not None and server.popen.poll() is None):
            void.append(f"the {scenario.target} server died")
        latency = {k: v / 1000 for k, v in wrk["latency_us"].items()}  # ms
        return {
            "scenario": scenario.name,
            "target": scenario.target,
            "connections": connections,
            "requests": requests,
            "seconds": wrk["duration_us"] / 1e6,
            "requests_per_second": requests / (wrk["duration_us"] / 1e6) if wrk["duration_us"] else 0.0,
            "latency_ms": latency,
            "errors": errors,
            "void": void,
            "server_cpu_ms_per_request": sum(server_cpu.values()) * per_request,
            "server_processes": [
                {
                    "pid": pid,
                    "name": server_after[pid].name,
                    "role": "main" if pid == server.pid else "child",
                    "cpu_ms_per_request": seconds_used * per_request,
                    "rss_mib": server_after[pid].rss_bytes / 2**20,
                }
                for pid, seconds_used in sorted(server_cpu.items())
            ],
            "server_max_rss_mib": max((s.rss_bytes for s in server_after.values()), default=0) / 2**20,
            "postgres_cpu_ms_per_request": sum(measure.cpu_deltas(postgres_before, postgres_after).values())
            * per_request,
            "wrk_cpu_ms_per_request": wrk_cpu * per_request,
        }


def run_size(
    postgres: LocalPostgres,
    issuer: DevIssuer,
    label: str,
    issues: int,
    options: Options,
    out: Path,
    scratch: Path,
    log,
    *,
    count_transactions: bool,
) -> dict:
    scenarios = [s for s in SCENARIOS if s.name in options.scenarios]
    runs = []
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with size_fixture(postgres, issuer, label, issues, options, logs, log) as fixture:
        runner = Runner(options, postgres, fixture.database, scratch, log)
        log(f"{label}: exitus pid {fixture.exitus.pid} ({fixture.exitus.url}), reference pid {fixture.reference.pid}")
        transactions = warm_up(runner, fixture, scenarios, count_transactions=count_transactions)
        for repeat in range(options.repeats):
            for connections in options.connections:
                for scenario in scenarios:
                    result = runner.measure(fixture, scenario, connections, options.duration)
                    result["repeat"] = repeat
                    runs.append(result)
                    _truncate_if_large(fixture.exitus.log_path)
                    log(_one_line(label, result))
        manifest = {k: v for k, v in fixture.manifest.items() if k != "issue_ids"}
        return {
            "label": label,
            "issues": issues,
            "database": fixture.database,
            "manifest": {**manifest, "issue_ids_sampled": len(fixture.manifest["issue_ids"])},
            "deep_offset": fixture.deep_offset,
            "tokens": len(fixture.tokens),
            "put_issues": len(fixture.put_issues),
            "runs": runs,
            "transactions": transactions,
        }


def warm_up(runner: Runner, fixture: Fixture, scenarios: list[Scenario], *, count_transactions: bool) -> list[dict]:
    """An unmeasured run of each scenario (--warmup seconds at the lowest connection count). With
    `count_transactions`, also the transaction pass: PostgreSQL's committed and rolled-back transactions in the
    database per request of each scenario, from pg_stat_database. Backends report those counters late (PostgreSQL 15
    defers an idle backend's report by up to 10 s), so after each scenario the pass waits --stats-wait seconds before
    reading, with nothing else running; the counts are thus not taken in the measured runs, and only at the first size
    (they depend on the code path, not on the data)."""
    options = runner.options
    if not options.warmup:
        return []
    count_transactions = count_transactions and options.stats_wait > 0
    runner.log(
        f"{fixture.label}: warm-up, {options.warmup} s per scenario"
        + (f", counting transactions ({options.stats_wait:.0f} s wait each)" if count_transactions else "")
    )
    admin = runner.postgres.libpq_dsn("postgres", "postgres")
    connections = min(options.connections)
    counts = []
    if count_transactions:
        time.sleep(options.stats_wait)  # what came before (the write fixture's requests) is reported by now
    for scenario in scenarios:
        before: list[tuple[int, int]] = []

        def read_counts(into: list = before) -> None:
            if count_transactions:
                into.append(measure.transaction_counts(admin, fixture.database))

        warm = runner.measure(fixture, scenario, connections, options.warmup, before=read_counts)
        if warm["void"]:
            runner.log(f"  warm-up {scenario.name}: VOID: {'; '.join(warm['void'])}")
        if count_transactions:
            time.sleep(options.stats_wait)
            after = measure.transaction_counts(admin, fixture.database)
            requests = warm["requests"]
            before = before[0]
            counts.append(
                {
                    "scenario": scenario.name,
                    "connections": connections,
                    "requests": requests,
                    "void": warm["void"],
                    "commits": after[0] - before[0],
                    "rollbacks": after[1] - before[1],
                    "commits_per_request": (after[0] - before[0]) / requests if requests else None,
                    "rollbacks_per_request": (after[1] - before[1]) / requests if requests else None,
                }
            )
            runner.log(
                f"  {scenario.name}: {counts[-1]['commits_per_request'] or 0:.2f} commits, "
                f"{counts[-1]['rollbacks_per_request'] or 0:.2f} rollbacks per request"
            )
    return counts


def _truncate_if_large(path: Path, limit: int = 64 * 2**20) -> None:
    """exitus logs a line per request; kept whole, a long run's log would fill the disk. It appends (O_APPEND), so
    truncating under it is safe."""
    with contextlib.suppress(FileNotFoundError):
        if path.stat().st_size > limit:
            os.truncate(path, 0)


def _one_line(label: str, r: dict) -> str:
    lat = r["latency_ms"]
    text = (
        f"{label} c={r['connections']:<3} #{r['repeat']} {r['scenario']:<14} {r['requests_per_second']:8.1f} req/s"
        f"  p50 {lat['p50']:7.2f}  p99 {lat['p99']:8.2f} ms  cpu {r['server_cpu_ms_per_request']:.2f} ms/req"
    )
    return text + (f"  VOID: {'; '.join(r['void'])}" if r["void"] else "")


# ---------------------------------------------------------------------------------------------------------- main


def _postgres_can_enter(path: Path) -> bool:
    """Whether PostgreSQL, run as the `postgres` user when we are root, can reach a directory under `path`."""
    return os.geteuid() != 0 or all(d.stat().st_mode & 0o001 for d in [path, *path.parents] if d.exists())


def cluster_dir(workdir: Path) -> Path:
    """Where the benchmark's cluster lives: `<workdir>/pg` (shared with bench/datasize.py), unless we are root and the
    `postgres` user cannot enter the work directory's parents (a clone under /root): then a directory of this
    clone's own under /var/tmp, kept between runs. Seeded databases' manifests live beside the cluster."""
    workdir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        workdir.chmod(0o755)
    if _postgres_can_enter(workdir):
        return workdir / "pg"
    digest = hashlib.sha256(str(workdir.resolve()).encode()).hexdigest()[:12]
    fallback = Path("/var/tmp") / f"exitus-bench-{digest}"
    fallback.mkdir(exist_ok=True)
    fallback.chmod(0o755)
    return fallback / "pg"


def machine_facts(postgres: LocalPostgres) -> dict:
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=False)
    with psycopg.connect(postgres.libpq_dsn("postgres", "postgres")) as conn:
        server_version = conn.execute("show server_version").fetchone()[0]
    return {
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": commit.stdout.strip() or None,
        "uncommitted_changes": bool(dirty.stdout.strip()),
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "postgresql": server_version,
        "wrk": measure.wrk_version(),
        "user_is_root": os.geteuid() == 0,
    }


def run_bench(
    options: Options, *, stack: tuple[LocalPostgres, DevIssuer] | None = None, log: Callable[[str], None] = print
) -> Path:
    """The whole benchmark; returns the results directory. `stack`: a running cluster and issuer to use (tests)."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (Debian/Ubuntu: apt-get install wrk)")
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = options.results or options.workdir / "results" / stamp
    out.mkdir(parents=True, exist_ok=True)
    scratch = traversable_tempdir("exitus-bench-")
    try:
        with contextlib.ExitStack() as stack_exit:
            if stack is None:
                postgres = LocalPostgres(cluster_dir(options.workdir)).start()
                stack_exit.callback(postgres.stop)
                issuer = DevIssuer(options.workdir / "issuer").start()
                stack_exit.callback(issuer.stop)
            else:
                postgres, issuer = stack
            facts = machine_facts(postgres)
            log(f"bench: results in {out}; cluster {postgres.datadir}")
            sizes = []
            for number, (label, issues) in enumerate(options.sizes):
                sizes.append(
                    run_size(
                        postgres, issuer, label, issues, options, out, scratch, log, count_transactions=number == 0
                    )
                )
                facts["load_average_after_" + label] = os.getloadavg()
        settings = {**dataclasses.asdict(options), "workdir": str(options.workdir), "results": str(out)}
        settings["scenario_order"] = list(SCENARIO_NAMES)
        settings["command"] = "python -m bench.run " + shlex.join(sys.argv[1:]) if stack is None else "run_bench()"
        results = report.build(settings, facts, sizes)
        report.write(results, out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    out = run_bench(options)
    results = json.loads((out / report.RESULTS_FILE).read_text())
    print((out / report.SUMMARY_FILE).read_text())
    print(f"bench: report in {out}")
    if results["void"]:
        print(f"bench: {len(results['void'])} VOID result(s): see the top of {out / report.SUMMARY_FILE}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
