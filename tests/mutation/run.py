"""`make mutate`: mutation testing of the security-critical core, on a copy of the checkout (never the checkout).

Two kinds of mutants, each run against the tests that should notice it (pytest -x: the first failure kills it):
- Python: mutmut's mutants (mutmut 2.5 as a library: its operators; this loop writes each mutant into the copy and
  runs the tests) of the modules of PYTHON_MODULES;
- textual: tests/mutation/textual.py's mistakes in queries/, migrations/ and the spec's security requirements.

A Python mutant runs first against the tests that execute its line (coverage contexts of one run of the module's
tests, `tests_by_line`), and against the module's whole list if other tests could see it. (mutmut's own runner was
dropped: its SQLite cache failed with "database is locked" and lost mutants on this loaded machine.)

Survivors listed in tests/mutation/equivalent.yaml (with the reason each changes no behaviour) are shown apart and
count neither way; the kill rate is killed / (mutants - equivalent). A timeout counts as killed (the suite did not
pass). Exits 1 when a survivor is not in that list. The report goes to stdout and .mutation/report.md.

    python -m tests.mutation.run [--only python|text] [--module exitus/auth.py ...] [--match TEXT]
"""

from __future__ import annotations

import argparse
import difflib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import mutmut
import yaml
from coverage import CoverageData

from tests.mutation import textual

ROOT = Path(__file__).resolve().parents[2]
WORK = Path(os.environ.get("EXITUS_MUTATION_DIR", ROOT / ".mutation"))  # another one to run two at once
TREE = WORK / "tree"
EQUIVALENT_FILE = Path(__file__).with_name("equivalent.yaml")

# module -> the tests that matter for it, fastest and most pointed first (pytest -x stops at the first failure).
PYTHON_MODULES: dict[str, tuple[str, ...]] = {
    "exitus/auth.py": ("tests/test_auth_checks.py", "tests/test_auth.py", "tests/api/test_security_matrix.py"),
    "exitus/request_scope.py": (
        "tests/test_request_scope.py",
        "tests/api/test_operation_scopes.py",
        "tests/api/test_customers.py",
        "tests/api/test_users.py",
        "tests/api/test_cross_tenant_matrix.py",
        "tests/test_db.py",
    ),
    "exitus/edge.py": (
        "tests/test_edge.py",
        "tests/test_edge_limits.py",
        "tests/test_logs.py",
        "tests/test_metrics.py",
    ),
    "exitus/errors.py": (
        "tests/test_edge.py",
        "tests/test_validation.py",
        "tests/test_logs.py",
        "tests/test_auth.py",
        "tests/api/test_issues.py",
        "tests/api/test_projects.py",
        "tests/test_db.py",
    ),
}
PYTEST = (sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly")


@dataclass
class Outcome:
    kind: str  # "python" or "text"
    id: str
    status: str  # killed, timeout, survived, equivalent
    detail: str = ""


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    def rate(self, kind: str | None = None) -> tuple[int, int]:
        counted = [o for o in self.outcomes if (kind is None or o.kind == kind) and o.status != "equivalent"]
        return sum(o.status in ("killed", "timeout") for o in counted), len(counted)

    def render(self) -> str:
        lines = ["# make mutate", ""]
        for kind in ("python", "text", None):
            killed, counted = self.rate(kind)
            if counted:
                equivalent = sum(o.status == "equivalent" and (kind is None or o.kind == kind) for o in self.outcomes)
                lines.append(
                    f"- {kind or 'all'}: {killed}/{counted} killed ({100 * killed / counted:.1f} %),"
                    f" {equivalent} equivalent survivors set apart"
                )
        lines.append(f"- took {self.seconds / 60:.1f} min")
        for status, title in (("survived", "Survivors"), ("equivalent", "Equivalent survivors (equivalent.yaml)")):
            listed = [o for o in self.outcomes if o.status == status]
            if listed:
                lines += ["", f"## {title}", ""]
                lines += [f"- [{o.kind}] {o.id}" + (f"\n\n```\n{o.detail}\n```" if o.detail else "") for o in listed]
        return "\n".join(lines) + "\n"


def copy_tree() -> None:
    """The checkout's files (tracked, and new ones not ignored) copied to .mutation/tree."""
    shutil.rmtree(TREE, ignore_errors=True)
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, (entry.decode() for entry in listed)):
        source = ROOT / name
        if source.is_file() and not name.startswith(".mutation/"):
            target = TREE / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def environment() -> dict[str, str]:
    """Imports of `exitus` and `tests` resolve to the copy, ahead of the checkout's editable install."""
    return {**os.environ, "PYTHONPATH": str(TREE), "PYTHONDONTWRITEBYTECODE": "1"}


