"""The contract check (tests/contract/check.py, `make contract`): Optic finds what breaks clients of the released
contract; a breaking change passes only as a release that says so, with a changelog entry."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.contract import check as contract

# Today's spec as if it were released as 0.1.0: the versions below are this test's own, whatever main's is.
SPEC = yaml.safe_load(contract.SPEC.read_text(encoding="utf-8"))
SPEC["info"]["version"] = "0.1.0"


def write(path: Path, spec: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def released(tmp_path) -> Path:
    return write(tmp_path / "released.yaml", SPEC)


def changed(change) -> dict[str, Any]:
    spec = copy.deepcopy(SPEC)
    change(spec)
    return spec


def without_issue_subject(spec):
    issue = spec["components"]["schemas"]["Issue"]
    del issue["properties"]["subject"]
    issue["required"].remove("subject")


def with_q_required(spec):
    spec["components"]["parameters"]["Q"]["required"] = True


def with_additions(spec):
    spec["components"]["schemas"]["Issue"]["properties"]["watchers"] = {"type": "integer", "minimum": 0}
    spec["paths"]["/v1/things"] = {
        "get": {
            "operationId": "list_things",
            "responses": {"200": {"description": "Things.", "content": {"application/json": {"schema": {}}}}},
        }
    }


def with_version(release: str):
    def change(spec):
        spec["info"]["version"] = release

    return change


def test_the_released_contract_is_a_snapshot_of_a_released_version():
    released = yaml.safe_load(contract.RELEASED.read_text(encoding="utf-8"))
    assert contract.has_changelog_entry(contract.CHANGELOG, released["info"]["version"])


@pytest.mark.parametrize(
    "breaking", [without_issue_subject, with_q_required], ids=["property-removed", "param-required"]
)
def test_a_breaking_change_fails(tmp_path, released, breaking):
    verdict = contract.check(released, write(tmp_path / "spec.yaml", changed(breaking)), tmp_path / "CHANGELOG.md")
    assert not verdict.ok
    assert "break clients of the released 0.1.0" in verdict.message and "0.2.0" in verdict.message
    assert "breaking change" in verdict.message  # Optic's own account of what breaks


def test_an_additive_change_passes_and_leaves_nothing_behind(tmp_path, released, monkeypatch):
    monkeypatch.setenv("CI", "true")  # as in CI, where Optic writes a report file into its working directory
    monkeypatch.chdir(tmp_path)
    verdict = contract.check(released, write(tmp_path / "spec.yaml", changed(with_additions)), tmp_path / "none.md")
    assert verdict.ok, verdict.message
    assert not (contract.ROOT / "ci-run-details.json").exists() and not (tmp_path / "ci-run-details.json").exists()


def test_a_breaking_change_passes_as_a_release_that_may_break_with_a_changelog_entry(tmp_path, released):
    spec = write(tmp_path / "spec.yaml", changed(lambda s: (without_issue_subject(s), with_version("0.2.0")(s))))
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text("# Changelog\n\n## 0.1.0\n\nFirst.\n")
    verdict = contract.check(released, spec, changelog)
    assert not verdict.ok and "add a CHANGELOG.md entry for 0.2.0" in verdict.message
    changelog.write_text("# Changelog\n\n## [0.2.0] - 2026-12-01\n\nIssues lose `subject`.\n\n## 0.1.0\n")
    assert contract.check(released, spec, changelog).ok


def test_a_document_optic_cannot_read_is_a_tool_failure(tmp_path, released):
    broken = tmp_path / "spec.yaml"
    broken.write_text("openapi: 3.0.3\npaths: [\n")
    with pytest.raises(contract.ToolFailed):
        contract.check(released, broken, tmp_path / "none.md")


@pytest.mark.parametrize(
    ("released", "current", "may"),
    [
        ("0.1.0", "0.2.0", True),
        ("0.1.0", "1.0.0", True),
        ("0.1.0", "0.1.1", False),
        ("0.1.0", "0.1.0", False),
        ("1.4.2", "1.5.0", False),
        ("1.4.2", "2.0.0", True),
        ("2.0.0", "1.9.0", False),
        ("0.3.0", "0.2.0", False),
        ("0.1.0", "next", False),
    ],
)
def test_which_releases_may_break(released, current, may):
    assert contract.may_break(released, current) is may


def test_changelog_entries_are_headings_naming_the_version(tmp_path):
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text("# Changelog\n\n## 0.2.0 - soon\n\nSee 0.3.0 later.\n### [1.0.0]\n")
    assert contract.has_changelog_entry(changelog, "0.2.0")
    assert contract.has_changelog_entry(changelog, "1.0.0")
    assert not contract.has_changelog_entry(changelog, "0.3.0")  # mentioned, but not a heading
    assert not contract.has_changelog_entry(changelog, "0.2")
    assert not contract.has_changelog_entry(tmp_path / "missing.md", "0.2.0")


def test_release_refuses_without_a_changelog_entry_and_copies_with_one(tmp_path):
    spec = write(tmp_path / "spec.yaml", changed(with_version("0.2.0")))
    released = tmp_path / "released" / "exitus.yaml"
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text("## 0.1.0\n")
    with pytest.raises(contract.ToolFailed, match=r"no entry for 0\.2\.0"):
        contract.release(spec, released, changelog)
    changelog.write_text("## 0.2.0\n")
    released.parent.mkdir()
    write(released, changed(with_version("0.2.0")) | {"x-other": 1})  # 0.2.0 released before, as another contract
    with pytest.raises(contract.ToolFailed, match="released already"):
        contract.release(spec, released, changelog)
    released.unlink()
    contract.release(spec, released, changelog)
    assert released.read_bytes() == spec.read_bytes()
