"""The container image. No Docker engine runs here, so the Dockerfile is read for its shape, and then its build and
install steps run for real outside the repository: the wheel is built from exactly the files the builder stage
copies, installed with the Dockerfile's own pip command into a fresh virtualenv, and the installed `exitus` migrates
a new database, serves, passes the image's HEALTHCHECK probe, and exits 0 on SIGTERM.

Dependencies come from a local wheelhouse (EXITUS_WHEELHOUSE, default ~/.cache/exitus-wheelhouse), filled once with
`pip download` from the package index and reused offline (`--no-index`) afterwards.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from exitus.dev.issuer import DevIssuer
from exitus.dev.postgres import LocalPostgres, free_port
from tests.deploy.dockerfile_syntax import Stage, parse

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
GLOBAL_ARGS, STAGES = parse(REPO / "Dockerfile")
BUILDER, RUNTIME = STAGES[0], STAGES[-1]
RESOURCE_DIRS = dict(PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"])  # repo dir -> wheel
INFRA_STACK = (REPO / "infra" / "exitus_infra" / "exitus_stack.py").read_text(encoding="utf-8")
WHEELHOUSE = Path(os.environ.get("EXITUS_WHEELHOUSE") or Path.home() / ".cache" / "exitus-wheelhouse")
PROJECT = PYPROJECT["project"]["name"]


def infra_command(name: str) -> list[str]:
    """The command the CDK task definitions give the image, e.g. ["exitus", "serve"]."""
    match = re.search(rf'command=\[("{name}"[^\]]*)\]', INFRA_STACK)
    assert match, f"no command for {name} in infra/exitus_infra/exitus_stack.py"
    return re.findall(r'"([^"]*)"', match.group(1))


def infra_commands() -> list[list[str]]:
    """Every command the CDK app runs in the image: the task commands and the container health check's."""
    found = [re.findall(r'"([^"]*)"', m) for m in re.findall(r"command=\[([^\]]*)\]", INFRA_STACK)]
    return [argv[1:] if argv[0] == "CMD" else argv for argv in found]


def run_commands(stage: Stage) -> list[str]:
    return [command for run in stage.all("RUN") for command in run.shell_commands()]


def venv_dir() -> str:
    """Where the builder creates the virtualenv that the runtime stage copies."""
    (creation,) = [c for c in run_commands(BUILDER) if " -m venv " in c]
    return shlex.split(creation)[-1]


# ------------------------------------------------------------------------------------------ the Dockerfile's shape


def test_final_stage_runs_as_an_unprivileged_user():
    users = RUNTIME.all("USER")
    assert users, "the runtime stage has no USER: it would run as root"
    user, _, group = users[-1].text.partition(":")
    assert user not in ("root", "0") and group not in ("root", "0")
    # The uid exists in the image: the stage creates it.
    created = [c for c in run_commands(RUNTIME) if c.startswith("useradd")]
    assert any(f"--uid {user} " in c or c.endswith(f" {user}") for c in created), created
    # Nothing after USER switches back.
    keywords = [i.keyword for i in RUNTIME.instructions]
    assert "RUN" not in keywords[keywords.index("USER") :]


def test_healthcheck_probes_healthz_with_python_on_the_configured_port():
    (healthcheck,) = RUNTIME.all("HEALTHCHECK")
    argv = healthcheck.exec_form()
    assert argv[0] == "python3", "slim images have no curl: the probe is stdlib Python"
    assert "/healthz" in argv[-1]
    assert "ADDR" in argv[-1], "the probe follows ADDR's port"


def test_command_is_exitus_serve_with_no_entrypoint_matching_the_infra_task_definitions():
    (cmd,) = RUNTIME.all("CMD")
    assert cmd.exec_form() == ["exitus", "serve"] == infra_command("exitus")
    assert not any(stage.all("ENTRYPOINT") for stage in STAGES), "an ENTRYPOINT would swallow the infra's commands"
    assert ["exitus", "migrate", "up"] in infra_commands()
    for command in infra_commands():
        assert command[0] in ("exitus", "python3"), f"the infra runs {command}: the image must have it on PATH"
    assert RUNTIME.env()["PATH"].startswith(f"{venv_dir()}/bin:"), "exitus and python3 resolve in the venv"


def test_port_stop_signal_and_configuration_by_environment():
    (expose,) = RUNTIME.all("EXPOSE")
    assert RUNTIME.env()["ADDR"] == f":{expose.text}"
    assert re.search(r"CONTAINER_PORT = (\d+)", (REPO / "infra/exitus_infra/config.py").read_text()).group(1) == (
        expose.text
    )
    (stop,) = RUNTIME.all("STOPSIGNAL")
    assert stop.text == "SIGTERM"
    # Configuration is the environment's: nothing bakes a database, provider or secret into the image.
    assert not {"PGDATASOURCE", "DATABASE_URL", "DB_SECRET", "OPENID_PROVIDER_URL", "OAUTH_CLIENT_ID"} & set(
        RUNTIME.env()
    )


