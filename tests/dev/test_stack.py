"""`make run`'s stack: a fresh data directory gets PostgreSQL, migrations, a dev issuer and a working token."""

import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest
import structlog
from sqlalchemy.engine import make_url

from bench.stack import ROOT
from exitus.dev import default_data_dir
from exitus.dev.postgres import APP_ROLE, SERVICE_LOGIN, LocalPostgres, free_port
from exitus.dev.stack import prepare_local_stack
from exitus.logs import configure_logging
from tests.conftest import RunningServer
from tests.faults.conftest import command_prefix


def test_local_stack_serves_the_api_with_the_printed_token(workdir):
    data_dir = workdir / "make-run"
    data_dir.mkdir()
    os.chmod(data_dir, 0o755)
    stack = prepare_local_stack(data_dir, {"STAGE": "local"}, issuer_port=free_port())
    server = RunningServer(stack.app).start()
    try:
        assert stack.token is not None and stack.token in stack.banner
        assert (data_dir / "token").read_text().strip() == stack.token
        assert "/ui/" in stack.banner
        # The banner says how to reach the database, e.g. for `exitus migrate` (README: Commands)
        database = re.search(r"PGDATASOURCE=(\S+)", stack.banner).group(1)
        with psycopg.connect(database.replace("postgresql://", "postgresql://", 1)) as conn:
            assert conn.execute("select count(*) from _yoyo_migration").fetchone()[0] >= 2
        headers = {"Authorization": f"Bearer {stack.token}"}
        projects = httpx.get(f"{server.url}/v1/projects", headers=headers)
        assert projects.status_code == 200
        me = httpx.get(f"{server.url}/v1/users/me", headers=headers).json()
        assert me["sub"] == "local-developer"
        # served as deployments are, by the service's own login; the banner's URL is the owner's, for migrations
        assert make_url(stack.config.database_url).username == SERVICE_LOGIN
        assert make_url(database).username == APP_ROLE
        # a second start reuses the demo customer instead of failing on its unique name
        again = prepare_local_stack(
            data_dir,
            {
                "PGDATASOURCE": database,
                "OPENID_PROVIDER_URL": stack.config.openid_provider_url,
                "OAUTH_CLIENT_ID": "exitus-local",
            },
        )
        assert again.token is None and again.postgres is None and again.issuer is None
        again.stop()
    finally:
        server.stop()
        stack.stop()
    assert not stack.postgres.is_running()


def test_json_logs_outside_local_stage(capsys):
    configure_logging(stage="production", level="INFO")
    try:
        structlog.get_logger("exitus.test").info("hello", customer_id="c1")
        logging.getLogger("uvicorn.error").warning("from the standard library")
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
        assert lines[0]["event"] == "hello" and lines[0]["customer_id"] == "c1" and lines[0]["level"] == "info"
        assert lines[1]["event"] == "from the standard library" and lines[1]["level"] == "warning"
        assert all("timestamp" in line for line in lines)
    finally:
        logging.getLogger().handlers[:] = []
        structlog.reset_defaults()


def test_make_run_stops_its_postgres_on_sigterm(workdir):
    """`exitus dev-up` (make run) ended by SIGTERM (or Ctrl-C) exits 0 and leaves no PostgreSQL behind in .data/;
    it serves /metrics on METRICS_ADDR, and names the variables it does not use."""
    data_dir = workdir / "dev-up"
    data_dir.mkdir()
    os.chmod(data_dir, 0o755)
    port = free_port()
    metrics_port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "ADDR": f"127.0.0.1:{port}",
        "METRICS_ADDR": f"127.0.0.1:{metrics_port}",
        "WEB_CONCURRENCY": "2",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "exitus", "dev-up", "--data-dir", str(data_dir), "--issuer-port", str(free_port())],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, process.stdout.read()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "make run did not come up"
            time.sleep(0.2)
        cluster = LocalPostgres(data_dir / "postgres")
        assert cluster.is_running()
        scrape = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10)
        assert scrape.status_code == 200 and "exitus_http_requests_total" in scrape.text
        assert httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).status_code == 404
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        assert not cluster.is_running()
        output = process.stdout.read()
        assert "Not used by make run (one process; `exitus serve` reads them): WEB_CONCURRENCY\n" in output
        assert "Warning" not in output  # a clean start: no StarletteDeprecationWarning
    finally:
        if process.poll() is None:
            process.kill()
        LocalPostgres(data_dir / "postgres").stop("immediate")


