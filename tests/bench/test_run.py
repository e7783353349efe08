"""The benchmark harness (bench/run.py) end to end, in short: a tiny database, one second per scenario, one repeat,
one connection count. It proves the harness still works (every scenario answered 2xx only, and the report is
complete); it asserts no speed: `make bench` measures that."""

from __future__ import annotations

import json
from pathlib import Path

from bench import report
from bench.run import SCENARIO_NAMES, Options, run_bench

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_a_short_run_reports_every_scenario_without_errors(postgres, issuer, tmp_path: Path):
    options = Options(
        sizes=[("1200", 1200)],
        connections=[8],
        duration=1,
        warmup=0,
        repeats=1,
        stats_wait=0,
        workdir=tmp_path,
        results=tmp_path / "results",
    )
    lines: list[str] = []
    out = run_bench(options, stack=(postgres, issuer), log=lines.append)
    log = "\n".join(lines)

    results = json.loads((out / report.RESULTS_FILE).read_text())
    summary = (out / report.SUMMARY_FILE).read_text()
    for plot in (report.PLOT_CONNECTIONS, report.PLOT_SIZE):
        assert (out / plot).read_bytes().startswith(PNG_SIGNATURE), plot

    assert results["void"] == [], log
    assert "VOID" not in summary
    (size,) = results["sizes"]
    runs = {run["scenario"]: run for run in size["runs"]}
    assert set(runs) == set(SCENARIO_NAMES)
    for name, run in runs.items():
        assert run["requests"] > 0 and run["requests_per_second"] > 0, (name, run)
        assert not any(run["errors"].values()), (name, run)
        assert run["server_cpu_ms_per_request"] > 0, (name, run)  # the CPU sampling found the serving process
        assert f"| {name} | 8 |" in summary
    ratios = {r["ratio"]: r["median"] for r in size["ratios"]}
    assert ratios["get_issue / reference, req/s"] > 0
    assert ratios["get_issue / healthz, req/s"] > 0
