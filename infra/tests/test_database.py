"""Point 6: RDS operability (Performance Insights, enhanced monitoring, logging parameters, windows) and the backup
plan with a cross-region copy under customer-managed keys."""

import pytest
from exitus_infra.config import ConfigError

from .support import logical, make_config, ref


def database(synth):
    return synth.one("AWS::RDS::DBInstance")[1]["Properties"]


def data_key_id(synth):
    key_id, _ = synth.one("AWS::KMS::Key", lambda r: "storage" in r["Properties"].get("Description", ""))
    return key_id


def _minutes(clock):
    """ "HH:MM" -> minutes after midnight."""
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def test_storage_and_performance_insights_use_the_customer_managed_data_key(any_stage):
    props = database(any_stage)
    key = {"Fn::GetAtt": [data_key_id(any_stage), "Arn"]}
    assert props["StorageEncrypted"] is True and props["KmsKeyId"] == key
    assert props["EnablePerformanceInsights"] is True
    assert props["PerformanceInsightsKMSKeyId"] == key
    assert props["PerformanceInsightsRetentionPeriod"] == 7
    _, data_key = any_stage.one("AWS::KMS::Key", lambda r: "storage" in r["Properties"].get("Description", ""))
    assert data_key["Properties"]["EnableKeyRotation"] is True
    # Final snapshots and backups outlive the stack; so must the key that decrypts them.
    assert data_key["DeletionPolicy"] == "Retain"
    _, alias = any_stage.one("AWS::KMS::Alias", lambda r: r["Properties"]["AliasName"].endswith("-data"))
    assert alias["Properties"]["AliasName"] == f"alias/exitus-{any_stage.config.stage}-data"


def test_enhanced_monitoring_every_minute(any_stage):
    props = database(any_stage)
    assert props["MonitoringInterval"] == 60
    role = any_stage.resources("AWS::IAM::Role")[props["MonitoringRoleArn"]["Fn::GetAtt"][0]]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}


def test_parameter_group_logs_slow_statements_and_lock_waits_and_ends_idle_transactions(any_stage):
    _, group = any_stage.one("AWS::RDS::DBParameterGroup")
    assert database(any_stage)["DBParameterGroupName"] == ref(logical(any_stage, "AWS::RDS::DBParameterGroup"))
    assert group["Properties"]["Parameters"] == {
        "rds.force_ssl": "1",
        "log_min_duration_statement": "500",
        "log_lock_waits": "1",
        "idle_in_transaction_session_timeout": "60000",
    }


def test_backup_and_maintenance_windows_do_not_overlap(any_stage):
    props = database(any_stage)
    backup_start, backup_end = props["PreferredBackupWindow"].split("-")
    maintenance_start, maintenance_end = props["PreferredMaintenanceWindow"].split("-")
    assert maintenance_start.startswith("sun:") and maintenance_end.startswith("sun:")
    # The daily backup window, on the maintenance day, ends before maintenance starts.
    assert _minutes(backup_end) <= _minutes(maintenance_start[4:])
    assert _minutes(backup_start) < _minutes(backup_end)


# ----------------------------------------------------------------------------------------------------------- backup


def test_daily_backup_copied_to_the_backup_region(dev, prod):
    for synth, days in ((dev, 7), (prod, 35)):
        stage = synth.config.stage
        _, plan = synth.one("AWS::Backup::BackupPlan")
        (rule,) = plan["Properties"]["BackupPlan"]["BackupPlanRule"]
        assert rule["ScheduleExpression"] == "cron(0 17 * * ? *)"
        assert rule["Lifecycle"] == {"DeleteAfterDays": days}
        (copy,) = rule["CopyActions"]
        assert (
            copy["DestinationBackupVaultArn"]
            == f"arn:aws:backup:ap-southeast-4:123456789012:backup-vault:exitus-{stage}-copy"
        )
        assert copy["Lifecycle"] == {"DeleteAfterDays": days}
        vault_id, vault = synth.one("AWS::Backup::BackupVault")
        assert rule["TargetBackupVault"] == {"Fn::GetAtt": [vault_id, "BackupVaultName"]}
        assert vault["Properties"]["EncryptionKeyArn"] == {"Fn::GetAtt": [data_key_id(synth), "Arn"]}
        assert vault["DeletionPolicy"] == "Retain"
        _, selection = synth.one("AWS::Backup::BackupSelection")
        resources = selection["Properties"]["BackupSelection"]["Resources"]
        assert any(logical(synth, "AWS::RDS::DBInstance") in str(r) for r in resources)


def test_copy_vault_stack_in_the_backup_region_with_its_own_key(dev, prod):
    for synth in (dev, prod):
        stage = synth.config.stage
        artifact = synth.manifest["artifacts"][synth.backup_name]
        assert artifact["environment"] == "aws://123456789012/ap-southeast-4"
        assert synth.backup_name in synth.manifest["artifacts"][synth.service_name]["dependencies"]
        template = synth.json[synth.backup_name]["Resources"]
        (vault,) = [r for r in template.values() if r["Type"] == "AWS::Backup::BackupVault"]
        (key_id,) = [k for k, r in template.items() if r["Type"] == "AWS::KMS::Key"]
        assert vault["Properties"]["BackupVaultName"] == f"exitus-{stage}-copy"
        assert vault["Properties"]["EncryptionKeyArn"] == {"Fn::GetAtt": [key_id, "Arn"]}
        assert template[key_id]["Properties"]["EnableKeyRotation"] is True
        assert vault["DeletionPolicy"] == template[key_id]["DeletionPolicy"] == "Retain"
        # Prod copies cannot be deleted before their retention ends, not even by an administrator's mistake.
        locked = "AccessPolicy" in vault["Properties"]
        assert locked is synth.config.is_prod


def test_backup_region_settings():
    assert make_config(BACKUP_REGION="ap-southeast-1").backup_region == "ap-southeast-1"
    with pytest.raises(ConfigError, match="must differ"):
        make_config(BACKUP_REGION="ap-southeast-2")
    with pytest.raises(ConfigError, match="BACKUP_REGION is required"):
        make_config(
            CDK_DEFAULT_REGION="sa-east-1", ACM_CERTIFICATE_ARN="arn:aws:acm:sa-east-1:123456789012:certificate/x"
        )