def test_both_stages_use_a_slim_python_311_base():
    for stage in STAGES:
        base = re.sub(r"\$\{(\w+)\}", lambda m: GLOBAL_ARGS[m.group(1)], stage.base)
        assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", base), base


def test_image_installs_the_locked_runtime_dependencies_then_this_projects_wheel_without_extras():
    commands = run_commands(BUILDER)
    wheel = [c for c in commands if c.startswith("pip wheel")]
    install = [c for c in commands if c.startswith("pip ") and " install " in c]
    assert wheel == ["pip wheel --no-deps --wheel-dir /wheels ."], "the builder builds this project's wheel"
    dependencies, project = install
    assert dependencies.endswith(" install --require-hashes -r requirements/runtime.lock"), dependencies
    assert project.endswith(f" install --no-deps /wheels/{PROJECT}-*.whl"), project
    assert "[" not in project and " -e " not in project, "no dev extras, no editable install"
    # The same project the Makefile installs for development (there from the dev lock, editable).
    makefile = (REPO / "Makefile").read_text()
    assert "pip install --quiet --require-hashes -r $(LOCK)" in makefile
    assert "pip install --quiet --no-deps -e ." in makefile
    assert PYPROJECT["project"]["scripts"]["exitus"] == "exitus.cli:main"


def test_builder_copies_exactly_what_the_wheel_is_built_from():
    copied = set()
    for copy in BUILDER.all("COPY"):
        _, words = copy.flags_and_words()
        copied.update(Path(w).as_posix() for w in words[:-1])
    readme = PYPROJECT["project"]["readme"]
    assert copied == {"requirements/runtime.lock", "pyproject.toml", readme, "exitus", *RESOURCE_DIRS}


def test_runtime_stage_copies_only_the_installed_virtualenv():
    copies = RUNTIME.all("COPY")
    assert copies and not RUNTIME.all("ADD")
    for copy in copies:
        flags, words = copy.flags_and_words()
        assert flags.get("from") == BUILDER.name, "the runtime stage copies nothing from the build context"
        assert words == [venv_dir(), venv_dir()]


def test_dockerignore_keeps_local_state_out_and_what_the_build_needs_in():
    ignored = {
        line.strip() for line in (REPO / ".dockerignore").read_text().splitlines() if line.strip()[:1] not in ("", "#")
    }
    assert {".git", ".venv", ".data", "node_modules", "infra", ".envrc"} <= ignored  # infra covers infra/cdk.out
    needed = {"requirements", "pyproject.toml", PYPROJECT["project"]["readme"], "exitus", *RESOURCE_DIRS}
    assert not needed & ignored


# ------------------------------------------------------------------------- the build and install steps, for real


@dataclass(frozen=True)
class BuiltImage:
    wheel: Path
    venv: Path
    outside: Path  # a working directory outside the repository


def run(argv: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False, **kwargs)
    assert result.returncode == 0, f"{shlex.join(argv)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def translate(command: str, paths: dict[str, Path]) -> list[str]:
    """A builder command with the image's paths mapped to local ones and `pip`/`python` the test's interpreter."""
    words = shlex.split(command)
    tool = {"pip": [sys.executable, "-m", "pip"], "python": [sys.executable]}[words[0]]
    mapped = []
    for word in words[1:]:
        for image_path, local in paths.items():
            if word == image_path or word.startswith(image_path + "/"):
                word = str(local) + word[len(image_path) :]
        mapped.extend(sorted(glob.glob(word)) if "*" in word else [word])
    return tool + mapped


def install_offline_first(install: list[str], cwd: Path) -> None:
    """The Dockerfile's install, with dependencies from the wheelhouse; it is filled from the index (with the same
    arguments: the lock, hash-checked) only when something is missing (first run, or a changed lock)."""
    offline = [*install, "--no-index", "--find-links", str(WHEELHOUSE)]
    if subprocess.run(offline, capture_output=True, check=False, timeout=600, cwd=cwd).returncode == 0:
        return
    what = install[install.index("install") + 1 :]
    run([sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(WHEELHOUSE), *what], cwd=cwd)
    for stale in WHEELHOUSE.glob(f"{PROJECT}-*.whl"):
        stale.unlink()  # the project's own wheel is always the fresh build, never a cached one
    run(offline, cwd=cwd)


@pytest.fixture(scope="module")
def built_image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltImage]:
    root = tmp_path_factory.mktemp("image")
    assert REPO not in root.parents
    # The builder's context: only what its COPY instructions take (so a file missing from them fails here too).
    source = root / "src"
    source.mkdir()
    for copy in BUILDER.all("COPY"):
        _, words = copy.flags_and_words()
        for name in words[:-1]:
            origin = REPO / name
            if origin.is_dir():
                shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                (source / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, source / name)
    paths = {"/wheels": root / "wheels", venv_dir(): root / "venv"}
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    for command in run_commands(BUILDER):
        argv = translate(command, paths)
        if " install " in command:
            install_offline_first(argv, cwd=source)
        else:
            run(argv, cwd=source)
    (wheel,) = (root / "wheels").glob(f"{PROJECT}-*.whl")
    outside = root / "elsewhere"
    outside.mkdir()
    yield BuiltImage(wheel=wheel, venv=root / "venv", outside=outside)
    shutil.rmtree(root, ignore_errors=True)  # ~150 MB of virtualenv: not kept with pytest's last three temp dirs


