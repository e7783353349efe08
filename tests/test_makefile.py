"""The Makefile's promises: `make fuzz` prints its seed, pass or fail; a narrowed `make test` run is not failed by
the coverage gate, which only the full run can reach; a target missing a system tool says so in one line, before
anything else; CI calls the make targets and nothing else."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

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


# ------------------------------------------------------------------ system prerequisites (tools/prerequisites)

# What `make test` needs that a fresh Debian machine may lack, with the package that brings each (issue 13): written
# out here rather than read from tools/prerequisites, so that a tool dropped from its list fails this test.
TEST_TOOLS_ON_PATH = {
    "git": "git",
    "node": "nodejs",
    "npm": "npm",
    "promtool": "prometheus",
    "wrk": "wrk",
    "chromium": "chromium",
}
# Enough for make and the check itself to run.
BASE_TOOLS = ("bash", "env", "make", "awk", "sort", "tr", "id")


@pytest.fixture
def bare_checkout() -> Iterator[Path]:
    """The Makefile and tools/ in a directory any user can read (a non-root user runs make there), and nothing else:
    a target that went on past the check would fail there too."""
    path = Path(tempfile.mkdtemp(prefix="exitus-prerequisites-"))
    os.chmod(path, 0o755)
    shutil.copy(ROOT / "Makefile", path)
    shutil.copytree(ROOT / "tools", path / "tools")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def path_with_only(directory: Path, *tools: str) -> str:
    """A PATH holding just these commands (links to the system's), in a directory anyone can search."""
    directory.mkdir()
    for tool in tools:
        found = shutil.which(tool, path="/usr/local/bin:/usr/bin:/bin")
        assert found, tool
        (directory / tool).symlink_to(found)
    return str(directory)


def make_as_someone_else(checkout: Path, target: str, path: str) -> subprocess.CompletedProcess:
    """`make <target>` as a user who cannot apt-get: nobody, when the suite runs as root."""
    runuser = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
    prefix = [runuser, "-u", "nobody", "--"] if os.geteuid() == 0 else []
    return subprocess.run(
        [*prefix, shutil.which("make"), "--no-print-directory", target],
        cwd=checkout,
        env={"PATH": path, "HOME": str(checkout), "LC_ALL": "C"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def own_lines(stderr: str) -> list[str]:
    """stderr without make's own report of the failed recipe."""
    return [line for line in stderr.splitlines() if not line.startswith("make: *** ")]


def test_make_test_stops_at_once_naming_every_missing_tool_and_its_package(bare_checkout):
    path = path_with_only(bare_checkout / "bin", *BASE_TOOLS, "python3")
    result = make_as_someone_else(bare_checkout, "test", path)
    assert result.returncode != 0
    assert result.stdout == ""
    (line,) = own_lines(result.stderr)  # one line
    assert line.startswith("make test: missing "), line
    for tool, package in TEST_TOOLS_ON_PATH.items():
        assert f"{tool} ({package})" in line, tool
    install = re.search(r"`sudo apt-get install ([^`]+)`", line)
    assert install and set(install.group(1).split()) == set(TEST_TOOLS_ON_PATH.values()), line
    assert not (bare_checkout / ".venv").exists() and not (bare_checkout / "node_modules").exists()


def test_make_run_asks_only_for_what_it_needs(bare_checkout):
    """Without python3 (and node, which only the tests need), `make run` names python3 and its venv module only."""
    path = path_with_only(bare_checkout / "bin", *BASE_TOOLS)
    result = make_as_someone_else(bare_checkout, "run", path)
    assert result.returncode != 0
    (line,) = own_lines(result.stderr)
    assert line.startswith("make run: missing python3 (python3), ensurepip (python3-venv): "), line
    assert "`sudo apt-get install python3 python3-venv`" in line
    assert not (bare_checkout / ".venv").exists()


def test_ci_only_calls_the_make_targets():
    commands = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "set ", "cd "))
    ]
    assert commands == ["make test", "make infra-test"]


def test_the_readme_names_every_prerequisite_and_its_package():
    listed = subprocess.run(
        [ROOT / "tools" / "prerequisites", "--list"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Prerequisites") :]
    section = section[: section.index("\n### ", 1)]
    assert len(listed) >= len(TEST_TOOLS_ON_PATH) + 3  # + python3, its venv module, PostgreSQL
    for row in listed:
        tool, package, *_targets = row.split()
        assert f"`{package}`" in section, f"README's prerequisites do not name {package} ({tool})"
