"""The benchmark's report: medians and ratios of the runs (results.json), a Markdown summary, PNG plots.

A void run (any socket error or non-2xx answer) is kept in results.json and listed at the top of the summary; the
medians and ratios are computed from valid runs only, and say how many repeats they rest on.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

RESULTS_FILE = "results.json"
SUMMARY_FILE = "summary.md"
PLOT_CONNECTIONS = "latency_vs_connections.png"
PLOT_SIZE = "latency_vs_size.png"
# The figures of a scenario that get a median over its valid repeats.
FIGURES: dict[str, Callable[[dict], float]] = {
    "requests_per_second": lambda r: r["requests_per_second"],
    "p50_ms": lambda r: r["latency_ms"]["p50"],
    "p90_ms": lambda r: r["latency_ms"]["p90"],
    "p99_ms": lambda r: r["latency_ms"]["p99"],
    "max_ms": lambda r: r["latency_ms"]["max"],
    "server_cpu_ms_per_request": lambda r: r["server_cpu_ms_per_request"],
    "postgres_cpu_ms_per_request": lambda r: r["postgres_cpu_ms_per_request"],
    "wrk_cpu_ms_per_request": lambda r: r["wrk_cpu_ms_per_request"],
    "server_max_rss_mib": lambda r: r["server_max_rss_mib"],
}
# Ratios of one repeat's neighbouring runs: (name, numerator scenario, denominator scenario, figure).
RATIOS = (
    ("get_issue / reference, req/s", "get_issue", "reference", "requests_per_second"),
    ("get_issue / healthz, req/s", "get_issue", "healthz", "requests_per_second"),
    ("get_issue / reference, CPU per request", "get_issue", "reference", "server_cpu_ms_per_request"),
    ("get_issue / reference, p99", "get_issue", "reference", "p99_ms"),
    ("post_issue / get_issue, req/s", "post_issue", "get_issue", "requests_per_second"),
    ("post_issue_keyed / post_issue, req/s", "post_issue_keyed", "post_issue", "requests_per_second"),
    ("post_issue_keyed / post_issue, CPU per request", "post_issue_keyed", "post_issue", "server_cpu_ms_per_request"),
    ("post_issue_keyed / post_issue, PostgreSQL CPU", "post_issue_keyed", "post_issue", "postgres_cpu_ms_per_request"),
    ("post_issue_keyed / post_issue, p99", "post_issue_keyed", "post_issue", "p99_ms"),
)
SIZE_SCENARIOS = ("get_issue", "list_first", "list_deep", "search_rare", "search_common")


def _median(values: Iterable[float]) -> float | None:
    values = list(values)
    return statistics.median(values) if values else None


def build(settings: dict, facts: dict, sizes: list[dict]) -> dict:
    """results.json: the settings, the machine, every run, and per size the medians and ratios."""
    void = []
    for size in sizes:
        groups: dict[tuple[str, int], list[dict]] = defaultdict(list)
        for run in size["runs"]:
            groups[(run["scenario"], run["connections"])].append(run)
            if run["void"]:
                void.append({"size": size["label"], **{k: run[k] for k in ("scenario", "connections", "repeat")}})
                void[-1]["reasons"] = run["void"]
        for count in size.get("transactions", []):
            if count["void"]:
                void.append(
                    {"size": size["label"], "scenario": count["scenario"], "connections": count["connections"],
                     "repeat": "warm-up", "reasons": count["void"]}
                )  # fmt: skip
        size["medians"] = [
            {
                "scenario": scenario,
                "connections": connections,
                "repeats": len(runs),
                "valid_repeats": sum(not r["void"] for r in runs),
                **{name: _median(get(r) for r in runs if not r["void"]) for name, get in FIGURES.items()},
            }
            for (scenario, connections), runs in groups.items()
        ]
        size["ratios"] = _ratios(size["runs"])
    _size_growth(sizes)
    return {"settings": settings, "machine": facts, "void": void, "sizes": sizes}


def _ratios(runs: list[dict]) -> list[dict]:
    by_repeat: dict[tuple[int, int], dict[str, dict]] = defaultdict(dict)
    for run in runs:
        by_repeat[(run["connections"], run["repeat"])][run["scenario"]] = run
    result = []
    for connections in sorted({c for c, _ in by_repeat}):
        repeats = [scenarios for (c, _), scenarios in sorted(by_repeat.items()) if c == connections]
        for name, top, bottom, figure in RATIOS:
            values = []
            for scenarios in repeats:
                a, b = scenarios.get(top), scenarios.get(bottom)
                if a and b and not a["void"] and not b["void"]:
                    denominator = FIGURES[figure](b)
                    if denominator:
                        values.append(FIGURES[figure](a) / denominator)
            if any(top in s and bottom in s for s in repeats):
                result.append({"ratio": name, "connections": connections, "median": _median(values), "values": values})
    return result


def _size_growth(sizes: list[dict]) -> None:
    """For each read scenario: p50 (and p99) at each size over the same at the smallest size measured."""
    if not sizes:
        return
    smallest = min(sizes, key=lambda s: s["issues"])
    base = {(m["scenario"], m["connections"]): m for m in smallest["medians"]}
    for size in sizes:
        growth = []
        for m in size["medians"]:
            b = base.get((m["scenario"], m["connections"]))
            if m["scenario"] in SIZE_SCENARIOS and b:
                growth.append(
                    {
                        "scenario": m["scenario"],
                        "connections": m["connections"],
                        "against": smallest["label"],
                        "p50": _quotient(m["p50_ms"], b["p50_ms"]),
                        "p99": _quotient(m["p99_ms"], b["p99_ms"]),
                    }
                )
        size["growth"] = growth


def _quotient(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


# ---------------------------------------------------------------------------------------------------------- output


def write(results: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / RESULTS_FILE).write_text(json.dumps(results, indent=1) + "\n")
    (out / SUMMARY_FILE).write_text(markdown(results))
    plot(results, out)


def _f(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def markdown(results: dict) -> str:
    settings, facts, sizes = results["settings"], results["machine"], results["sizes"]
    _scenario_order = _ordering(results)
    lines = [f"# exitus benchmark, {facts['when']}", ""]
    if results["void"]:
        lines += [
            f"## ⚠ {len(results['void'])} VOID RESULT(S): errors or non-2xx answers; excluded from every figure",
            "",
            "| issues | scenario | connections | repeat | why |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {v['size']} | {v['scenario']} | {v['connections']} | {v['repeat']} | {'; '.join(v['reasons'])} |"
            for v in results["void"]
        ]
        lines.append("")
    lines += [
        f"Commit {facts['commit'] or '?'}{' (with uncommitted changes)' if facts['uncommitted_changes'] else ''}; "
        f"{facts['cpus']} CPUs, load average at start {facts['load_average_at_start'][0]:.1f}; "
        f"PostgreSQL {facts['postgresql']}; {facts['wrk']}; Python {facts['python']}.",
        f"`{settings['command']}`: {settings['duration']} s per run, {settings['repeats']} interleaved repeat(s), "
        f"{settings['workers']} worker process(es) each (exitus and reference), pool {settings['pool_size']}, "
        f"wrk {settings['threads']} threads. Figures are medians over valid repeats (bench/README.md).",
        "",
        "## Ratios (median over repeats of the ratio of neighbouring runs)",
        "",
        "| issues | connections | " + " | ".join(name for name, *_ in RATIOS) + " |",
        "| --- | --- | " + " | ".join("---" for _ in RATIOS) + " |",
    ]
    for size in sizes:
        for connections in sorted({r["connections"] for r in size["ratios"]}):
            row = {r["ratio"]: r for r in size["ratios"] if r["connections"] == connections}
            cells = [
                f"{_f(row[name]['median'])} (n={len(row[name]['values'])})" if name in row else "—"
                for name, *_ in RATIOS
            ]
            lines.append(f"| {size['label']} | {connections} | " + " | ".join(cells) + " |")
    for size in sizes:
        if size.get("transactions"):
            first = size["transactions"][0]
            lines += [
                "",
                f"## Committed transactions per request ({size['label']}, {first['connections']} connections, "
                f"{settings['warmup']} s per scenario, counters read {settings['stats_wait']:.0f} s later)",
                "",
                "| scenario | commits / request | rollbacks / request | requests |",
                "| --- | --- | --- | --- |",
            ]
            lines += [
                f"| {t['scenario']} | {_f(t['commits_per_request'])} | {_f(t['rollbacks_per_request'])} "
                f"| {t['requests']}{' VOID' if t['void'] else ''} |"
                for t in size["transactions"]
            ]
    if len(sizes) > 1:
        lines += ["", f"## Growth with data size: latency at a size / at {sizes[0]['growth'][0]['against']}", ""]
        header = " | ".join(f"{s['label']} p50 | {s['label']} p99" for s in sizes)
        lines += [f"| scenario | connections | {header} |"]
        lines += ["| --- | --- | " + " | ".join("--- | ---" for _ in sizes) + " |"]
        keys = sorted({(g["scenario"], g["connections"]) for s in sizes for g in s["growth"]}, key=_scenario_order)
        for scenario, connections in keys:
            cells = []
            for size in sizes:
                found = [g for g in size["growth"] if (g["scenario"], g["connections"]) == (scenario, connections)]
                g = found[0] if found else {}
                cells.append(f"{_f(g.get('p50'))} | {_f(g.get('p99'))}")
            lines.append(f"| {scenario} | {connections} | " + " | ".join(cells) + " |")
    lines += ["", "## Absolute figures (medians)", ""]
    for size in sizes:
        manifest = size["manifest"]
        lines += [
            f"### {size['label']}: {size['issues']} issues, {manifest.get('issues_in_project', '?')} in the measured "
            f"project; deep page at offset {size['deep_offset']}; search terms {manifest.get('rare_term')!r} (rare), "
            f"{manifest.get('common_term')!r} (common)",
            "",
            "| scenario | conn. | req/s | p50 ms | p90 ms | p99 ms | server CPU ms/req | PostgreSQL CPU ms/req "
            "| max RSS MiB | wrk CPU ms/req | valid/repeats |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for m in sorted(size["medians"], key=lambda m: _scenario_order((m["scenario"], m["connections"]))):
            lines.append(
                f"| {m['scenario']} | {m['connections']} | {_f(m['requests_per_second'], 1)} | {_f(m['p50_ms'])} "
                f"| {_f(m['p90_ms'])} | {_f(m['p99_ms'])} | {_f(m['server_cpu_ms_per_request'])} "
                f"| {_f(m['postgres_cpu_ms_per_request'])} "
                f"| {_f(m['server_max_rss_mib'], 1)} | {_f(m['wrk_cpu_ms_per_request'])} "
                f"| {m['valid_repeats']}/{m['repeats']} |"
            )
        lines.append("")
    lines += [
        f"Plots: {PLOT_CONNECTIONS}, {PLOT_SIZE}. Every run, with per-process CPU and RSS: {RESULTS_FILE}.",
        "",
    ]
    return "\n".join(lines)


def _ordering(results: dict) -> Callable[[tuple[str, int]], tuple[int, int]]:
    """Sort key of (scenario, connections): scenarios in the harness's order (settings.scenario_order)."""
    order = results["settings"]["scenario_order"]
    return lambda key: (order.index(key[0]) if key[0] in order else len(order), key[1])


