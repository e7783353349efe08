"""The `exitus` command line: help, configuration errors, migrate, and the dev-token helper."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from jose import jwt

from exitus.cli import main
from tests.conftest import CLIENT_ID

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
