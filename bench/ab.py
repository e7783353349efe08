"""Commits side by side in one run: what a change bought, as ratios (bench/README.md, "The request seam").

    .venv/bin/python -m bench.ab 73a8f92 HEAD [--connections 16] [--duration 8] [--repeats 3]

Checks each commit out in a worktree under .bench/trees/, serves each with `exitus serve` (one worker, as
`make bench` runs it) against the same seeded 10k database, and measures GET issue by id and GET /healthz with wrk,
interleaved: commit A's two runs, then B's, ..., repeated. Prints, per commit, the medians of req/s, p99 and the
server's CPU per request, and each commit's figures as ratios to the first commit's. Uses the current checkout's
virtual environment for every commit (a commit that needs other packages cannot be compared this way).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from bench import measure
from bench.run import Fixture, cluster_dir, exitus_settings, parse_options, seeded_database, write_data_file
from bench.stack import ROOT, ExitusProcess, exitus_env, traversable_tempdir, user_token
from exitus.dev.issuer import DevIssuer
from exitus.dev.postgres import LocalPostgres

SCENARIOS = ("get_issue", "healthz")
ISSUES = 10_000


def worktree(rev: str, trees: Path) -> tuple[str, Path]:
    """(the commit's short id, a checkout of it) — `HEAD` means this checkout as it is, uncommitted changes too."""
    if rev == "HEAD":
        return "HEAD", ROOT
    commit = subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    path = trees / commit
    if not path.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(path), commit], cwd=ROOT, check=True)
    return commit, path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.ab", description=__doc__.splitlines()[0])
    parser.add_argument("revs", nargs="+", help="commits to compare; the first is the reference; HEAD: this tree")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--issues", type=int, default=ISSUES, help="the seeded database's size (default 10000)")
    parser.add_argument("--dir", default=None, help="cluster, trees and seeded databases (.bench)")
    args = parser.parse_args(argv)
    where = ["--dir", args.dir] if args.dir else []
    options = parse_options(["--sizes", "10k", "--connections", str(args.connections), *where])
    workdir = options.workdir
    trees = workdir / "trees"
    trees.mkdir(parents=True, exist_ok=True)
    checkouts = [worktree(rev, trees) for rev in args.revs]
    postgres = LocalPostgres(cluster_dir(workdir))
    already_running = postgres.is_running()  # e.g. `make bench`'s: not ours to stop
    postgres.start()
    scratch = traversable_tempdir("exitus-ab-")
    issuer = DevIssuer(scratch / "issuer").start()
    servers: list[ExitusProcess] = []
    try:
        manifest = seeded_database(postgres, args.issues, reseed=False, log=print)
        database = f"seed_{args.issues}"
        url = postgres.url(database)
        env = exitus_env(url, issuer.url, **exitus_settings(options))
        for commit, path in checkouts:
            servers.append(ExitusProcess(env, scratch / f"exitus-{commit}.log", cwd=path).start())
        tokens = [user_token(issuer, manifest["customer_id"], sub) for sub in manifest["user_subs"][:8]]
        data = scratch / "data.lua"
        # Only what the two scenarios read: no reference server, no writes.
        project = manifest["project_id"]
        fixture = Fixture("ab", args.issues, database, manifest, servers[0], None, tokens, project, [], 0)  # type: ignore[arg-type]
        write_data_file(data, fixture, postgres, min(options.threads, args.connections))
        runs: dict[tuple[str, str], list[dict]] = {}
        for repeat in range(args.repeats):
            for (commit, _path), server in zip(checkouts, servers, strict=True):
                for scenario in SCENARIOS:
                    before = measure.process_tree(server.pid)
                    wrk = measure.run_wrk(
                        server.url, scenario, data, connections=args.connections,
                        threads=min(options.threads, args.connections), seconds=args.duration, timeout=30,
                    )  # fmt: skip
                    cpu = sum(measure.cpu_deltas(before, measure.process_tree(server.pid)).values())
                    errors = sum(wrk["errors"].values())
                    result = {
                        "rps": wrk["requests"] / (wrk["duration_us"] / 1e6),
                        "p99": wrk["latency_us"]["p99"] / 1000,
                        "cpu_ms": 1000 * cpu / max(wrk["requests"], 1),
                        "errors": errors,
                    }
                    runs.setdefault((commit, scenario), []).append(result)
                    print(f"#{repeat} {commit:>8} {scenario:<9} {result['rps']:7.1f} req/s  p99 {result['p99']:7.1f} ms"
                          f"  cpu {result['cpu_ms']:.2f} ms/req  errors {errors}", flush=True)  # fmt: skip
        report(checkouts, runs)
        return 1 if any(r["errors"] for rs in runs.values() for r in rs) else 0
    finally:
        for server in servers:
            server.stop()
        issuer.stop()
        if not already_running:
            postgres.stop()


def report(checkouts: list[tuple[str, Path]], runs: dict[tuple[str, str], list[dict]]) -> None:
    def median(commit: str, scenario: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[commit, scenario])

    first = checkouts[0][0]
    print(
        "\n| commit | GET issue req/s | /healthz req/s | GET / healthz | CPU ms per GET | CPU per GET vs first", end=""
    )
    print(" | p99 GET ms |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for commit, _path in checkouts:
        get, health = median(commit, "get_issue", "rps"), median(commit, "healthz", "rps")
        cpu = median(commit, "get_issue", "cpu_ms")
        print(
            f"| {commit} | {get:.0f} | {health:.0f} | {get / health:.2f} | {cpu:.2f} | "
            f"{cpu / median(first, 'get_issue', 'cpu_ms'):.2f} | {median(commit, 'get_issue', 'p99'):.0f} |"
        )


if __name__ == "__main__":
    sys.exit(main())
