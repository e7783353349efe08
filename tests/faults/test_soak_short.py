"""The soak (bench/soak.py) in short: mixed reads and writes at 16 connections for 10 s, with no error and flat
memory after warm-up. The full one is `make soak` (10 minutes at 64 connections)."""

from bench.soak import run_soak

DURATION_SECONDS = 10
CONNECTIONS = 16
MAX_RSS_GROWTH_MIB = 32


def test_short_soak_has_no_errors_and_flat_memory(postgres, issuer):
    lines: list[str] = []
    report = run_soak(
        duration=DURATION_SECONDS,
        connections=CONNECTIONS,
        max_rss_growth_mib=MAX_RSS_GROWTH_MIB,
        warmup_fraction=0.3,
        log=lines.append,
        stack=(postgres, issuer),
    )
    print(report.text())
    assert report.soak.requests > CONNECTIONS, report.text()
    assert report.soak.errors == 0, report.text()
    assert set(report.soak.latencies) >= {"list_projects", "create_issue", "update_issue", "create_comment"}
    assert report.rss_growth_mib <= MAX_RSS_GROWTH_MIB, report.text()
    assert report.passed