def run_tests(tests: tuple[str, ...], timeout: float) -> str:
    try:
        result = subprocess.run(
            [*PYTEST, *tests], cwd=TREE, env=environment(), capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return "timeout"
    return {0: "survived", 1: "killed"}.get(result.returncode, f"error (pytest exit {result.returncode})")


def load_equivalent() -> dict[str, set[str]]:
    entries = yaml.safe_load(EQUIVALENT_FILE.read_text()) or {}
    return {kind: {entry["id"] for entry in entries.get(kind, [])} for kind in ("python", "text")}


def run_textual(report: Report, equivalent: set[str], match: str | None) -> None:
    mutants = [m for m in textual.generate(TREE) if match is None or match in m.id]
    baseline: dict[tuple[str, ...], float] = {}
    for tests in sorted({m.tests for m in mutants}):
        started = time.monotonic()
        status = run_tests(tests, timeout=1800)
        if status != "survived":
            raise SystemExit(f"the unmutated tree fails {' '.join(tests)}: {status}")
        baseline[tests] = time.monotonic() - started
    for number, mutant in enumerate(mutants, 1):
        target = TREE / mutant.path
        original = target.read_text()
        try:
            target.write_text(mutant.mutated)
            status = run_tests(mutant.tests, timeout=3 * baseline[mutant.tests] + 30)
        finally:
            target.write_text(original)
        if status.startswith("error"):
            raise SystemExit(f"{mutant.id}: {status}")
        if status == "survived" and mutant.id in equivalent:
            status = "equivalent"
        report.outcomes.append(Outcome("text", mutant.id, status))
        print(f"[text {number}/{len(mutants)}] {status}: {mutant.id}", flush=True)


def python_mutants(module: str) -> list[tuple[int, str, str]]:
    """(line number, id, mutated source) of every mutant mutmut makes of `module` in the copy."""
    source = (TREE / module).read_text()
    mutants = []
    for mutation in mutmut.list_mutations(mutmut.Context(source=source, filename=module)):
        mutated, _ = mutmut.mutate(mutmut.Context(source=source, filename=module, mutation_id=mutation))
        diff = "".join(difflib.unified_diff(source.splitlines(True), mutated.splitlines(True), module, module, n=0))
        mutants.append((mutation.line_number + 1, python_mutant_id(module, diff), mutated))
    return mutants


def python_mutant_id(module: str, diff: str) -> str:
    """`module: -old / +new` from the mutant's diff: stable while the mutated line is unchanged."""
    removed = [line[1:].strip() for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line[1:].strip() for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    return f"{module}: {' | '.join(removed)} => {' | '.join(added)}"


def tests_by_line(module: str, tests: tuple[str, ...]) -> tuple[dict[int, tuple[list[str], bool]], float]:
    """Line number -> (the test ids that run it, whether only their bodies do), from one coverage run of `tests`
    with a context per test phase; and how long that run took.

    A test that never reaches a line behaves the same whatever the line says, so when only test bodies run a line,
    those tests are all that can kill its mutants. A line also run in fixtures (which later tests may share) is
    tried on its tests first and, if its mutant survives them, on the whole list. Left out (the whole list at
    once): lines run at import and lines coverage does not see (a statement's continuation lines). One way the
    selection can miss a kill remains: a line that fills a per-process cache in one test changes what a later test
    sees. That errs towards survivors, which are then looked at one by one.
    """
    data_file = WORK / f"coverage-{module.replace('/', '-')}"
    command = [part for part in PYTEST if part != "-x"]
    command += [*tests, "--cov=exitus", "--cov-context=test", "--cov-report=", "--cov-fail-under=0"]
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=TREE, env={**environment(), "COVERAGE_FILE": str(data_file)}, capture_output=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"the unmutated tree fails {' '.join(tests)}:\n{result.stdout.decode()[-3000:]}")
    seconds = time.monotonic() - started
    data = CoverageData(basename=str(data_file))
    data.read()
    order = {test: number for number, test in enumerate(tests)}
    lines: dict[int, tuple[list[str], bool]] = {}
    for line, contexts in data.contexts_by_lineno(str(TREE / module)).items():
        if "" not in contexts:
            ids = sorted(
                {context.rpartition("|")[0] for context in contexts},
                key=lambda test_id: (order.get(test_id.partition("::")[0], len(order)), test_id),
            )
            lines[line] = (ids, all(context.endswith("|run") for context in contexts))
    return lines, seconds


def run_python(report: Report, equivalent: set[str], modules: list[str], match: str | None) -> None:
    """Each mutant against the tests that run its line (`tests_by_line`), or the module's whole list when its line
    is not one of those; output as it goes."""
    for module in modules:
        tests = PYTHON_MODULES[module]
        lines, baseline = tests_by_line(module, tests)
        mutants = [mutant for mutant in python_mutants(module) if match is None or match in mutant[1]]
        print(f"[python] {module}: {len(mutants)} mutants, tests of {len(lines)} lines", flush=True)
        target = TREE / module
        original = target.read_text()
        for number, (line, ident, mutated) in enumerate(mutants, 1):
            try:
                target.write_text(mutated)
                selected, complete = lines.get(line, (tests, True))
                status = run_tests(tuple(selected), timeout=3 * baseline + 30)
                if status == "survived" and not complete:
                    status = run_tests(tests, timeout=3 * baseline + 30)
            finally:
                target.write_text(original)
            if status == "error (pytest exit 2)":
                status = "killed"  # the mutant broke the import: pytest could not collect
            elif status.startswith("error"):
                raise SystemExit(f"{ident}: {status}")
            if status == "survived" and ident in equivalent:
                status = "equivalent"
            report.outcomes.append(Outcome("python", ident, status))
            print(f"[python {module} {number}/{len(mutants)}] {status}: {ident}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("python", "text"))
    parser.add_argument("--module", action="append", choices=sorted(PYTHON_MODULES), help="Python modules to mutate")
    parser.add_argument("--match", help="only the mutants whose id contains this")
    args = parser.parse_args(argv)
    started = time.monotonic()
    copy_tree()
    equivalent = load_equivalent()
    report = Report()
    if args.only != "python":
        run_textual(report, equivalent["text"], args.match)
    if args.only != "text":
        run_python(report, equivalent["python"], args.module or list(PYTHON_MODULES), args.match)
    report.seconds = time.monotonic() - started
    text = report.render()
    (WORK / "report.md").write_text(text)
    print(text)
    return 1 if any(o.status == "survived" for o in report.outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
