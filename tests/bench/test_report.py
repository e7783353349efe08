"""bench/report.py: a void run is listed loudly and kept out of every median and ratio."""

from __future__ import annotations

from bench import report


def _run(scenario: str, repeat: int, rps: float, *, status_errors: int = 0) -> dict:
    errors = {"connect": 0, "read": 0, "write": 0, "status": status_errors, "timeout": 0}
    return {
        "scenario": scenario,
        "target": "reference" if scenario == "reference" else "exitus",
        "connections": 16,
        "repeat": repeat,
        "requests": int(rps * 10),
        "requests_per_second": rps,
        "latency_ms": {"p50": 1.0, "p90": 2.0, "p99": 3.0, "max": 4.0},
        "errors": errors,
        "void": [f"status errors: {status_errors}"] if status_errors else [],
        "server_cpu_ms_per_request": 1.0,
        "postgres_cpu_ms_per_request": 0.5,
        "wrk_cpu_ms_per_request": 0.1,
        "server_max_rss_mib": 100.0,
    }


def _results(runs: list[dict]) -> dict:
    settings = {
        "command": "test", "duration": 10, "repeats": 2, "workers": 1, "pool_size": 10, "threads": 2,
        "warmup": 0, "stats_wait": 0, "scenario_order": ["reference", "get_issue", "healthz"],
    }  # fmt: skip
    facts = {
        "when": "now", "commit": "abc", "uncommitted_changes": False, "cpus": 2, "load_average_at_start": (1, 1, 1),
        "postgresql": "15", "wrk": "wrk", "python": "3.11",
    }  # fmt: skip
    size = {"label": "10k", "issues": 10_000, "manifest": {}, "deep_offset": 5000, "runs": runs, "transactions": []}
    return report.build(settings, facts, [size])


def test_a_void_run_is_listed_and_left_out_of_medians_and_ratios():
    runs = [
        _run("reference", 0, 1000), _run("get_issue", 0, 500), _run("healthz", 0, 800),
        _run("reference", 1, 1000), _run("get_issue", 1, 100, status_errors=3), _run("healthz", 1, 800),
    ]  # fmt: skip
    results = _results(runs)

    assert results["void"] == [
        {"size": "10k", "scenario": "get_issue", "connections": 16, "repeat": 1, "reasons": ["status errors: 3"]}
    ]
    (size,) = results["sizes"]
    get_issue = next(m for m in size["medians"] if m["scenario"] == "get_issue")
    assert (get_issue["requests_per_second"], get_issue["valid_repeats"], get_issue["repeats"]) == (500, 1, 2)
    ratio = next(r for r in size["ratios"] if r["ratio"] == "get_issue / reference, req/s")
    assert ratio["values"] == [0.5]
    summary = report.markdown(results)
    assert summary.index("VOID RESULT") < summary.index("## Ratios")
    assert "| 10k | get_issue | 16 | 1 | status errors: 3 |" in summary


def test_ratios_are_medians_of_per_repeat_ratios():
    runs = [
        _run("reference", 0, 1000), _run("get_issue", 0, 500), _run("healthz", 0, 1000),
        _run("reference", 1, 400), _run("get_issue", 1, 400), _run("healthz", 1, 500),
        _run("reference", 2, 1000), _run("get_issue", 2, 300), _run("healthz", 2, 600),
    ]  # fmt: skip
    (size,) = _results(runs)["sizes"]
    ratios = {r["ratio"]: r for r in size["ratios"]}
    assert ratios["get_issue / reference, req/s"]["values"] == [0.5, 1.0, 0.3]
    assert ratios["get_issue / reference, req/s"]["median"] == 0.5
    assert ratios["get_issue / healthz, req/s"]["median"] == 0.5  # of 0.5, 0.8, 0.5
