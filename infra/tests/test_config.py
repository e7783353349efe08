"""Settings parsing, the app.py entry point and the Docker-asset image option."""

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from exitus_infra.build import cdk_json_context
from exitus_infra.config import ConfigError

from .support import BASE_ENV, Synth, make_config

INFRA = Path(__file__).resolve().parents[1]


def test_defaults():
    config = make_config(STAGE=None, BRANCH=None, HOSTED_ZONE_NAME=None, IMAGE_TAG=None)
    assert (config.stage, config.branch) == ("dev", "main")
    assert config.hosted_zone_name == "api.exitus.example.com"
    assert config.image_tag is None
    assert not config.is_prod
    assert config.availability_zones == ()


def test_trailing_dot_and_explicit_zones():
    config = make_config(DOMAIN_NAME="api.example.com.", AVAILABILITY_ZONES="ap-southeast-2a, ap-southeast-2c")
    assert config.domain_name == "api.example.com"
    assert config.availability_zones == ("ap-southeast-2a", "ap-southeast-2c")


def test_placeholder_account_when_no_credentials():
    config = make_config(CDK_DEFAULT_ACCOUNT=None, CDK_DEFAULT_REGION=None)
    assert (config.account, config.region) == ("123456789012", "ap-southeast-2")


@pytest.mark.parametrize(
    "name", ["DOMAIN_NAME", "HOSTED_ZONE_ID", "ACM_CERTIFICATE_ARN", "OPENID_PROVIDER_URL", "OAUTH_CLIENT_ID"]
)
def test_required_settings(name):
    with pytest.raises(ConfigError, match=name):
        make_config(**{name: None})


def test_context_fills_in_for_missing_env():
    env = {k: v for k, v in BASE_ENV.items() if k != "OAUTH_CLIENT_ID"}
    from exitus_infra.config import Config

    config = Config.from_env(env, context={"OAUTH_CLIENT_ID": "from-context"}.get)
    assert config.oauth_client_id == "from-context"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"ACM_CERTIFICATE_ARN": "arn:aws:acm:us-east-1:123456789012:certificate/abc"}, "region"),
        ({"ACM_CERTIFICATE_ARN": "not-an-arn"}, "ACM certificate ARN"),
        ({"OPENID_PROVIDER_URL": "http://insecure.example.com"}, "https"),
        ({"STAGE": "Prod_1"}, "STAGE"),
        ({"AVAILABILITY_ZONES": "ap-southeast-2a"}, "two zones"),
        ({"AVAILABILITY_ZONES": "ap-southeast-2a,ap-southeast-2b,ap-southeast-2c"}, "two zones"),
    ],
)
def test_invalid_settings(overrides, message):
    with pytest.raises(ConfigError, match=message):
        make_config(**overrides)


def test_app_entry_point_synthesizes_like_the_cli(tmp_path):
    """Run app.py the way `cdk synth` does (CDK_OUTDIR + CDK_CONTEXT_JSON from cdk.json)."""
    assert json.loads((INFRA / "cdk.json").read_text())["app"] == "python3 app.py"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDK_")}
    env.update(BASE_ENV, STAGE="staging", CDK_OUTDIR=str(tmp_path), CDK_CONTEXT_JSON=json.dumps(cdk_json_context()))
    result = subprocess.run([sys.executable, "app.py"], cwd=INFRA, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "exitus-staging.template.json").is_file()
    assert (tmp_path / "exitus-registry-staging.template.json").is_file()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert not manifest.get("missing")


def test_app_entry_point_reports_missing_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in BASE_ENV and not k.startswith("CDK_")}
    env["CDK_OUTDIR"] = str(tmp_path)
    result = subprocess.run([sys.executable, "app.py"], cwd=INFRA, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "DOMAIN_NAME" in result.stderr and "HOSTED_ZONE_ID" in result.stderr


def test_image_asset_synthesizes_without_docker(tmp_path):
    context = tmp_path / "repo"
    (context / "infra" / "cdk.out").mkdir(parents=True)
    (context / "Dockerfile").write_text("FROM python:3.11-slim\nCOPY . /app\n")
    (context / "exitus.py").write_text("print('hi')\n")
    (context / "infra" / "big.txt").write_text("not part of the image\n")
    config = dataclasses.replace(make_config(IMAGE_TAG=None), docker_context=context)

    synth = Synth(config, tmp_path / "out")
    assets = json.loads((synth.directory / f"{synth.service_name}.assets.json").read_text())
    (docker,) = assets["dockerImages"].values()
    staged = synth.directory / docker["source"]["directory"]
    assert (staged / "Dockerfile").is_file() and (staged / "exitus.py").is_file()
    assert not (staged / "infra").exists()
    assert docker["source"].get("platform") == "linux/amd64"

    task_defs = synth.resources("AWS::ECS::TaskDefinition").values()
    images = {json.dumps(t["Properties"]["ContainerDefinitions"][0]["Image"]) for t in task_defs}
    assert len(images) == 1 and "container-assets" in images.pop()


def test_image_asset_needs_a_dockerfile(tmp_path):
    config = dataclasses.replace(make_config(IMAGE_TAG=None), docker_context=tmp_path)
    with pytest.raises(FileNotFoundError, match="IMAGE_TAG"):
        Synth(config, tmp_path / "out")
