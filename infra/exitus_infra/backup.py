"""AWS Backup for the database: a daily plan in the stack's region, copied to a vault in another region.

Keys (decided before the first production deploy, README "Backups and keys"):

* the database's storage, Performance Insights and the local vault are encrypted under the service stack's
  customer-managed key `alias/exitus-<stage>-data`. An RDS instance's key cannot change without a restore, and only a
  customer-managed key lets snapshots be shared or copied to another account later;
* the copies live in `exitus-<stage>-copy` in BACKUP_REGION (stack `exitus-backup-<stage>`), under that region's key
  `alias/exitus-<stage>-backup-copy`: losing the primary region or its key does not lose the copies.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_backup as backup
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from constructs import Construct

from .config import Config


def copy_vault_name(config: Config) -> str:
    return f"{config.prefix}-copy"


def backup_retention(config: Config) -> Duration:
    return Duration.days(35 if config.is_prod else 7)


class BackupCopyStack(Stack):
    """The destination of the cross-region copies, deployed in BACKUP_REGION before the service stack."""

    def __init__(self, scope: Construct, construct_id: str, *, config: Config, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.key = kms.Key(
            self,
            "CopyKey",
            alias=f"alias/{config.prefix}-backup-copy",
            description=f"{config.prefix} database backup copies (AWS Backup vault {copy_vault_name(config)})",
            enable_key_rotation=True,
            # Recovery points outlive any stack; so does the key that opens them.
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.vault = backup.BackupVault(
            self,
            "CopyVault",
            backup_vault_name=copy_vault_name(config),
            encryption_key=self.key,
            removal_policy=RemovalPolicy.RETAIN,
            # Nobody deletes the copies by hand; retention expires them.
            block_recovery_point_deletion=config.is_prod,
        )
        CfnOutput(self, "CopyVaultArn", value=self.vault.backup_vault_arn)


class DatabaseBackup(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: Config,
        database: rds.DatabaseInstance,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        retention = backup_retention(config)
        self.vault = backup.BackupVault(
            self,
            "Vault",
            backup_vault_name=config.prefix,
            encryption_key=key,
            removal_policy=RemovalPolicy.RETAIN,
            block_recovery_point_deletion=config.is_prod,
        )
        # By name, not by reference: the copy stack is in another region (no cross-region exports).
        copy_vault = backup.BackupVault.from_backup_vault_arn(
            self,
            "CopyVault",
            stack.format_arn(
                service="backup",
                region=config.backup_region,
                resource="backup-vault",
                resource_name=copy_vault_name(config),
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            ),
        )
        self.plan = backup.BackupPlan(self, "Plan", backup_plan_name=config.prefix, backup_vault=self.vault)
        self.plan.add_rule(
            backup.BackupPlanRule(
                rule_name="daily-with-copy",
                # 17:00 UTC: after the RDS backup window (14:00) and maintenance window (Sun 15:00-16:00).
                schedule_expression=events.Schedule.cron(minute="0", hour="17"),
                start_window=Duration.hours(1),
                completion_window=Duration.hours(8),
                delete_after=retention,
                copy_actions=[
                    backup.BackupPlanCopyActionProps(destination_backup_vault=copy_vault, delete_after=retention)
                ],
            )
        )
        self.selection = self.plan.add_selection(
            "Database",
            backup_selection_name="database",
            resources=[backup.BackupResource.from_rds_database_instance(database)],
        )
