"""The generated Python client (clients/python, `make sdk`): committed as the generator makes it from the spec, and it
works against a running exitus — a whole session through it, errors as typed problems."""

from __future__ import annotations

import filecmp
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLIENT = ROOT / "clients" / "python"
sys.path.insert(0, str(CLIENT))  # as `pip install -e clients/python` would (clients/python/README.md)

from exitus_client import AuthenticatedClient  # noqa: E402
from exitus_client.api.comments import create_comment, list_comments  # noqa: E402
from exitus_client.api.issues import create_issue, get_issue, list_issues, update_issue  # noqa: E402
from exitus_client.api.problems import get_problem_type  # noqa: E402
from exitus_client.api.projects import create_project  # noqa: E402
from exitus_client.models import (  # noqa: E402
    Category,
    Issue,
    IssueList,
    NewComment,
    NewIssue,
    NewProject,
    Problem,
    Project,
    Severity,
    UpdatedIssue,
)

from clients.generate import generate  # noqa: E402

GENERATED_ONLY = {"__pycache__", ".ruff_cache", "build", "dist"}


def tree(root: Path) -> set[str]:
    return {
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file()
        and not GENERATED_ONLY & set(path.relative_to(root).parts)
        and not any(part.endswith(".egg-info") for part in path.parts)
    }


def drift(committed: Path, fresh: Path) -> list[str]:
    """The files that differ between the committed client and a fresh generation (missing, extra or changed)."""
    ours, theirs = tree(committed), tree(fresh)
    changed = [name for name in sorted(ours & theirs) if not filecmp.cmp(committed / name, fresh / name, shallow=False)]
    return sorted(ours ^ theirs) + changed


def test_the_committed_client_is_what_the_spec_generates(tmp_path):
    fresh = tmp_path / "python"
    generate(fresh)
    differing = drift(CLIENT, fresh)
    assert not differing, f"clients/python is out of date with openapi/exitus.yaml: run make sdk ({differing[:5]})"


def test_drift_is_found(tmp_path):
    copy = tmp_path / "copy"
    (copy / "pkg").mkdir(parents=True)
    (copy / "pkg" / "a.py").write_text("a = 1\n")
    (copy / "README.md").write_text("x\n")
    fresh = tmp_path / "fresh"
    (fresh / "pkg" / "__pycache__").mkdir(parents=True)
    (fresh / "pkg" / "a.py").write_text("a = 2\n")
    (fresh / "pkg" / "__pycache__" / "a.pyc").write_text("ignored")
    (fresh / "setup.py").write_text("")
    assert drift(copy, fresh) == ["README.md", "setup.py", "pkg/a.py"]


@pytest.fixture
def client(server, tenant):
    with AuthenticatedClient(base_url=server.url, token=tenant.token()) as client:
        yield client


def new_issue(subject: str) -> NewIssue:
    return NewIssue(subject=subject, content="Steps: ...", severity=Severity.HIGH, category=Category.BUG, labels=[])


def test_a_session_through_the_generated_client(client):
    project = create_project.sync(client=client, body=NewProject(name="Website", labels=["web"]))
    assert isinstance(project, Project), project
    issues = [create_issue.sync(project.id, client=client, body=new_issue(f"issue {n}")) for n in range(3)]
    assert all(isinstance(issue, Issue) for issue in issues), issues
    comment = create_comment.sync(project.id, issues[0].id, client=client, body=NewComment(content="I see it too"))
    assert comment.content == "I see it too"
    assert [c.id for c in list_comments.sync(project.id, issues[0].id, client=client).comments] == [comment.id]

    first = list_issues.sync(project.id, client=client, limit=2)
    second = list_issues.sync(project.id, client=client, limit=2, offset=2)
    assert isinstance(first, IssueList) and isinstance(second, IssueList)
    assert [i.subject for i in first.issues + second.issues] == ["issue 0", "issue 1", "issue 2"]

    issue = issues[0]
    update = UpdatedIssue.from_dict({**new_issue("renamed").to_dict(), "version": issue.version})
    updated = update_issue.sync(project.id, issue.id, client=client, body=update)
    assert isinstance(updated, Issue) and updated.version == issue.version + 1

    stale = update_issue.sync_detailed(project.id, issue.id, client=client, body=update)
    assert stale.status_code == 409
    problem = stale.parsed
    assert isinstance(problem, Problem), problem
    assert problem.type_ == "/problems/version-conflict"
    assert problem.current_version == updated.version
    assert get_issue.sync(project.id, issue.id, client=client).subject == "renamed"  # the stale update changed nothing

    documented = get_problem_type.sync("version-conflict", client=client)
    assert documented.status == 409 and documented.title == problem.title


def test_other_failures_are_problems_of_their_type(client):
    project = create_project.sync(client=client, body=NewProject(name="Twice", labels=[]))
    again = create_project.sync(client=client, body=NewProject(name="Twice", labels=[]))
    assert isinstance(again, Problem) and again.type_ == "/problems/duplicate-name"
    body = new_issue("x").to_dict() | {"severity": "apocalyptic"}
    response = client.get_httpx_client().post(f"/v1/projects/{project.id}/issues", json=body)
    invalid = Problem.from_dict(response.json())
    assert invalid.type_ == "/problems/validation"
    assert [error.pointer for error in invalid.errors] == ["/severity"]
