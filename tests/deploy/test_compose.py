"""The local stack (docker-compose.yml) and its Prometheus config, checked against what exitus reads and serves.

`docker compose` itself is not installed on this machine or in CI (the Docker client has no compose plugin here), so
the file is read with PyYAML and its variables interpolated the way Compose does; nothing here runs containers.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy.engine import make_url

from exitus import config as config_module
from exitus.config import ENV_VARS, Config
from tests.deploy.dockerfile_syntax import parse

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
COMPOSE_TEXT = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
PROMETHEUS = yaml.safe_load((REPO / "infra/local/prometheus.yml").read_text(encoding="utf-8"))
TRACING_SOURCE = (REPO / "exitus/tracing.py").read_text(encoding="utf-8")
_, DOCKERFILE_STAGES = parse(REPO / "Dockerfile")
# What a developer exports before `make compose-up`; the password has characters a URL would need escaped.
DEVELOPER_ENV = {"POSTGRES_PASSWORD": "p@ss:w/rd#1%", "OIDC_CLIENT_SECRET": "client-secret"}

_VARIABLE = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}|\$(\w+)")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's interpolation: ${NAME}, ${NAME:-default}, ${NAME:?error}, $NAME, and $$ for a literal $."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        operator, argument = match.group(2), match.group(3)
        value = env.get(name)
        if operator and operator.endswith("?") and not value:
            raise KeyError(f"{name}: {argument}")
        if operator and operator.endswith("-") and not value:
            return argument
        return value or ""

    return _VARIABLE.sub(substitute, value)


def environment(service: str, env: dict[str, str] | None = None) -> dict[str, str]:
    raw = SERVICES[service].get("environment") or {}
    assert isinstance(raw, dict), f"{service}: use the mapping form of environment"
    return {name: interpolate(str(value), DEVELOPER_ENV if env is None else env) for name, value in raw.items()}


def exitus_config() -> Config:
    return Config.from_env(environment("exitus"))


def published_container_ports(service: str) -> set[int]:
    return {int(str(spec).rsplit(":", 1)[1].split("/")[0]) for spec in SERVICES[service].get("ports", [])}


class RecordingEnv(dict):
    """An environment that remembers every name looked up in it."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.looked_up: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.looked_up.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.looked_up.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.looked_up.add(str(key))
        return super().__contains__(key)


# ------------------------------------------------------------------------------------- exitus's configuration


def test_env_vars_lists_exactly_what_config_from_env_reads():
    # An RDS secret (so every database variable is consulted) and no LOG_LEVEL (so DEBUG is consulted too).
    secret = '{"username": "u", "password": "p", "host": "h", "port": 5432, "dbname": "d", "engine": "postgres"}'
    env = RecordingEnv(DB_SECRET=secret, OPENID_PROVIDER_URL="https://idp.example.com", OAUTH_CLIENT_ID="c")
    Config.from_env(env)
    assert env.looked_up == set(ENV_VARS)
    assert len(ENV_VARS) == len(set(ENV_VARS))


@pytest.mark.parametrize("name", ENV_VARS)
def test_every_variable_is_documented_in_envrc_example(name):
    example = (REPO / ".envrc.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#?\s*export (\w+)=", example, re.MULTILINE))
    assert name in documented, f"{name} is missing from .envrc.example"


@pytest.mark.parametrize("service", ["migrate", "exitus"])
def test_every_variable_exitus_gets_is_one_it_reads(service):
    for name in environment(service):
        if name.startswith("OTEL_"):
            # Read by the OpenTelemetry SDK and exitus/tracing.py, which documents the ones it relies on.
            assert name in TRACING_SOURCE, f"{service}: {name} is not one exitus/tracing.py reads or documents"
        else:
            assert name in ENV_VARS, f"{service}: {name} is not read by {config_module.__name__}"


def test_exitus_configuration_is_valid_and_points_at_the_compose_services():
    config = exitus_config()
    url = make_url(config.database_url)
    assert (url.host, url.port, url.database, url.username) == ("postgres", 5432, "exitus", "exitus")
    assert url.password == DEVELOPER_ENV["POSTGRES_PASSWORD"], "the password survives unescaped"
    assert url.username != "postgres", "the app role is not the superuser: row-level security applies to it"
    # migrate uses the same database as the service it prepares.
    assert Config.from_env(environment("migrate"), need_oidc=False).database_url == config.database_url


def test_stack_refuses_to_start_without_the_secrets():
    for missing in DEVELOPER_ENV:
        env = {k: v for k, v in DEVELOPER_ENV.items() if k != missing}
        service = "postgres" if missing == "POSTGRES_PASSWORD" else "oidc-provider"
        with pytest.raises(KeyError, match=missing):
            environment(service, env)


def test_no_literal_passwords_only_references():
    for name, service in SERVICES.items():
        for variable, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET", variable):
                assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", str(value)), f"{name}: {variable} must be a required ${{...}}"
    # Anywhere in the file: a password is a variable (Compose's ${...}, or $$ for the container's), never a value.
    for match in re.finditer(r"password[=:]\s*(\S+)", COMPOSE_TEXT, re.IGNORECASE):
        assert match.group(1).strip("'\"").startswith(("${", "$$")), match.group(0)
    assert not re.search(r"\$\{\w*(PASSWORD|SECRET)\w*:?-", COMPOSE_TEXT), "a secret with a default is committed"