def _dev_up(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    data_dir.mkdir(exist_ok=True)
    os.chmod(data_dir, 0o755)
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")}
    return subprocess.run(
        [*command_prefix(), "-m", "exitus", "dev-up", "--data-dir", str(data_dir), *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def taken_port():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        yield holder.getsockname()[1]


def test_make_run_with_the_issuer_port_taken_says_so_in_one_line_and_leaves_nothing_running(workdir, taken_port):
    data_dir = workdir / "issuer-port-taken"
    result = _dev_up(data_dir, "--issuer-port", str(taken_port), ADDR=f"127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"exitus: make run: the dev issuer cannot listen on 127.0.0.1:{taken_port} (Address already in use): "
        "move it with `make run ISSUER_PORT=<port>`"
    ]
    assert not LocalPostgres(data_dir / "postgres").is_running()


def test_make_run_with_the_api_port_taken_says_so_in_one_line_and_leaves_nothing_running(workdir, taken_port):
    data_dir = workdir / "api-port-taken"
    result = _dev_up(data_dir, "--issuer-port", str(free_port()), ADDR=f"127.0.0.1:{taken_port}")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"exitus: make run: the API cannot listen on 127.0.0.1:{taken_port} (Address already in use): "
        "move it with `ADDR=127.0.0.1:<port> make run`"
    ]
    assert not LocalPostgres(data_dir / "postgres").is_running()


def test_a_failure_after_postgres_started_stops_it_again_and_is_one_line(workdir):
    data_dir = workdir / "late-failure"
    result = _dev_up(
        data_dir, ADDR=f"127.0.0.1:{free_port()}", OPENID_PROVIDER_URL="http://127.0.0.1:1", OAUTH_CLIENT_ID=""
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "exitus: configuration error: OAUTH_CLIENT_ID: is required (comma-separated client ids this service accepts)"
    ]
    cluster = LocalPostgres(data_dir / "postgres")
    assert cluster.initialised  # it did start, and migrate ...
    assert not cluster.is_running()  # ... and was stopped again


def test_make_run_passes_issuer_port_to_dev_up():
    result = subprocess.run(
        ["make", "-n", "-s", "run", "ISSUER_PORT=9555"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().endswith("exitus dev-up --issuer-port 9555")


def test_a_second_dev_issuer_on_the_key_dir_of_a_running_one_refuses_and_keeps_its_tokens_valid(issuer):
    issuer_file = issuer.key_dir / "issuer.json"
    recorded = issuer_file.read_text()
    port = free_port()
    result = subprocess.run(
        [*command_prefix(), "-m", "exitus", "dev-issuer", "--key-dir", str(issuer.key_dir), "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"exitus: dev-issuer: a dev issuer with the key in {issuer.key_dir} already serves {issuer.url} "
        "(`make run`?): `exitus dev-token` mints tokens for it as it is; stop it first to start another"
    )
    assert issuer_file.read_text() == recorded


def test_dev_tools_find_the_checkout_data_directory_from_any_directory(tmp_path):
    assert default_data_dir() == ROOT / ".data"
    command = [sys.executable, "-m", "exitus", "dev-token"]
    result = subprocess.run([*command, "--help"], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert "checkout" in result.stdout
    key_dir = ROOT / ".data" / "dev-issuer"
    if not (key_dir / "issuer.json").exists():  # a fresh clone: the message names the checkout's directory
        missing = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
        assert missing.returncode == 1
        assert f"no dev issuer state in {key_dir}" in missing.stderr


def test_make_run_with_a_database_that_cannot_start_says_why_in_one_line_and_leaves_nothing_running(workdir):
    data_dir = workdir / "postgres-refuses"
    (data_dir / "postgres").mkdir(parents=True)
    (data_dir / "postgres" / "left-behind").write_text("not a cluster\n")
    issuer_port = free_port()
    result = _dev_up(data_dir, "--issuer-port", str(issuer_port), ADDR=f"127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"exitus: make run: PostgreSQL's initdb failed for {data_dir / 'postgres'} (exit 1): ")
    assert "exists but is not empty" in line and line.endswith("and run again"), line
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", issuer_port))  # the dev issuer it had started is gone
