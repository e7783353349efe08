"""`make mutate`: mutation testing of the security-critical core, on a copy of the checkout (never the checkout).

Two kinds of mutants, each run against the tests that should notice it (pytest -x: the first failure kills it):
- Python: mutmut's mutants (mutmut 2.5 as a library: its operators; this loop writes each mutant into the copy and
  runs the tests) of the modules of PYTHON_MODULES;
- textual: tests/mutation/textual.py's mistakes in queries/, migrations/ and the spec's security requirements.

A Python mutant runs first against the tests that execute its line (coverage contexts of one run of the suite's
selectable tests, `Selection`), and against the module's own list (PYTHON_MODULES) if other tests could see it.
(mutmut's own runner was dropped: its SQLite cache failed with "database is locked" and lost mutants here.)

Survivors listed in tests/mutation/equivalent.yaml (with the reason each changes no behaviour) are shown apart and
count neither way; the kill rate is killed / (mutants - equivalent). A timeout counts as killed (the suite did not
pass). Exits 1 when a survivor is not in that list. The report goes to stdout and .mutation/report.md.

    python -m tests.mutation.run [--only python|text] [--module exitus/auth.py ...] [--match TEXT] [--ids FILE]
                                 [--killed-in OUTPUT] [--coverage-from DIR]
"""

from __future__ import annotations

import argparse
import ast
import copy
import difflib
import importlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import mutmut
import pytest
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
    annotation_only: int = 0  # Python mutants that change only annotations: not run, not counted

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
        if self.annotation_only:
            lines.append(f"- {self.annotation_only} Python mutants change only annotations (never evaluated): not run")
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


