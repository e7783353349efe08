"""Assemble the CDK app: ``exitus-registry-<stage>`` and ``exitus-backup-<stage>`` (in BACKUP_REGION), then
``exitus-<stage>``; cdk-nag's AwsSolutions checks run on all of them at synth."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import aws_cdk as cdk

from . import nag
from .backup import BackupCopyStack
from .config import APP_NAME, Config
from .exitus_stack import ExitusStack
from .registry_stack import RegistryStack

CDK_JSON = Path(__file__).resolve().parents[1] / "cdk.json"


def cdk_json_context() -> dict:
    """Feature flags from cdk.json, so tests synthesize exactly what `cdk synth` does."""
    return dict(json.loads(CDK_JSON.read_text()).get("context", {}))


def build_app(
    env: Mapping[str, str] | None = None,
    *,
    app: cdk.App | None = None,
    config: Config | None = None,
) -> cdk.App:
    app = app or cdk.App()
    config = config or Config.from_env(env, context=app.node.try_get_context)
    aws_env = cdk.Environment(account=config.account, region=config.region)

    registry = RegistryStack(
        app,
        f"{APP_NAME}-registry-{config.stage}",
        config=config,
        env=aws_env,
        description="exitus container image repository",
        termination_protection=config.is_prod,
    )
    backup = BackupCopyStack(
        app,
        f"{APP_NAME}-backup-{config.stage}",
        config=config,
        env=cdk.Environment(account=config.account, region=config.backup_region),
        description=f"exitus database backup copies ({config.stage}), away from {config.region}",
        termination_protection=config.is_prod,
    )
    service = ExitusStack(
        app,
        config.prefix,
        config=config,
        env=aws_env,
        description=f"exitus API ({config.stage}): VPC, RDS PostgreSQL, ECS Fargate behind HTTPS ALB",
        termination_protection=config.is_prod,
    )
    # The service pulls from the registry and copies backups to the backup vault, both by name: deploy them first.
    service.add_stack_dependency(registry)
    service.add_stack_dependency(backup)

    for stack in (registry, backup, service):
        cdk.Tags.of(stack).add("Project", APP_NAME)
        cdk.Tags.of(stack).add("Stage", config.stage)
        cdk.Tags.of(stack).add("Branch", config.branch)
    nag.add_checks(app)
    return app
