"""Logs: one JSON access line per request with its ids, errors logged once with the same ids, one format for our
events and the standard library's, and never a token or a password."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from bench.stack import ExitusProcess
from exitus.config import Config
from exitus.logs import configure_logging
from tests.conftest import CLIENT_ID, assert_problem


class CapturedLogs:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text().splitlines()]

    def access(self, request_id: str) -> list[dict[str, Any]]:
        return [
            line
            for line in self.lines()
            if line.get("logger") == "exitus.access" and line.get("request_id") == request_id
        ]


@pytest.fixture
def logs() -> Iterator[CapturedLogs]:
    """The process's logging, as `exitus serve` configures it outside local development, into a buffer."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    captured = CapturedLogs()
    configure_logging(stage="production", level="DEBUG", stream=captured.stream)
    yield captured
    root.handlers[:], level = saved
    root.setLevel(level)


def test_each_request_logs_one_access_line_with_its_ids(logs, tenant, http):
    project = tenant.create_project()
    request_id = f"req-{uuid.uuid4()}"
    response = tenant.api().get(f"/v1/projects/{project['id']}", headers={"X-Request-ID": request_id})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == request_id

    [line] = logs.access(request_id)
    assert line["event"] == "request"
    assert line["level"] == "info"
    assert line["method"] == "GET"
    assert line["route"] == "/v1/projects/{id}"
    assert line["path"] == f"/v1/projects/{project['id']}"
    assert line["status"] == 200
    assert line["duration_ms"] > 0
    assert line["sub"] == f"user-of-{tenant.customer_id}"
    assert line["customer_id"] == tenant.customer_id
    assert line["timestamp"].endswith("Z")


def test_rejected_requests_are_logged_too(logs, http):
    request_id = f"req-{uuid.uuid4()}"
    assert_problem(http.get("/v1/projects", headers={"X-Request-ID": request_id}), 401)
    [line] = logs.access(request_id)
    assert line["status"] == 401
    assert line["route"] == "/v1/projects"
    assert "sub" not in line and "customer_id" not in line


def test_a_request_id_is_generated_when_none_or_a_bad_one_comes(logs, http):
    for incoming in ({}, {"X-Request-ID": "no spaces or {braces} please"}):
        response = http.get("/healthz", headers=incoming)
        generated = response.headers["x-request-id"]
        assert generated and generated != incoming.get("X-Request-ID")
        assert len(logs.access(generated)) == 1


def test_an_unexpected_error_is_logged_once_with_the_request_ids(logs, tenant, server, monkeypatch):
    def broken(_connection: Any, _params: Any) -> None:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setitem(server.app.database.statements, "list_projects", broken)
    request_id = f"req-{uuid.uuid4()}"
    response = tenant.api().get("/v1/projects", headers={"X-Request-ID": request_id})
    body = assert_problem(response, 500)
    assert "fire" not in response.text and "Traceback" not in response.text
    assert body["request_id"] == request_id

    errors = [line for line in logs.lines() if line.get("level") == "error"]
    assert len(errors) == 1, errors
    [error] = errors
    assert error["request_id"] == request_id
    assert error["customer_id"] == tenant.customer_id
    assert "the disk is on fire" in error["exception"]
    [access] = logs.access(request_id)
    assert access["status"] == 500 and access["level"] == "warning"


def test_standard_library_logs_share_the_json_format(logs):
    logging.getLogger("uvicorn.error").warning("something from %s", "uvicorn")
    [line] = [line for line in logs.lines() if line.get("logger") == "uvicorn.error"]
    assert line["event"] == "something from uvicorn"
    assert line["level"] == "warning"
    assert "timestamp" in line


def test_log_level_comes_from_log_level_or_debug(database_url):
    base = {"PGDATASOURCE": database_url}
    assert Config.from_env(base, need_oidc=False).log_level == "INFO"
    assert Config.from_env({**base, "DEBUG": "true"}, need_oidc=False).log_level == "DEBUG"
    assert Config.from_env({**base, "DEBUG": "true", "LOG_LEVEL": "warning"}, need_oidc=False).log_level == "WARNING"
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        stream = io.StringIO()
        configure_logging(stage="production", level="WARNING", stream=stream)
        logging.getLogger("exitus.test").info("quiet")
        logging.getLogger("exitus.test").warning("loud")
        assert [json.loads(line)["event"] for line in stream.getvalue().splitlines()] == ["loud"]
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


def test_local_stage_logs_for_humans():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        stream = io.StringIO()
        configure_logging(stage="local", stream=stream)
        logging.getLogger("exitus.test").info("hello")
        text = stream.getvalue()
        assert "hello" in text and not text.lstrip().startswith("{")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


def test_no_token_password_or_db_secret_reaches_the_logs(postgres, database_url, issuer, tenant, tmp_path):
    """`exitus serve` at DEBUG level with DB_SECRET, serving valid, invalid and foreign tokens: every line it writes
    is searched for the secrets."""
    password = f"pw-{uuid.uuid4().hex}"
    with psycopg.connect(postgres.libpq_dsn("postgres", "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("alter role exitus password {}").format(sql.Literal(password)))
    secret = json.dumps(
        {
            "username": "exitus",
            "password": password,
            "host": "127.0.0.1",
            "port": postgres.port,
            "dbname": make_url(database_url).database,
            "engine": "postgres",
        }
    )
    env = {
        "DB_SECRET": secret,
        "OPENID_PROVIDER_URL": issuer.url,
        "OAUTH_CLIENT_ID": CLIENT_ID,
        "LOG_LEVEL": "DEBUG",
        "SHUTDOWN_DRAIN_SECONDS": "0",
    }
    valid = tenant.token()
    expired = tenant.token(ttl_seconds=-60)
    foreign = issuer.token(customer=tenant.customer_id, client_id="not-us")
    output = tmp_path / "serve.log"
    exitus = ExitusProcess(env, output).start()
    try:
        with httpx.Client(base_url=exitus.url, timeout=10) as client:
            for token in (valid, expired, foreign, valid[:-4] + "AAAA"):
                client.get("/v1/projects", headers={"Authorization": f"Bearer {token}"})
                client.post("/v1/projects?access_token=" + token, json={"name": "x", "labels": []})
    finally:
        exitus.stop()
    text = output.read_text()
    assert '"event": "request"' in text and '"status": 401' in text  # the logs are there to search
    for token in (valid, expired, foreign):
        for part in token.split("."):
            assert part not in text
    assert password not in text
    assert secret not in text and '"password"' not in text