class ForkServer:
    """pytest runs in a fork of a process that has already imported the third-party packages the tests import, so a
    mutant does not pay a fresh interpreter's imports (about 3 of the 4 seconds a one-test run takes here). exitus
    and tests are never imported before the fork: each child imports them from the copy, mutant and all."""

    def __init__(self) -> None:
        listed = subprocess.run(
            [sys.executable, "-c", PRELOAD_LISTING],
            cwd=TREE,
            env=environment(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        for name in listed:
            try:
                importlib.import_module(name)
            except Exception:
                continue

    def run(self, tests: tuple[str, ...], timeout: float) -> str:
        pid = os.fork()
        if pid == 0:  # the child: pytest on the copy, output discarded
            try:
                os.chdir(TREE)
                for name in [name for name in sys.modules if name.split(".")[0] in ("exitus", "tests")]:
                    del sys.modules[name]
                sys.path[:] = [str(TREE), *(entry for entry in sys.path if entry not in ("", str(ROOT)))]
                os.environ.update(environment())
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
                code = pytest.main([*PYTEST[3:], *tests])
                os._exit(int(code))
            finally:
                os._exit(70)
        deadline = time.monotonic() + timeout
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
                return {0: "survived", 1: "killed"}.get(code, f"error (pytest exit {code})")
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return "timeout"
            time.sleep(0.05)


# The third-party modules the suite imports (what `tests.conftest` pulls in that lives outside the checkout).
PRELOAD_LISTING = """
import sys, tests.conftest
print(*sorted(name for name, module in sys.modules.items()
      if name.split(".")[0] not in ("exitus", "tests", "__main__")
      and "site-packages" in (getattr(module, "__file__", None) or "")))
"""


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


# The tests whose coverage picks each mutant's tests: the suite, but for what is slow and about something else
# (fuzzing, the browser, the generated client, the published contract, docs, packaging, migrations, query plans).
NOT_SELECTABLE = {
    "tests/test_schemathesis.py",
    "tests/test_swagger_ui.py",
    "tests/test_sdk.py",
    "tests/test_contract.py",
    "tests/test_docs.py",
    "tests/test_makefile.py",
    "tests/test_requirements_lock.py",
    "tests/test_migrations.py",
    "tests/test_query_plans.py",
    "tests/test_spec_examples.py",
}
MUTANT_TIMEOUT_SECONDS = 300  # a mutant that loops for ever: counted as killed once this has passed


@dataclass
class Selection:
    """One coverage run of the selectable tests, a context per test phase."""

    data: CoverageData
    shared: set[str]  # contexts in which fixtures shared by several tests may run
    collected: set[str]  # the test ids as pytest collects them
    seconds: float

    @classmethod
    def measure(cls, reuse: Path | None = None) -> Selection:
        """One run here, or (`reuse`: another run's directory, EXITUS_MUTATION_DIR of a run of the same commit)
        that run's data: two runs at once need only one."""
        if reuse is not None:
            while not (reuse / "coverage-shared.json").exists():  # that run may still be measuring
                time.sleep(10)
            data = CoverageData(basename=str(reuse / "coverage"))
            data.read()
            shared = set(json.loads((reuse / "coverage-shared.json").read_text()))
            return cls(data, shared, set(json.loads((reuse / "coverage-collected.json").read_text())), 0.0)
        tests = sorted(str(path.relative_to(TREE)) for path in TREE.glob("tests/**/test_*.py"))
        tests = [
            test for test in tests if test not in NOT_SELECTABLE and test.startswith(("tests/test_", "tests/api/"))
        ]
        data_file = WORK / "coverage"
        command = [part for part in PYTEST if part != "-x"]
        command += [*tests, "--cov=exitus", "--cov-context=test", "--cov-report=", "--cov-fail-under=0"]
        started = time.monotonic()
        result = subprocess.run(
            command, cwd=TREE, env={**environment(), "COVERAGE_FILE": str(data_file)}, capture_output=True, check=False
        )
        if result.returncode != 0:
            raise SystemExit(f"the unmutated tree fails its tests:\n{result.stdout.decode()[-3000:]}")
        data = CoverageData(basename=str(data_file))
        data.read()
        collected = collected_ids(tuple(tests))
        (WORK / "coverage-collected.json").write_text(json.dumps(collected))
        shared = fixture_sharing_phases(collected)
        (WORK / "coverage-shared.json").write_text(json.dumps(sorted(shared)))
        return cls(data, shared, set(collected), time.monotonic() - started)

    def runnable(self, test_id: str) -> str:
        """The id to run: a parametrized test whose id differs from one collection to the next (a value made at
        import) is named by its function, which runs every parametrization."""
        return test_id if test_id in self.collected else test_id.partition("[")[0]

    def tests_by_line(self, module: str) -> dict[int, tuple[list[str], bool]]:
        """Line number -> (the test ids that run it, whether only their bodies do).

        A test that never reaches a line behaves the same whatever the line says, so when only test bodies run a
        line, those tests are all that can kill its mutants. A line also run in fixtures (which later tests may
        share) is tried on its tests first and, if its mutant survives them, on the module's own list
        (PYTHON_MODULES). Left out (the module's list at once): lines run at import and lines coverage does not
        see (a statement's continuation lines). One way the selection can miss a kill remains: a line that fills a
        per-process cache in one test changes what a later test sees. That errs towards survivors, which are then
        looked at one by one.
        """
        order = {test: number for number, test in enumerate(PYTHON_MODULES[module])}
        lines: dict[int, tuple[list[str], bool]] = {}
        measured = next(name for name in self.data.measured_files() if name.endswith("/" + module))
        for line, contexts in self.data.contexts_by_lineno(measured).items():
            if "" not in contexts:
                ids = sorted(
                    {self.runnable(context.rpartition("|")[0]) for context in contexts},
                    key=lambda test_id: (order.get(test_id.partition("::")[0], len(order)), test_id),
                )
                lines[line] = (ids, not self.shared.intersection(contexts))
        return lines


def collected_ids(tests: tuple[str, ...]) -> list[str]:
    listed = subprocess.run(
        [*PYTEST, "--collect-only", "-q", *tests], cwd=TREE, env=environment(), capture_output=True, text=True
    ).stdout.splitlines()
    return [line.strip() for line in listed if "::" in line]


def fixture_sharing_phases(ids: list[str]) -> set[str]:
    """The coverage contexts in which fixtures shared by several tests may run: a session, module or class
    fixture is set up with the first test of its scope and torn down with the last one."""
    phases: set[str] = set()
    for scope in {test_id.rpartition("::")[0] for test_id in ids} | {test_id.partition("::")[0] for test_id in ids}:
        members = [test_id for test_id in ids if test_id.startswith(scope + "::")]
        phases |= {f"{members[0]}|setup", f"{members[-1]}|teardown"}
    return phases


def annotation_only(original: ast.Module, mutated: str) -> bool:
    """Whether the mutant changes nothing but annotations, which these modules never evaluate (they all import
    `annotations` from __future__, so annotations stay strings)."""

    def without_annotations(tree: ast.AST) -> str:
        for node in ast.walk(tree):
            if isinstance(node, ast.AnnAssign | ast.arg):
                node.annotation = ast.Constant(None)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                node.returns = None
        return ast.dump(tree)

    try:
        changed = ast.parse(mutated)
    except SyntaxError:
        return False
    return without_annotations(copy.deepcopy(original)) == without_annotations(changed)


def compiles(mutated: str) -> bool:
    try:
        compile(mutated, "<mutant>", "exec")
    except SyntaxError:
        return False
    return True


def run_python(
    report: Report,
    equivalent: set[str],
    modules: list[str],
    chosen: set[str] | None,
    reuse: Path | None,
    killed_before: set[str],
) -> None:
    """Each mutant against the tests that run its line (Selection.tests_by_line), or the module's own list when its
    line is not one of those; output as it goes."""
    selection = Selection.measure(reuse)
    server = ForkServer()
    print(f"[python] coverage of the selectable tests in {selection.seconds / 60:.1f} min", flush=True)
    for module in modules:
        tests = PYTHON_MODULES[module]
        lines = selection.tests_by_line(module)
        tree = ast.parse((TREE / module).read_text())
        mutants = [mutant for mutant in python_mutants(module) if chosen is None or mutant[1] in chosen]
        annotations = [mutant for mutant in mutants if annotation_only(tree, mutant[2])]
        mutants = [mutant for mutant in mutants if mutant not in annotations]
        report.annotation_only += len(annotations)
        print(
            f"[python] {module}: {len(mutants)} mutants ({len(annotations)} of annotations only set apart),"
            f" tests of {len(lines)} lines",
            flush=True,
        )
        target = TREE / module
        original = target.read_text()
        for number, (line, ident, mutated) in enumerate(mutants, 1):
            if ident in killed_before:
                report.outcomes.append(Outcome("python", ident, "killed", "in an earlier run"))
                print(f"[python {module} {number}/{len(mutants)}] killed (earlier run): {ident}", flush=True)
                continue
            try:
                target.write_text(mutated)
                selected, complete = lines.get(line, (tests, True))
                # a mutant that does not compile fails every test that imports the module
                status = server.run(tuple(selected), MUTANT_TIMEOUT_SECONDS) if compiles(mutated) else "killed"
                if status == "survived" and not complete:
                    status = server.run(tests, MUTANT_TIMEOUT_SECONDS)
            finally:
                target.write_text(original)
            if status == "error (pytest exit 2)":
                status = "killed"  # the mutant broke the import: pytest could not collect
            elif status.startswith("error"):
                raise SystemExit(f"{ident}: {status} running {' '.join(selected)[:2000]}")
            if status == "survived" and ident in equivalent:
                status = "equivalent"
            report.outcomes.append(Outcome("python", ident, status))
            print(f"[python {module} {number}/{len(mutants)}] {status}: {ident}", flush=True)


def killed_in(output: Path) -> set[str]:
    """The ids of the Python mutants an earlier run's output reports killed (or timed out)."""
    found = re.findall(r"^\[python [^\]]+\] (?:killed|timeout)(?: \(earlier run\))?: (.*)$", output.read_text(), re.M)
    return set(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("python", "text"))
    parser.add_argument("--module", action="append", choices=sorted(PYTHON_MODULES), help="Python modules to mutate")
    parser.add_argument("--match", help="only the textual mutants whose id contains this")
    parser.add_argument("--coverage-from", type=Path, help="another run's directory: reuse its coverage of the tests")
    parser.add_argument(
        "--killed-in",
        type=Path,
        help="an earlier run's output: the mutants it killed count as killed without a run (tests only grew since)",
    )
    parser.add_argument("--ids", type=Path, help="only the Python mutants whose ids are lines of this file")
    args = parser.parse_args(argv)
    started = time.monotonic()
    copy_tree()
    equivalent = load_equivalent()
    report = Report()
    if args.only != "python":
        run_textual(report, equivalent["text"], args.match)
    if args.only != "text":
        chosen = set(args.ids.read_text().splitlines()) if args.ids else None
        killed_before = killed_in(args.killed_in) if args.killed_in else set()
        run_python(
            report, equivalent["python"], args.module or list(PYTHON_MODULES), chosen, args.coverage_from, killed_before
        )
    report.seconds = time.monotonic() - started
    text = report.render()
    (WORK / "report.md").write_text(text)
    print(text)
    return 1 if any(o.status == "survived" for o in report.outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
