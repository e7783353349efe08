"""The documents' links lead somewhere: every relative link in the Markdown files, and every Markdown file that the
deployment files' comments send a reader to, exists in the repository (links to the web are not checked: no network).
The README's walk-throughs run against a test server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# [text](target) and ![alt](target), target up to a space or ")"; <a href="target">.
MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|href=\"([^\"]+)\"")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
MENTIONED_DOCUMENT = re.compile(r"(?<![\w./-])((?:[\w.-]+/)*[\w.-]+\.md)\b")
POINTERS = ["docker-compose.yml", "Dockerfile", "Makefile", ".envrc.example", "pyproject.toml"]


def tracked(pattern: str) -> list[Path]:
    listed = subprocess.run(["git", "ls-files", pattern], cwd=ROOT, capture_output=True, text=True, check=True)
    return [ROOT / line for line in listed.stdout.splitlines()]


def relative_links(text: str) -> list[str]:
    text = FENCE.sub("", text)  # code blocks show commands, not links
    links = [a or b for a, b in MARKDOWN_LINK.findall(text)]
    return [link for link in links if not re.match(r"^[a-z][a-z0-9+.-]*:", link, re.IGNORECASE)]


def broken_links(document: Path) -> list[str]:
    broken = []
    for link in relative_links(document.read_text()):
        target = link.split("#", 1)[0]
        if target and not (document.parent / target).resolve().exists():
            broken.append(link)
    return broken


MARKDOWN = tracked("*.md")


def test_the_markdown_files_are_found():
    assert {ROOT / "README.md", ROOT / "docs" / "scaling.md"} <= set(MARKDOWN)


@pytest.mark.parametrize("document", MARKDOWN, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_resolves(document):
    assert broken_links(document) == []


@pytest.mark.parametrize("pointer", POINTERS)
def test_documents_named_in_deployment_files_exist(pointer):
    mentioned = MENTIONED_DOCUMENT.findall((ROOT / pointer).read_text())
    assert [name for name in mentioned if not (ROOT / name).exists()] == []


def test_a_broken_link_is_found(tmp_path):
    document = tmp_path / "README.md"
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    document.write_text(
        "[ok](Dockerfile) [anchor](#top) [web](https://example.com) [gone](../Dockerfile) ![img](missing.png)\n"
        '<a href="nowhere.md">x</a>\n```sh\n[not a link](in/a/code/block)\n```\n'
    )
    assert broken_links(document) == ["../Dockerfile", "missing.png", "nowhere.md"]


# The README's walk-throughs (curl, and the generated Python client), each a code block after a marker comment.
WALKTHROUGH = re.compile(r"<!-- walkthrough: (\w+)[^>]*-->\s*```\w+\n(.*?)^```", re.MULTILINE | re.DOTALL)


def walkthroughs() -> dict[str, str]:
    return dict(WALKTHROUGH.findall((ROOT / "README.md").read_text()))


def run_walkthrough(command: list[str], server, tenant, tmp_path) -> str:
    env = {**os.environ, "API": server.url, "TOKEN": tenant.token(), "PYTHONPATH": str(ROOT / "clients" / "python")}
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_readme_has_both_walkthroughs():
    assert set(walkthroughs()) == {"curl", "sdk"}


def test_the_readme_curl_walkthrough_runs(server, tenant, tmp_path):
    out = run_walkthrough(["bash", "-euo", "pipefail", "-c", walkthroughs()["curl"]], server, tenant, tmp_path)
    lines = [line for line in out.splitlines() if line.strip()]  # some bodies end with a newline, some do not
    assert '"content":"Here too."' in lines[0]  # the comment
    assert json.loads(lines[1])["issues"][0]["subject"] == "The logo is blurry"  # the page
    assert json.loads(lines[2])["version"] == 2  # the update
    problem, status = lines[3].rsplit(" ", 1)
    assert status == "409"
    assert json.loads(problem)["type"] == "/problems/version-conflict"
    assert json.loads(problem)["current_version"] == 2


def test_the_readme_sdk_walkthrough_runs(server, tenant, tmp_path):
    out = run_walkthrough([sys.executable, "-c", walkthroughs()["sdk"]], server, tenant, tmp_path)
    assert out.splitlines() == [
        "['The logo is blurry']",
        "updated to version 2",
        "409 /problems/version-conflict current version: 2",
    ]
