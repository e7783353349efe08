"""Shared test helpers: a synthesized app and the settings it was built from."""

import json
import os
from pathlib import Path

# Node 20 still runs jsii fine; keep its end-of-life banner out of test output.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk
from aws_cdk.assertions import Template
from exitus_infra.build import build_app, cdk_json_context
from exitus_infra.config import Config

ACCOUNT = "123456789012"
REGION = "ap-southeast-2"
CERT_ARN = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/11111111-2222-3333-4444-555555555555"

BASE_ENV = {
    "CDK_DEFAULT_ACCOUNT": ACCOUNT,
    "CDK_DEFAULT_REGION": REGION,
    "DOMAIN_NAME": "api.exitus.example.com",
    "HOSTED_ZONE_ID": "Z0123456789ABCDEFGHIJ",
    "HOSTED_ZONE_NAME": "exitus.example.com",
    "ACM_CERTIFICATE_ARN": CERT_ARN,
    "OPENID_PROVIDER_URL": "https://cognito-idp.ap-southeast-2.amazonaws.com/ap-southeast-2_TEST",
    "OAUTH_CLIENT_ID": "test-client-id",
    "IMAGE_TAG": "0123abcd",
}


class Synth:
    """One synthesized app: templates per stack plus the cloud assembly directory."""

    def __init__(self, config: Config, outdir: Path):
        app = cdk.App(outdir=str(outdir), context=cdk_json_context())
        build_app(app=app, config=config)
        assembly = app.synth()
        self.config = config
        self.directory = Path(assembly.directory)
        self.manifest = json.loads((self.directory / "manifest.json").read_text())
        self.json: dict[str, dict] = {}
        for name, artifact in self.manifest["artifacts"].items():
            if artifact["type"] == "aws:cloudformation:stack":
                path = self.directory / artifact["properties"]["templateFile"]
                self.json[name] = json.loads(path.read_text())
        self._templates: dict[str, Template] = {}

    @property
    def service_name(self) -> str:
        return f"exitus-{self.config.stage}"

    @property
    def registry_name(self) -> str:
        return f"exitus-registry-{self.config.stage}"

    def template(self, stack: str | None = None) -> Template:
        stack = stack or self.service_name
        if stack not in self._templates:
            self._templates[stack] = Template.from_json(self.json[stack])
        return self._templates[stack]

    @property
    def service(self) -> dict:
        return self.json[self.service_name]

    def resources(self, type_: str, stack: str | None = None) -> dict[str, dict]:
        tpl = self.json[stack or self.service_name]
        return {k: v for k, v in tpl["Resources"].items() if v["Type"] == type_}

    def one(self, type_: str, where=lambda r: True) -> tuple:
        found = [(k, v) for k, v in self.resources(type_).items() if where(v)]
        assert len(found) == 1, f"expected exactly one {type_}, found {[k for k, _ in found]}"
        return found[0]


def make_config(**overrides) -> Config:
    env = dict(BASE_ENV)
    env.update({k: v for k, v in overrides.items() if v is not None})
    for k, v in overrides.items():
        if v is None:
            env.pop(k, None)
    return Config.from_env(env)