def plot(results: dict, out: Path) -> None:
    """latency_vs_connections.png (a panel per size: p99 solid, p50 dotted) and latency_vs_size.png (a panel per
    connection count: p50 solid, p99 dotted), one colour per scenario, log scales."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    sizes = results["sizes"]
    order = _ordering(results)
    scenarios = sorted({m["scenario"] for s in sizes for m in s["medians"]}, key=lambda n: order((n, 0)))
    palette = pyplot.get_cmap("tab20")
    colour = {name: palette(2 * i % 20 + (2 * i // 20)) for i, name in enumerate(scenarios)}  # 11+ distinct
    # (x, p50, p99) of every median, by scenario, size and connection count
    points = [
        (m["scenario"], size["label"], size["issues"], m["connections"], m["p50_ms"], m["p99_ms"])
        for size in sizes
        for m in size["medians"]
        if m["p50_ms"] is not None
    ]

    def panels(path: Path, groups: list, title: str, select, xlabel: str, solid: str, log_x: bool) -> None:
        figure, axes = pyplot.subplots(1, len(groups), figsize=(6 * len(groups), 4.5), squeeze=False)
        for axis, group in zip(axes[0], groups, strict=True):
            for scenario in scenarios:
                series = sorted(select(p, group) for p in points if p[0] == scenario and select(p, group))
                if series:
                    x, p50, p99 = zip(*series, strict=True)
                    main, other = (p50, p99) if solid == "p50" else (p99, p50)
                    axis.plot(x, main, marker="o", label=f"{scenario} {solid}", color=colour[scenario])
                    axis.plot(x, other, marker=".", linestyle=":", color=colour[scenario])
            axis.set(title=title.format(group), xlabel=xlabel, ylabel="latency, ms")
            axis.set_yscale("log")
            if log_x:
                axis.set_xscale("log")
            axis.grid(True, which="both", alpha=0.3)
        axes[0][-1].legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1))
        figure.tight_layout()
        figure.savefig(path, dpi=100)
        pyplot.close(figure)

    panels(
        out / PLOT_CONNECTIONS, [s["label"] for s in sizes], "{} issues (dotted: p50)",
        lambda p, label: (p[3], p[4], p[5]) if p[1] == label else None, "connections", "p99", log_x=False,
    )  # fmt: skip
    panels(
        out / PLOT_SIZE, sorted({p[3] for p in points}), "{} connections (dotted: p99)",
        lambda p, connections: (p[2], p[4], p[5]) if p[3] == connections else None, "issues in the database", "p50",
        log_x=True,
    )  # fmt: skip
