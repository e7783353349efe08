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
        self.app = app
        self.config = config
        self.directory = Path(assembly.directory)
        self.manifest = json.loads((self.directory / "manifest.json").read_text())
        self.json: dict[str, dict] = {}
        for name, artifact in self.manifest["artifacts"].items():
            if artifact["type"] == "aws:cloudformation:stack":
                path = self.directory / artifact["properties"]["templateFile"]
                self.json[name] = json.loads(path.read_text())
        self._templates: dict[str, Template] = {}
        # Written by the cdk-nag validation plugin (build_app adds it); synthesis raises if it found anything.
        self.nag_report = json.loads((self.directory / "validation-report.json").read_text())

    @property
    def service_name(self) -> str:
        return f"exitus-{self.config.stage}"

    @property
    def registry_name(self) -> str:
        return f"exitus-registry-{self.config.stage}"

    @property
    def backup_name(self) -> str:
        return f"exitus-backup-{self.config.stage}"

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


# ------------------------------------------------------------ template helpers


def ref(logical_id):
    return {"Ref": logical_id}


def group_id(logical_id):
    return {"Fn::GetAtt": [logical_id, "GroupId"]}


def tag(resource, key):
    for t in resource["Properties"].get("Tags", []):
        if t["Key"] == key:
            return t["Value"]
    return None


def subnets_by_type(synth):
    out = {}
    for logical_id, subnet in synth.resources("AWS::EC2::Subnet").items():
        out.setdefault(tag(subnet, "aws-cdk:subnet-type"), []).append(logical_id)
    return out


def container(synth, family_suffix):
    _, task_def = synth.one(
        "AWS::ECS::TaskDefinition",
        lambda r: r["Properties"]["Family"] == f"exitus-{synth.config.stage}-{family_suffix}",
    )
    (definition,) = task_def["Properties"]["ContainerDefinitions"]
    return task_def, definition


def security_group_id(synth, description_start):
    logical_id, _ = synth.one(
        "AWS::EC2::SecurityGroup", lambda r: r["Properties"]["GroupDescription"].startswith(description_start)
    )
    return logical_id


def secret_id(synth, name_suffix):
    logical_id, _ = synth.one(
        "AWS::SecretsManager::Secret", lambda r: r["Properties"]["Name"] == f"exitus/{synth.config.stage}/{name_suffix}"
    )
    return logical_id


def db_secret_attachment(synth, name_suffix="db"):
    """The attached secret (host, port, dbname added): the master's ("db") or the service role's ("db-app")."""
    secret = secret_id(synth, name_suffix)
    logical_id, _ = synth.one(
        "AWS::SecretsManager::SecretTargetAttachment", lambda r: r["Properties"]["SecretId"] == ref(secret)
    )
    return logical_id


def iter_statements(synth):
    for stack, template in synth.json.items():
        for logical_id, res in template["Resources"].items():
            if res["Type"] == "AWS::IAM::Policy":
                docs = [res["Properties"]["PolicyDocument"]]
            elif res["Type"] == "AWS::IAM::Role":
                docs = [p["PolicyDocument"] for p in res["Properties"].get("Policies", [])]
            elif res["Type"] == "AWS::IAM::ManagedPolicy":
                docs = [res["Properties"]["PolicyDocument"]]
            else:
                continue
            for doc in docs:
                for statement in doc["Statement"]:
                    yield stack, logical_id, statement


def as_list(value):
    return value if isinstance(value, list) else [value]


def logical(synth, type_):
    logical_id, _ = synth.one(type_)
    return logical_id
