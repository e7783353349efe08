"""The `exitus` command line: help, configuration errors, migrate, and the dev-token helper."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
import uuid

import pytest
from jose import jwt

from exitus import migrations
from exitus.cli import main
from tests.conftest import CLIENT_ID
from tests.faults.conftest import command_prefix
from tests.test_migrations import ALL, NEWEST_FIRST

SUBCOMMANDS = ["serve", "migrate", "dev-issuer", "dev-token", "dev-up"]


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_help_for_each_subcommand_exits_zero(command, capsys):
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    assert f"usage: exitus {command}" in capsys.readouterr().out


def test_top_level_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for command in SUBCOMMANDS:
        assert command in out


def test_no_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
    assert "usage: exitus" in capsys.readouterr().err


def test_serve_without_an_issuer_is_a_one_line_configuration_error(monkeypatch, capsys):
    monkeypatch.setenv("PGDATASOURCE", "postgresql://exitus@127.0.0.1:1/exitus")
    monkeypatch.delenv("OPENID_PROVIDER_URL", raising=False)
    monkeypatch.setenv("OAUTH_CLIENT_ID", CLIENT_ID)
    assert main(["serve"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("exitus: configuration error: OPENID_PROVIDER_URL")


def test_migrate_without_a_database_is_a_configuration_error(monkeypatch, capsys):
    for name in ("PGDATASOURCE", "DATABASE_URL", "DB_SECRET"):
        monkeypatch.delenv(name, raising=False)
    assert main(["migrate", "status"]) == 2
    assert capsys.readouterr().err.startswith("exitus: configuration error: PGDATASOURCE")


def test_migrate_up_on_a_migrated_database_applies_nothing(database_url, monkeypatch, capsys):
    monkeypatch.setenv("PGDATASOURCE", database_url)
    assert main(["migrate", "up"]) == 0
    assert capsys.readouterr().out.strip() == "applied 0 migration(s)"


def test_migrate_rejects_an_unknown_direction(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["migrate", "sideways"])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_dev_token_without_issuer_state_explains_what_to_do(tmp_path, capsys):
    assert main(["dev-token", "--key-dir", str(tmp_path / "nothing-here")]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no dev issuer state" in captured.err
    assert "exitus dev-issuer" in captured.err


def test_dev_token_mints_a_token_with_the_requested_scope_and_customer(issuer, capsys):
    customer = str(uuid.uuid4())
    status = main(
        ["dev-token", "--key-dir", str(issuer.key_dir), "--scopes", "exitus/project.read", "--customer", customer]
    )
    assert status == 0
    token = capsys.readouterr().out.strip()
    claims = jwt.get_unverified_claims(token)
    assert claims["scope"] == "exitus/project.read"
    assert claims["customer_id"] == customer
    assert claims["iss"] == issuer.url
    assert claims["token_use"] == "access"
    assert jwt.get_unverified_header(token)["kid"] == issuer.key.kid


def test_dev_token_is_accepted_by_the_service(issuer, tenant, http, capsys):
    status = main(
        [
            "dev-token",
            "--key-dir",
            str(issuer.key_dir),
            "--scopes",
            "exitus/user.read",
            "--customer",
            tenant.customer_id,
            "--client-id",
            CLIENT_ID,
            "--subject",
            "cli-user",
            "--email",
            "cli@example.com",
        ]
    )
    assert status == 0
    token = capsys.readouterr().out.strip()
    response = http.get("/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert (response.json()["sub"], response.json()["email"]) == ("cli-user", "cli@example.com")


def test_python_dash_m_exitus_help_works():
    result = subprocess.run(
        [sys.executable, "-m", "exitus", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: exitus")
    assert "migrate" in result.stdout


@pytest.fixture
def empty_database(postgres, monkeypatch):
    """An unmigrated database of its own, named by PGDATASOURCE for the command."""
    name = f"cli_{uuid.uuid4().hex[:12]}"
    url = postgres.create_database(name)
    monkeypatch.setenv("PGDATASOURCE", url)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    yield url
    postgres.drop_database(name)


def test_migrate_up_with_steps_applies_exactly_that_many(empty_database, capsys):
    assert main(["migrate", "up", "--steps", "1"]) == 0
    assert capsys.readouterr().out.strip() == "applied 1 migration(s): 0001.schema"
    assert [item.applied for item in migrations.status(empty_database)] == [True] + [False] * (len(ALL) - 1)


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["up", "--steps", "0"], "--steps must be a positive integer, not 0"),
        (["up", "--steps", "-2"], "--steps must be a positive integer, not -2"),
        (["up", "--steps", "two"], "--steps must be a positive integer, not 'two'"),
        (["up", "--steps", "1.5"], "--steps must be a positive integer, not '1.5'"),
        (["up", "--steps", str(len(ALL) + 1)], f"--steps {len(ALL) + 1}: only {len(ALL)} migration(s) pending"),
        (["up", "--all"], "--all and --yes are for down only"),
        (["status", "--steps", "1"], "--steps is for up and down only"),
    ],
)
def test_migrate_up_refuses_bad_steps_in_one_line_and_changes_nothing(empty_database, capsys, argv, complaint):
    assert main(["migrate", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [f"exitus: migrate {argv[0]}: {complaint}; nothing changed"]
    assert not any(item.applied for item in migrations.status(empty_database))


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["--steps", "0", "--yes"], "--steps must be a positive integer, not 0 (--all reverts every migration)"),
        (["--steps", "-1", "--yes"], "--steps must be a positive integer, not -1 (--all reverts every migration)"),
        (["--steps", "x", "--yes"], "--steps must be a positive integer, not 'x'"),
        (["--steps", str(len(ALL) + 1), "--yes"], f"--steps {len(ALL) + 1}: only {len(ALL)} migration(s) applied"),
        (["--steps", "1", "--all", "--yes"], "give --steps N or --all, not both"),
        (["--steps", "1"], f"would revert {ALL[-1]} and drop their tables and data: confirm with --yes"),
    ],
)
def test_migrate_down_refuses_in_one_line_and_changes_nothing(empty_database, capsys, argv, complaint):
    migrations.up(empty_database)
    assert main(["migrate", "down", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [f"exitus: migrate down: {complaint}; nothing changed"]
    assert all(item.applied for item in migrations.status(empty_database))


def test_migrate_down_with_yes_reverts_the_newest_or_all(empty_database, capsys):
    migrations.up(empty_database)
    assert main(["migrate", "down", "--yes"]) == 0
    assert capsys.readouterr().out.strip() == f"reverted 1 migration(s): {ALL[-1]}"
    migrations.up(empty_database)
    assert main(["migrate", "down", "--all", "--yes"]) == 0
    assert capsys.readouterr().out.strip() == f"reverted {len(ALL)} migration(s): {', '.join(NEWEST_FIRST)}"
    assert main(["migrate", "down", "--all", "--yes"]) == 0
    assert capsys.readouterr().out.strip() == "reverted 0 migration(s): none is applied"
    assert main(["migrate", "down", "--yes"]) == 2
    assert "--steps 1: only 0 migration(s) applied" in capsys.readouterr().err


def _migrate_on_a_terminal(database_url: str, argv: list[str], answer: str) -> tuple[int, str]:
    """`exitus migrate ...` as a subprocess whose stdin and stdout are a pseudo-terminal; answers the first question
    (once the output ends with a prompt) and returns the exit status and everything it wrote."""
    env = {**os.environ, "PGDATASOURCE": database_url}
    env.pop("DATABASE_URL", None)
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [*command_prefix(), "-m", "exitus", "migrate", *argv], stdin=terminal, stdout=terminal, stderr=terminal, env=env
    )
    os.close(terminal)
    output = b""
    answered = False
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            readable, _, _ = select.select([controller], [], [], 1)
            if readable:
                try:
                    chunk = os.read(controller, 4096)
                except OSError:  # EIO: the command has exited and closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            if not answered and output.rstrip().endswith(b"continue:"):
                os.write(controller, answer.encode() + b"\n")
                answered = True
        return process.wait(timeout=60), output.decode().replace("\r\n", "\n")
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()


def test_migrate_down_on_a_terminal_says_what_it_reverts_and_asks_first(empty_database):
    migrations.up(empty_database)
    status, output = _migrate_on_a_terminal(empty_database, ["down", "--all"], "no")
    assert status == 1
    assert f"This reverts {len(ALL)} migration(s), newest first: {', '.join(NEWEST_FIRST)}." in output
    assert "data in them" in output
    assert output.strip().endswith("not confirmed: nothing reverted")
    assert all(item.applied for item in migrations.status(empty_database))

    status, output = _migrate_on_a_terminal(empty_database, ["down"], "yes")
    assert status == 0, output
    assert f"This reverts 1 migration(s), newest first: {ALL[-1]}." in output
    assert output.strip().endswith(f"reverted 1 migration(s): {ALL[-1]}")
    assert [item.applied for item in migrations.status(empty_database)] == [True] * (len(ALL) - 1) + [False]
