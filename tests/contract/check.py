"""The contract check (`make contract`, part of `make test`): the spec may break what clients of the last released
contract rely on only in a release that says so.

Optic (npm `@useoptic/optic`, its breaking-changes rules) compares the released contract (openapi/released/exitus.yaml,
refreshed by `make release-contract`) with the spec. A breaking change passes only when the spec's `info.version` is
a release that may break (a new major version; while 0.x, a new minor version) and CHANGELOG.md has an entry for
that version.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
RELEASED = ROOT / "openapi" / "released" / "exitus.yaml"
SPEC = ROOT / "openapi" / "exitus.yaml"
CHANGELOG = ROOT / "CHANGELOG.md"
OPTIC = ROOT / "node_modules" / ".bin" / "optic"
SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$")


class ToolFailed(Exception):
    """Optic could not compare the two documents (not a verdict on them)."""


@dataclass
class Verdict:
    ok: bool
    message: str


def version(spec: Path) -> str:
    return str(yaml.safe_load(spec.read_text(encoding="utf-8"))["info"]["version"])


def may_break(released: str, current: str) -> bool:
    """Whether `current` is a release that may break clients of `released` (semver; 0.x: a minor step counts)."""
    old, new = SEMVER.match(released), SEMVER.match(current)
    if old is None or new is None:
        return False
    (old_major, old_minor, _), (new_major, new_minor, _) = (map(int, old.groups()[:3]), map(int, new.groups()[:3]))
    if new_major != old_major:
        return new_major > old_major
    return old_major == 0 and new_minor > old_minor


def has_changelog_entry(changelog: Path, release: str) -> bool:
    """A Markdown heading of CHANGELOG.md names the release (`## 0.2.0`, `## [0.2.0] - 2026-11-30`)."""
    if not changelog.exists():
        return False
    heading = re.compile(r"^#{1,6}\s.*(?<![\w.])\[?" + re.escape(release) + r"\]?(?![\w.])", re.MULTILINE)
    return heading.search(changelog.read_text(encoding="utf-8")) is not None


_reports: dict[tuple[bytes, bytes], str | None] = {}


def breaking_changes(released: Path, spec: Path) -> str | None:
    """Optic's report of the changes that break clients of `released`, or None when there are none (a comparison of
    the same two documents is made once per process: it takes seconds)."""
    key = (released.read_bytes(), spec.read_bytes())
    if key not in _reports:
        _reports[key] = _optic_diff(released, spec)
    return _reports[key]


def _optic_diff(released: Path, spec: Path) -> str | None:
    if not OPTIC.exists():
        raise ToolFailed(f"{OPTIC} is missing: run `make node_modules/.installed` (npm install)")
    env = {**os.environ, "OPTIC_TELEMETRY_LEVEL": "off", "NO_COLOR": "1"}
    # Loose validation: Optic's strict schema rejects link `requestBody` objects that OpenAPI 3.0 allows.
    documents = [str(released.resolve()), str(spec.resolve())]
    command = [str(OPTIC), "diff", *documents, "--check", "--validation", "loose", "--severity", "error"]
    # In a scratch directory: with CI set, Optic leaves ci-run-details.json in its working directory.
    with tempfile.TemporaryDirectory(prefix="exitus-contract-") as scratch:
        result = subprocess.run(command, cwd=scratch, env=env, capture_output=True, text=True, timeout=300)
    report = _plain(result.stdout + result.stderr)
    if result.returncode == 0:
        return None
    if "Checks:" not in report:
        raise ToolFailed(f"optic diff failed (exit {result.returncode}):\n{report}")
    return report


def check(released: Path = RELEASED, spec: Path = SPEC, changelog: Path = CHANGELOG) -> Verdict:
    report = breaking_changes(released, spec)
    old, new = version(released), version(spec)
    if report is None:
        return Verdict(True, f"contract: no change breaks clients of the released {old}")
    if not may_break(old, new):
        return Verdict(
            False,
            f"{report}\ncontract: these changes break clients of the released {old}; keep them compatible, or make "
            f"info.version a release that may break ({_next_breaking(old)}) with an entry in CHANGELOG.md",
        )
    if not has_changelog_entry(changelog, new):
        return Verdict(False, f"{report}\ncontract: {new} breaks clients of {old}: add a CHANGELOG.md entry for {new}")
    return Verdict(True, f"{report}\ncontract: breaking changes released as {new} (CHANGELOG.md)")


def _next_breaking(released: str) -> str:
    match = SEMVER.match(released)
    if match is None:
        return "a semver version"
    major, minor = int(match.group(1)), int(match.group(2))
    return f"{major}.{minor + 1}.0" if major == 0 else f"{major + 1}.0.0"


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def release(spec: Path = SPEC, released: Path = RELEASED, changelog: Path = CHANGELOG) -> str:
    """`make release-contract`: the spec becomes the released contract, once CHANGELOG.md describes its version."""
    current = version(spec)
    if released.exists() and version(released) == current and released.read_bytes() != spec.read_bytes():
        raise ToolFailed(f"{current} is released already with another contract: raise info.version first")
    if not has_changelog_entry(changelog, current):
        raise ToolFailed(f"CHANGELOG.md has no entry for {current}: describe the release first")
    released.parent.mkdir(parents=True, exist_ok=True)
    released.write_bytes(spec.read_bytes())
    return f"contract: {released} is now {current}; commit it with the release"


def main(argv: list[str]) -> int:
    if argv == ["--release"]:
        try:
            print(release())
        except ToolFailed as error:
            print(f"contract: {error}", file=sys.stderr)
            return 1
        return 0
    released, spec = (Path(argv[0]), Path(argv[1])) if len(argv) == 2 else (RELEASED, SPEC)
    try:
        verdict = check(released, spec)
    except ToolFailed as error:
        print(f"contract: {error}", file=sys.stderr)
        return 2
    print(verdict.message, file=sys.stdout if verdict.ok else sys.stderr)
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