# ------------------------------------------------------------------------------------------------- the services


def test_the_stack_has_every_service():
    images = {name: service.get("image", "") for name, service in SERVICES.items()}
    assert images["postgres"] == "postgres:15"
    assert images["prometheus"].startswith("prom/prometheus:")
    assert images["jaeger"].startswith("jaegertracing/all-in-one:")
    assert images["oidc-provider"] == "node:20-alpine"
    for name in ("migrate", "exitus"):
        assert SERVICES[name]["build"] == {"context": ".", "dockerfile": "Dockerfile"}, "the repo's Dockerfile"
    assert images["migrate"] == images["exitus"], "migrate runs the image it prepares the database for"


def test_postgres_healthcheck_is_pg_isready_over_tcp():
    test = SERVICES["postgres"]["healthcheck"]["test"]
    assert test[:2] == ["CMD", "pg_isready"]
    assert "--host=127.0.0.1" in test, "a socket check passes while the init scripts still run"


def test_exitus_healthcheck_probes_healthz_on_the_addr_port():
    test = SERVICES["exitus"]["healthcheck"]["test"]
    assert test[:2] == ["CMD", "python3"], "the image has python3 on PATH, not curl"
    assert f"http://127.0.0.1:{exitus_config().port}/healthz" in test[-1]


def test_migrate_runs_once_before_exitus_starts():
    migrate = SERVICES["migrate"]
    assert migrate["command"] == ["exitus", "migrate", "up"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate.get("restart") == "no"
    exitus = SERVICES["exitus"]
    assert exitus["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    (cmd,) = DOCKERFILE_STAGES[-1].all("CMD")
    assert exitus["command"] == cmd.exec_form() == ["exitus", "serve"]


def test_exitus_gets_time_to_drain_and_shut_down_before_sigkill():
    grace = SERVICES["exitus"]["stop_grace_period"]
    assert grace.endswith("s")
    config = exitus_config()
    assert int(grace[:-1]) > config.shutdown_drain_seconds + config.shutdown_timeout_seconds


def test_published_ports_agree_with_addr_and_stay_on_loopback():
    assert published_container_ports("exitus") >= {exitus_config().port}
    for name, service in SERVICES.items():
        for spec in service.get("ports", []):
            assert str(spec).startswith("127.0.0.1:"), f"{name} publishes {spec} beyond this machine"


def test_openid_provider_is_the_issuer_exitus_trusts():
    provider = SERVICES["oidc-provider"]
    env = environment("oidc-provider")
    config = exitus_config()
    assert env["OIDC_ISSUER"] == config.openid_provider_url, "exitus compares the tokens' iss with it exactly"
    assert env["OIDC_CLIENT_ID"] in config.oauth_client_ids
    issuer = urlsplit(env["OIDC_ISSUER"])
    assert issuer.port == int(env["OIDC_PORT"])
    # localhost inside exitus's container is the provider's only because they share one network namespace.
    assert issuer.hostname == "localhost" and provider["network_mode"] == "service:exitus"
    assert issuer.port in published_container_ports("exitus")
    assert env["OIDC_CUSTOMER_ID"] == "", "optional: tokens carry no customer until EXITUS_CUSTOMER_ID is set"
    (mount,) = provider["volumes"]
    source, target, mode = mount.split(":")
    assert target == "/app" and mode == "ro"
    assert (REPO / source / "provider.mjs").is_file()
    assert "node provider.mjs" in provider["command"][-1] and "oidc-provider@8" in provider["command"][-1]


def test_traces_go_to_jaeger_over_otlp_http():
    env = environment("exitus")
    endpoint = urlsplit(env["OTEL_EXPORTER_OTLP_ENDPOINT"])
    assert (endpoint.scheme, endpoint.hostname, endpoint.port) == ("http", "jaeger", 4318)  # OTLP/HTTP's port
    assert env["OTEL_SERVICE_NAME"] == "exitus"
    assert environment("jaeger")["COLLECTOR_OTLP_ENABLED"] == "true"
    assert 16686 in published_container_ports("jaeger"), "the Jaeger UI"


def test_prometheus_scrapes_exitus_metrics_with_the_mounted_config():
    mounts = {
        target: (REPO / source).resolve()
        for source, target, _ in (m.split(":") for m in SERVICES["prometheus"]["volumes"])
    }
    assert mounts["/etc/prometheus/prometheus.yml"] == (REPO / "infra/local/prometheus.yml").resolve(), (
        "the image's default --config.file"
    )
    # Rule files are found relative to the config file, in the container as here.
    for rule_file in PROMETHEUS["rule_files"]:
        assert mounts[f"/etc/prometheus/{rule_file}"] == (REPO / "infra/local" / rule_file).resolve()
    (job,) = [j for j in PROMETHEUS["scrape_configs"] if j["job_name"] == "exitus"]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    assert job.get("scheme", "http") == "http"
    targets = [t for group in job["static_configs"] for t in group["targets"]]
    assert targets == [f"exitus:{exitus_config().port}"], "the exitus service, on the port ADDR names"
