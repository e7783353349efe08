"""Data size: do list, search and deep-page latencies grow with the table? p50 per database size, as ratios.

    .venv/bin/python -m bench.datasize [--sizes 10000,100000,1000000] [--workdir .bench] [--repeats 50] [--http]

Keeps one PostgreSQL cluster in `--workdir` (git-ignored `.bench/` by default) with one database per size, seeded
once by bench/seed.py (its manifest saved beside it) and reused on later runs. For each size it runs the named list
queries exactly as queries/*.sql has them (through psycopg with bound parameters, in a transaction with the
customer bound, as the service runs them) and reports their p50; with `--http`, also the same lists through
`exitus serve` (sequential requests with a real token of a seeded user). EXPLAIN (ANALYZE, BUFFERS) of every
statement goes to `<workdir>/plans-<size><suffix>.txt`. Figures are ratios to the smallest size, from one run, in
which the sizes are interleaved: each repeat of a scenario runs it once at every size (one server per size, all
started). `--database-suffix` measures copies `seed_<size><suffix>` instead; several (`--database-suffix ,_new`:
the seeded databases and their copies with `_new`, e.g. migrated further) are interleaved in the same way, as a
before and after of the same run, and also reported as ratios to the first suffix at each size.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx
import psycopg
import pugsql

from bench.seed import Manifest, libpq_url, seed
from bench.stack import ExitusProcess, exitus_env, user_token
from exitus.api.issues import SEARCH_CAP
from exitus.db import like_pattern
from exitus.dev.issuer import DevIssuer
from exitus.dev.postgres import LocalPostgres
from exitus.resources import QUERIES_DIR

NO_VOTER = "00000000-0000-0000-0000-000000000000"
DEEP_OFFSET = 1500  # a deep page that exists at every size (the measured project of 10k issues holds 2000)


def named_statements(queries_dir: Path = QUERIES_DIR) -> dict[str, str]:
    """The named queries' SQL with pugsql's :name parameters as psycopg's %(name)s."""
    module = pugsql.module(str(queries_dir))
    return {s.name: re.sub(r"(?<!:):(\w+)", r"%(\1)s", s.sql.replace("%", "%%")) for s in module}


# list_issues' filters, sort and keyset parameters, unset (queries/issues.sql).
ISSUE_LIST_DEFAULTS = {
    **dict.fromkeys(("states", "severities", "categories", "labels", "assignee", "reporter", "ids", "pattern")),
    **dict.fromkeys(("created_after", "created_before", "updated_after", "updated_before")),
    **dict.fromkeys(("after_time", "after_rank", "after_id")),
    "unassigned": False,
    "sort": "created",
}
# The other lists' (projects, users, comments) filters and keyset parameters, unset.
LIST_DEFAULTS = dict.fromkeys(("created_after", "created_before", "after_time", "after_id"))


def issue_list(m: Manifest, **given) -> dict:
    """list_issues' parameters for the first page of the measured project, with `given` ones instead."""
    # `user_id`: whose votes the issue lists show (`voted`); a user who voted for nothing costs the same probe
    return {**ISSUE_LIST_DEFAULTS, "customer_id": m.customer_id, "project_id": m.project_id, "limit": 50,
            "offset": 0, "user_id": NO_VOTER, **given}  # fmt: skip


def scenarios(m: Manifest) -> dict[str, tuple[str, dict, str]]:
    """name -> (query name, parameters, HTTP path with query string)."""
    issues = f"/v1/projects/{m.project_id}/issues"
    comments = f"{issues}/{m.commented_issue_ids[0]}/comments"
    scope = issue_list(m)
    del scope["offset"]
    return {
        "issues first page": ("list_issues", {**scope, "pattern": None, "offset": 0}, issues),
        f"issues offset {DEEP_OFFSET}": (
            "list_issues",
            {**scope, "pattern": None, "offset": DEEP_OFFSET},
            f"{issues}?offset={DEEP_OFFSET}",
        ),
        "issues offset 5000": ("list_issues", {**scope, "pattern": None, "offset": 5000}, f"{issues}?offset=5000"),
        "issues q rare": (
            "list_issues",
            {**scope, "pattern": like_pattern(m.rare_term), "offset": 0},
            f"{issues}?q={m.rare_term}",
        ),
        "issues q rare, a project a tenth the size": (
            "list_issues",
            {**scope, "project_id": m.other_project_ids[0], "pattern": like_pattern(m.rare_term), "offset": 0},
            f"/v1/projects/{m.other_project_ids[0]}/issues?q={m.rare_term}",
        ),
        "issues q common": (
            "list_issues",
            {**scope, "pattern": like_pattern(m.common_term), "offset": 0},
            f"{issues}?q={m.common_term}",
        ),
        "comments q common": (
            "list_comments",
            {
                **LIST_DEFAULTS,
                "customer_id": m.customer_id,
                "project_id": m.project_id,
                "issue_id": m.commented_issue_ids[0],
                "pattern": like_pattern(m.common_term),
                "limit": 50,
                "offset": 0,
            },
            f"{comments}?q={m.common_term}",
        ),
        "projects q": (
            "list_projects",
            {**LIST_DEFAULTS, "customer_id": m.customer_id, "pattern": like_pattern("zzz"), "limit": 50, "offset": 0},
            "/v1/projects?q=zzz",
        ),
        "users q": (
            "list_users",
            {
                **LIST_DEFAULTS,
                "customer_id": m.customer_id,
                "pattern": like_pattern("seed-0-1"),
                "limit": 50,
                "offset": 0,
            },
            "/v1/users?q=seed-0-1",
        ),
    }


