"""`make run`'s stack: a fresh data directory gets PostgreSQL, migrations, a dev issuer and a working token."""

import json
import logging
import os
import signal
import subprocess
import sys
import time

import httpx
import structlog

from exitus.dev.postgres import LocalPostgres, free_port
from exitus.dev.stack import prepare_local_stack
from exitus.logs import configure_logging
from tests.conftest import RunningServer


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
        headers = {"Authorization": f"Bearer {stack.token}"}
        projects = httpx.get(f"{server.url}/v1/projects", headers=headers)
        assert projects.status_code == 200
        me = httpx.get(f"{server.url}/v1/users/me", headers=headers).json()
        assert me["sub"] == "local-developer"
        # a second start reuses the demo customer instead of failing on its unique name
        again = prepare_local_stack(
            data_dir,
            {
                "PGDATASOURCE": stack.config.database_url,
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
    """`exitus dev-up` (make run) ended by SIGTERM (or Ctrl-C) exits 0 and leaves no PostgreSQL behind in .data/."""
    data_dir = workdir / "dev-up"
    data_dir.mkdir()
    os.chmod(data_dir, 0o755)
    port = free_port()
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "ADDR": f"127.0.0.1:{port}"}
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
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        assert not cluster.is_running()
    finally:
        if process.poll() is None:
            process.kill()
        LocalPostgres(data_dir / "postgres").stop("immediate")