def test_wheel_carries_every_module_and_every_resource_file(built_image: BuiltImage):
    names = set(zipfile.ZipFile(built_image.wheel).namelist())
    expected = {p.relative_to(REPO).as_posix() for p in (REPO / "exitus").rglob("*.py")}
    for directory, packaged in RESOURCE_DIRS.items():
        files = [p for p in (REPO / directory).rglob("*") if p.is_file()]
        assert files, directory
        expected |= {f"{packaged}/{p.relative_to(REPO / directory).as_posix()}" for p in files}
    assert expected <= names, sorted(expected - names)
    assert all(n.startswith((f"{PROJECT}/", f"{PROJECT}-")) for n in names), "nothing outside the package ships"


def test_installed_venv_has_the_commands_and_no_development_tools(built_image: BuiltImage):
    bin_dir = built_image.venv / "bin"
    assert (bin_dir / "exitus").is_file() and (bin_dir / "python3").exists()
    probe = (
        "import importlib.util, exitus, exitus.resources as r; "
        "print(exitus.__file__); print(r.SPEC_FILE); print(r.MIGRATIONS_DIR); "
        "print([m for m in ('pytest', 'ruff', 'schemathesis', 'pip') if importlib.util.find_spec(m)])"
    )
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(built_image.outside)}
    lines = run([str(bin_dir / "python3"), "-c", probe], cwd=built_image.outside, env=env).stdout.splitlines()
    module, spec, migrations_dir, dev_tools = lines
    for path in (module, spec, migrations_dir):
        assert Path(path).is_relative_to(built_image.venv), f"{path} is not the installed copy"
    assert "_resources" in spec and Path(spec).is_file()
    assert dev_tools == "[]", "the runtime venv carries development tools"


def image_env(built_image: BuiltImage, **values: str) -> dict[str, str]:
    # Like the container: the venv's bin first, the image's ENV, then what the orchestrator passes; nothing inherited.
    env = {**RUNTIME.env(), "HOME": str(built_image.outside)}
    env["PATH"] = f"{built_image.venv / 'bin'}:/usr/bin:/bin"
    return {**env, **values}


@pytest.fixture
def migrated_database(postgres: LocalPostgres, built_image: BuiltImage) -> str:
    url = postgres.create_database("exitus_image_test")
    applied = run(["exitus", "migrate", "up"], cwd=built_image.outside, env=image_env(built_image, PGDATASOURCE=url))
    steps = (REPO / "migrations").glob("*.sql")
    expected = sorted(p.name.removesuffix(".sql") for p in steps if not p.name.endswith(".rollback.sql"))
    assert applied.stdout.strip() == f"applied {len(expected)} migration(s): {', '.join(expected)}"
    return url


def test_installed_exitus_migrates_serves_passes_the_healthcheck_and_stops_on_sigterm(
    built_image: BuiltImage, migrated_database: str, issuer: DevIssuer
):
    port = free_port()
    env = image_env(
        built_image,
        PGDATASOURCE=migrated_database,
        OPENID_PROVIDER_URL=issuer.url,
        OAUTH_CLIENT_ID="exitus-image-test",
        ADDR=f"127.0.0.1:{port}",
        STAGE="test",
        SHUTDOWN_DRAIN_SECONDS="0",  # no load balancer to wait for; the drain has its own tests
    )
    healthcheck = RUNTIME.all("HEALTHCHECK")[0].exec_form()
    server = subprocess.Popen(
        ["exitus", "serve"], cwd=built_image.outside, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=base, timeout=5) as client:
            while True:
                assert server.poll() is None, server.stdout.read().decode()
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "exitus serve did not answer /healthz"
                time.sleep(0.2)
            assert client.get("/readyz").status_code == 200, "readiness: database reachable and migrations current"
            spec = client.get("/openapi.json")
            assert spec.status_code == 200
            assert "/v1/projects" in spec.json()["paths"]
            assert client.get("/v1/projects").status_code == 401, "the API itself is served, behind its auth"
            # What the compose stack's Prometheus scrapes (infra/local/prometheus.yml).
            metrics = client.get("/metrics")
            assert metrics.status_code == 200 and "# TYPE" in metrics.text
        # The image's own HEALTHCHECK command, run as Docker would run it in the container.
        probe = subprocess.run(healthcheck, env=env, cwd=built_image.outside, capture_output=True, timeout=30)
        assert probe.returncode == 0, probe.stderr

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0, server.stdout.read().decode()
        output = server.stdout.read().decode()
        probe = subprocess.run(healthcheck, env=env, cwd=built_image.outside, capture_output=True, timeout=30)
        assert probe.returncode != 0, "the probe must fail once the server is gone"
        assert "Traceback" not in output, output
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