def p50s(runs: dict[int, Callable[[], object]], repeats: int, warmup: int = 3) -> dict[int, float]:
    """Each run's p50 (ms), the runs interleaved: every repeat runs each once, in an order rotated by one each
    repeat, so whatever else the machine does meanwhile falls on every size alike."""
    for run in runs.values():
        for _ in range(warmup):
            run()
    keys = list(runs)
    times: dict[int, list[float]] = {key: [] for key in keys}
    for repeat in range(repeats):
        shift = repeat % len(keys)
        for key in keys[shift:] + keys[:shift]:
            started = time.perf_counter()
            runs[key]()
            times[key].append(time.perf_counter() - started)
    return {key: statistics.median(t) * 1000 for key, t in times.items()}


def searched(conn: psycopg.Connection, statements: dict[str, str], query: str, params: dict) -> dict:
    """list_issues' parameters as exitus/api/issues.py makes them for a search: the ids the search index finds
    (search_issues), unless the term is frequent. Unchanged for other queries, or queries/ without search_issues."""
    if query != "list_issues" or params.get("pattern") is None or "search_issues" not in statements:
        return params
    return {**params, "ids": conn.execute(statements["search_issues"], {**params, "cap": SEARCH_CAP}).fetchone()[0]}


# A measured database: (size, suffix of its name: "" for the seeded one, or a copy's).
Key = tuple[int, str]


def measure_sql(
    databases: dict[Key, tuple[str, Manifest]], repeats: int, plans: Callable[[Key], Path], queries_dir: Path
) -> dict[Key, dict[str, float]]:
    """database -> scenario -> p50 (ms), the databases interleaved; each one's plans to `plans(key)`."""
    statements = named_statements(queries_dir)
    results: dict[Key, dict[str, float]] = {key: {} for key in databases}
    # prepare_threshold=None: each execution is planned with its parameters (a custom plan), as a fresh pooled
    # connection does; the generic-plan case is measured separately (explain_generic).
    conns = {size: psycopg.connect(libpq_url(url), prepare_threshold=None) for size, (url, _m) in databases.items()}
    try:
        names = list(scenarios(next(iter(databases.values()))[1]))
        for name in names:

            def run(size: Key, name: str = name) -> list:
                conn, manifest = conns[size], databases[size][1]
                query, params, _path = scenarios(manifest)[name]
                with conn.transaction():
                    conn.execute("select set_config('exitus.customer_id', %s, true)", (manifest.customer_id,))
                    return conn.execute(statements[query], searched(conn, statements, query, params)).fetchall()

            for size, p in p50s({size: partial(run, size) for size in databases}, repeats).items():
                results[size][name] = p
        for size, (_url, manifest) in databases.items():
            conn = conns[size]
            with open(plans(size), "w") as out:
                for name, (query, params, _path) in scenarios(manifest).items():
                    with conn.transaction():
                        conn.execute("select set_config('exitus.customer_id', %s, true)", (manifest.customer_id,))
                        params = searched(conn, statements, query, params)
                        plan = conn.execute("explain (analyze, buffers) " + statements[query], params).fetchall()
                        rows = len(conn.execute(statements[query], params).fetchall())
                    out.write(f"== {name} ({rows} rows, p50 {results[size][name]:.2f} ms)\n")
                    out.write("\n".join(r[0] for r in plan) + "\n\n")
    finally:
        for conn in conns.values():
            conn.close()
    return results


def measure_http(
    databases: dict[Key, tuple[str, Manifest]], repeats: int, workdir: Path, issuer: DevIssuer, workers: int = 1
) -> dict[Key, dict[str, float]]:
    """database -> scenario -> p50 (ms) through one `exitus serve` per database, all running, interleaved."""
    servers = {
        key: ExitusProcess(
            exitus_env(url, issuer.url, WEB_CONCURRENCY=workers), workdir / f"exitus-{key[0]}{key[1]}.log"
        )
        for key, (url, _m) in databases.items()
    }
    clients: dict[Key, httpx.Client] = {}
    try:
        for size, server in servers.items():
            server.start()
            manifest = databases[size][1]
            token = user_token(issuer, manifest.customer_id, manifest.user_subs[0])
            clients[size] = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        results: dict[Key, dict[str, float]] = {key: {} for key in databases}
        for name in scenarios(next(iter(databases.values()))[1]):

            def get(size: Key, name: str = name) -> None:
                path = scenarios(databases[size][1])[name][2]
                response = clients[size].get(path)
                if response.status_code != 200:
                    raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:200]}")

            for size, p in p50s({size: partial(get, size) for size in databases}, repeats).items():
                results[size][name] = p
        return results
    finally:
        for client in clients.values():
            client.close()
        for server in servers.values():
            server.stop()


