"""The Makefile's promises: `make fuzz` prints its seed, pass or fail; a narrowed `make test` run is not failed by
the coverage gate, which only the full run can reach."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_INHERITED = ("COV_CORE_", "COVERAGE_", "PYTEST_", "MAKE", "MFLAGS")  # this run's coverage and make's own


def make(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    # Not this run's coverage: the inner pytest keeps its data in tmp_path, away from this run's files.
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("COV_CORE_", "COVERAGE_", "PYTEST_", "MAKE", "MFLAGS"))
    }
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        env={**base, "COVERAGE_FILE": str(tmp_path / ".coverage"), **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_make_fuzz_prints_its_seed_when_it_passes(tmp_path):
    given = make("fuzz", "PYTEST_ARGS=--collect-only -p no:cacheprovider", tmp_path=tmp_path, EXITUS_FUZZ_SEED="4242")
    assert given.returncode == 0, given.stdout + given.stderr
    assert given.stdout.count("make fuzz: EXITUS_FUZZ_SEED=4242") == 2  # before the run and after it
    drawn = make("fuzz", "PYTEST_ARGS=--collect-only -p no:cacheprovider", tmp_path=tmp_path)
    assert drawn.returncode == 0, drawn.stdout + drawn.stderr
    assert re.search(r"^make fuzz: EXITUS_FUZZ_SEED=\d+ \(exit 0\)$", drawn.stdout, re.MULTILINE), drawn.stdout


def test_a_narrowed_test_run_is_not_failed_by_the_coverage_gate(tmp_path):
    narrowed = make(
        "pytest", "PYTEST_ARGS=-p no:cacheprovider tests/test_docs.py -k markdown_files_are_found", tmp_path=tmp_path
    )
    assert narrowed.returncode == 0, narrowed.stdout[-3000:] + narrowed.stderr[-3000:]
    total = re.search(r"^TOTAL\s.*?(\d+)%$", narrowed.stdout, re.MULTILINE)
    assert total and int(total.group(1)) < 90  # the gate would have failed it
    assert "--cov-fail-under=90" in make("-n", "pytest", tmp_path=tmp_path).stdout  # the full run keeps the gate
