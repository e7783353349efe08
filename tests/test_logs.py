"""Logs: one JSON access line per request with its ids, errors logged once with the same ids, one format for our
events and the standard library's, and never a token or a password."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from bench.stack import ExitusProcess
from exitus import db
from exitus.config import Config
from exitus.dev.postgres import free_port
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


# --- never leak: SQL parameters, bearer tokens, passwords, in problem bodies and log lines (issue 17) ---------------


@contextlib.contextmanager
def failure_quoting_values(postgres, rejected_prefix: str) -> Iterator[None]:
    """A bug's stand-in: a trigger refusing project names that start with `rejected_prefix` as a violation of a
    constraint the error renderer does not know (a 500), in a message quoting the name, as PostgreSQL's own messages
    quote values (a failing row or key, for roles row-level security does not bind; an input it cannot parse)."""
    with psycopg.connect(postgres.libpq_dsn("exitus_test", "postgres"), autocommit=True) as owner:
        owner.execute(
            sql.SQL(
                "create function leak_probe() returns trigger language plpgsql as $$ begin"
                " if new.name like {} then raise exception 'refusing %', new.name"
                " using errcode = 'check_violation', constraint = 'leak_probe_check'; end if; return new; end $$;"
                " create trigger leak_probe before insert on projects for each row execute function leak_probe()"
            ).format(sql.Literal(rejected_prefix + "%"))
        )
        try:
            yield
        finally:
            owner.execute("drop trigger leak_probe on projects; drop function leak_probe()")


def test_a_database_error_answers_and_logs_no_value_of_the_statement(logs, postgres, tenant):
    value = f"leak-probe-{uuid.uuid4().hex}"
    request_id = f"req-{uuid.uuid4()}"
    with failure_quoting_values(postgres, "leak-probe-"):
        response = tenant.api().post(
            "/v1/projects", json={"name": value, "labels": []}, headers={"X-Request-ID": request_id}
        )
    assert_problem(response, 500)
    assert value not in response.text
    [error] = [line for line in logs.lines() if line.get("level") == "error" and line.get("request_id") == request_id]
    # The log says what failed, by name, so there is something to search; and nothing of the row.
    assert "CheckViolation" in error["exception"] and "leak_probe_check" in error["exception"]
    assert value not in logs.text()


def test_a_database_error_in_a_span_records_no_value_of_the_statement(postgres, tenant, monkeypatch):
    """The query's span records the exception (exported to a collector): its class and names, not its message."""
    recorded = []
    start_span = db.tracer.start_span

    def recording_start_span(*args: Any, **kwargs: Any) -> Any:
        span = start_span(*args, **kwargs)
        span.record_exception = lambda error, attributes=None, **_: recorded.append((str(error), attributes))
        return span

    monkeypatch.setattr(db.tracer, "start_span", recording_start_span)
    value = f"leak-probe-{uuid.uuid4().hex}"
    with failure_quoting_values(postgres, "leak-probe-"):
        assert_problem(tenant.api().post("/v1/projects", json={"name": value, "labels": []}), 500)
    [(message, attributes)] = recorded
    assert value in message  # what PostgreSQL said, and what the span must not carry
    assert value not in json.dumps(attributes) and "leak_probe_check" in attributes["exception.message"]


def test_auth_failures_and_validation_errors_echo_no_token_or_password(logs, http, tenant, issuer):
    valid = tenant.token()
    expired = tenant.token(ttl_seconds=-60)
    foreign = issuer.token(customer=tenant.customer_id, client_id="not-us")
    forged = valid[:-8] + "AAAAAAAA"
    password = f"pw-{uuid.uuid4().hex}"
    basic = base64.b64encode(f"admin:{password}".encode()).decode()
    attempts = [
        ("GET", "/v1/projects", {"Authorization": f"Bearer {token}"}, None)
        for token in (expired, foreign, forged, "not.a-jwt." + password, password)
    ] + [
        ("GET", "/v1/projects", {"Authorization": f"Basic {basic}"}, None),
        ("GET", "/v1/projects", {"Authorization": f"Bearer {valid} {password}"}, None),
        ("GET", f"/v1/projects?access_token={valid}&password={password}", {}, None),
        # Validation errors quote what they refuse: never whole, never a secret's tail.
        ("POST", "/v1/projects", {"Authorization": f"Bearer {valid}"}, {"name": valid, "labels": [valid]}),
        ("POST", "/v1/projects", {"Authorization": f"Bearer {valid}"}, {"name": "x", "labels": [], "token": valid}),
        ("GET", f"/v1/projects/{valid}", {"Authorization": f"Bearer {valid}"}, None),
        ("GET", f"/v1/audit-events?actor={valid}&since={password}", {"Authorization": f"Bearer {valid}"}, None),
    ]
    answers = []
    for method, path, headers, body in attempts:
        response = http.request(method, path, headers=headers, json=body)
        assert response.status_code in (400, 401, 403, 404), (path, response.status_code, response.text)
        answers.append(response.text + json.dumps(dict(response.headers)))
    served = [line for line in logs.text().splitlines() if '"logger": "http' not in line]  # not the test's client
    text = "\n".join(answers + served)
    assert '"status": 401' in text and '"status": 400' in text  # the logs are there to search
    for token in (valid, expired, foreign, forged):
        _, payload, signature = token.split(".")  # the header (algorithm, key id) is no secret; the rest is
        assert payload[:20] not in text and payload[-20:] not in text
        assert signature[:20] not in text and signature[-20:] not in text
    assert password not in text and basic not in text


BAD_URLS = [
    "postgresql://exitus:{password}@127.0.0.1:notaport/exitus",
    "postgresql://exitus:{password}@[::1/exitus",
    "postgresql://exitus:{password}@127.0.0.1:1/exitus?sslmode=bogus",
    "postgresql://exitus:{password}@127.0.0.1:99999/exitus",
    "host=127.0.0.1 port=1 user=exitus password={password} dbname=exitus connect_timeout=x",
    "mysql://exitus:{password}@127.0.0.1/exitus",
]


@pytest.mark.parametrize("command", [["migrate", "status"], ["serve"]])
@pytest.mark.parametrize("url", BAD_URLS)
def test_start_up_failures_never_show_the_database_password(command, url, issuer):
    password = f"pw-{uuid.uuid4().hex}"
    env = {
        **os.environ,
        "PGDATASOURCE": url.format(password=password),
        "OPENID_PROVIDER_URL": issuer.url,
        "OAUTH_CLIENT_ID": CLIENT_ID,
        "STAGE": "production",
        "LOG_LEVEL": "DEBUG",
        "ADDR": f"127.0.0.1:{free_port()}",
    }
    try:
        result = subprocess.run(
            [sys.executable, "-m", "exitus", *command], env=env, capture_output=True, text=True, timeout=10
        )
    except subprocess.TimeoutExpired as running:  # serving: the pool connects on first use
        output = (running.stdout or b"").decode() + (running.stderr or b"").decode()
    else:
        assert result.returncode != 0
        output = result.stdout + result.stderr
        assert output.strip()  # it says why
    assert password not in output
