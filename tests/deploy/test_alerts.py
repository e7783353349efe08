"""The alerting rules (infra/local/alerts.yml): valid, unit-tested by promtool, and written against metrics that
exitus really exports, so a renamed metric cannot silently disarm an alert."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

import exitus.metrics  # noqa: F401 - registers every exitus metric

LOCAL = Path(__file__).resolve().parents[2] / "infra" / "local"
RULES = yaml.safe_load((LOCAL / "alerts.yml").read_text(encoding="utf-8"))


def promtool(*args: str) -> subprocess.CompletedProcess:
    executable = shutil.which("promtool")
    assert executable, "promtool is missing: install the Debian package `prometheus` (`make test` installs it)"
    return subprocess.run([executable, *args], cwd=LOCAL, capture_output=True, text=True, check=False)


def test_promtool_accepts_the_rules_and_the_prometheus_config():
    for args in (("check", "rules", "alerts.yml"), ("check", "config", "prometheus.yml")):
        result = promtool(*args)
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_alerts_fire_when_they_should_and_only_then():
    result = promtool("test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_metric_an_alert_reads_is_exported_by_exitus():
    exported = {sample_name for metric in REGISTRY.collect() for sample_name in _sample_names(metric)}
    for rule in RULES["groups"][0]["rules"]:
        for name in re.findall(r"\bexitus_[a-z_]+", rule["expr"]):
            assert name in exported, f"{rule['alert']} reads {name}, which exitus does not export"


def _sample_names(metric) -> set[str]:
    if metric.type == "counter":
        return {f"{metric.name}_total"}
    if metric.type == "histogram":
        return {f"{metric.name}_{suffix}" for suffix in ("bucket", "count", "sum")}
    return {metric.name}