def seeded_database(postgres: LocalPostgres, workdir: Path, size: int) -> tuple[str, Manifest]:
    """The database of this size, seeded on first use; its manifest is kept beside the cluster."""
    name = f"seed_{size}"
    manifest_file = workdir / f"manifest-{size}.json"
    if manifest_file.exists():
        return postgres.url(name), Manifest.from_json(manifest_file.read_text())
    postgres.drop_database(name)  # a half-seeded leftover of an interrupted run
    url = postgres.create_database(name)
    manifest = seed(url, size)
    manifest_file.write_text(manifest.to_json())
    return url, manifest


def table(results: dict[int, dict[str, float]], title: str) -> str:
    sizes = sorted(results)
    base = sizes[0]
    lines = [
        f"### {title}",
        "",
        "| scenario | "
        + " | ".join(f"p50 {s:,} (ms)" for s in sizes)
        + " | "
        + " | ".join(f"{s:,}/{base:,}" for s in sizes[1:])
        + " |",
        "| --- " * (2 * len(sizes)) + "|",
    ]
    for name in results[base]:
        p = [results[s][name] for s in sizes]
        lines.append(
            f"| {name} | "
            + " | ".join(f"{v:.2f}" for v in p)
            + " | "
            + " | ".join(f"{v / p[0]:.2f}" for v in p[1:])
            + " |"
        )
    return "\n".join(lines)


def tables(results: dict[Key, dict[str, float]], title: str) -> str:
    """One table per suffix; with several, the p50 of each suffix over the first's at each size too."""
    suffixes = list(dict.fromkeys(suffix for _size, suffix in results))
    parts = [
        table({size: r for (size, s), r in results.items() if s == suffix}, f"{title}, seed_<size>{suffix}")
        for suffix in suffixes
    ]
    if len(suffixes) > 1:
        first, sizes = suffixes[0], sorted({size for size, _s in results})
        columns = [(size, suffix) for suffix in suffixes[1:] for size in sizes]
        lines = [
            f"### {title}, seed_<size><suffix> / seed_<size>{first}",
            "",
            "| scenario | "
            + " | ".join(f"{size:,}: {suffix} / {first or '(seeded)'}" for size, suffix in columns)
            + " |",
            "| --- " * (len(columns) + 1) + "|",
        ]
        for name in results[sizes[0], first]:
            ratios = [results[size, suffix][name] / results[size, first][name] for size, suffix in columns]
            lines.append(f"| {name} | " + " | ".join(f"{r:.2f}" for r in ratios) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--workdir", type=Path, default=Path(__file__).resolve().parents[1] / ".bench")
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--http", action="store_true", help="also measure through `exitus serve`")
    parser.add_argument(
        "--database-suffix",
        default="",
        help="measure seed_<size><suffix> (a copy, e.g. _base); several, comma-separated, interleaved",
    )
    parser.add_argument("--queries", type=Path, default=QUERIES_DIR, help="the named queries to run (SQL level)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    suffixes = args.database_suffix.split(",")
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.workdir.chmod(0o755)  # PostgreSQL runs as another user when we are root
    postgres = LocalPostgres(args.workdir / "pg").start()
    issuer = DevIssuer(args.workdir / "issuer").start() if args.http else None
    sql_results, http_results = {}, {}
    try:
        seeded = {size: seeded_database(postgres, args.workdir, size) for size in sizes}
        databases = {
            (size, suffix): (f"{url}{suffix}", manifest)
            for suffix in suffixes
            for size, (url, manifest) in seeded.items()
        }
        sql_results = measure_sql(
            databases,
            args.repeats,
            lambda key: args.workdir / f"plans-{key[0]}{key[1]}.txt",
            args.queries,
        )
        if issuer is not None:
            http_results = measure_http(databases, args.repeats, args.workdir, issuer)
    finally:
        if issuer is not None:
            issuer.stop()
    print(tables(sql_results, "SQL (named query, customer bound), p50"))
    if http_results:
        print()
        print(tables(http_results, "HTTP (exitus serve, sequential requests), p50"))

    def plain(results: dict[Key, dict[str, float]]) -> dict[str, dict[str, float]]:
        return {f"{size}{suffix}": r for (size, suffix), r in results.items()}

    (args.workdir / f"datasize{args.database_suffix.replace(',', '+')}.json").write_text(
        json.dumps({"sql": plain(sql_results), "http": plain(http_results)}, indent=2)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
