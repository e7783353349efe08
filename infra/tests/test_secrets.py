"""Point 5: the master rotates single-user (migrations only), the service's own role multi-user, and running tasks
survive a rotation (README "Secrets and rotation")."""

import json
import re

from exitus_infra.config import DB_APP_USERNAME, REPO_ROOT

from .support import as_list, container, db_secret_attachment, logical, ref, secret_id, security_group_id


def rotation_schedules(synth):
    """secret attachment logical id -> RotationSchedule properties"""
    return {
        s["Properties"]["SecretId"]["Ref"]: s["Properties"]
        for s in synth.resources("AWS::SecretsManager::RotationSchedule").values()
    }


def rotation_application(synth, schedule):
    app_id = schedule["RotationLambdaARN"]["Fn::GetAtt"][0]
    app = synth.resources("AWS::Serverless::Application")[app_id]
    mapping = synth.service["Mappings"][app["Properties"]["Location"]["ApplicationId"]["Fn::FindInMap"][0]]
    return mapping["aws"]["applicationId"].rsplit("/", 1)[-1], app["Properties"]["Parameters"]


def test_service_role_secret_exists_attached_to_the_database(every_variant):
    synth = every_variant
    app_secret = synth.resources("AWS::SecretsManager::Secret")[secret_id(synth, "db-app")]
    # {"username": "exitus_app", "masterarn": <the master secret>}, joined by CloudFormation.
    template = json.dumps(app_secret["Properties"]["GenerateSecretString"]["SecretStringTemplate"])
    assert '\\"username\\":\\"exitus_app\\"' in template
    # The multi-user rotation logs in with the master to create and alter exitus_app_clone.
    assert '\\"masterarn\\":\\"' in template and json.dumps(ref(secret_id(synth, "db"))) in template
    _, attachment = synth.one(
        "AWS::SecretsManager::SecretTargetAttachment",
        lambda r: r["Properties"]["SecretId"] == ref(secret_id(synth, "db-app")),
    )
    assert attachment["Properties"]["TargetId"] == ref(logical(synth, "AWS::RDS::DBInstance"))


def test_service_role_rotates_multi_user_every_30_days_once_started_by_hand(every_variant):
    synth = every_variant
    schedule = rotation_schedules(synth)[db_secret_attachment(synth, "db-app")]
    assert schedule["RotationRules"] == {"ScheduleExpression": "rate(30 days)"}
    # The role comes from a migration: no rotation before it exists.
    assert schedule["RotateImmediatelyOnUpdate"] is False
    application, parameters = rotation_application(synth, schedule)
    assert application == "SecretsManagerRDSPostgreSQLRotationMultiUser"
    assert parameters["masterSecretArn"] == ref(db_secret_attachment(synth, "db"))


def test_rotation_functions_reach_only_secrets_manager_and_the_database(every_variant):
    synth = every_variant
    rotation_sg = security_group_id(synth, "exitus secret rotation")
    db_sg = security_group_id(synth, "exitus PostgreSQL")
    _, sg = synth.one(
        "AWS::EC2::SecurityGroup", lambda r: r["Properties"]["GroupDescription"].startswith("exitus secret")
    )
    egress = sg["Properties"]["SecurityGroupEgress"]
    assert [(e["CidrIp"], e["FromPort"], e["ToPort"]) for e in egress] == [("0.0.0.0/0", 443, 443)]
    to_db = [
        e["Properties"]
        for e in synth.resources("AWS::EC2::SecurityGroupEgress").values()
        if e["Properties"]["GroupId"] == {"Fn::GetAtt": [rotation_sg, "GroupId"]}
    ]
    db_port = {"Fn::GetAtt": [logical(synth, "AWS::RDS::DBInstance"), "Endpoint.Port"]}
    assert [(e["DestinationSecurityGroupId"], e["FromPort"]) for e in to_db] == [
        ({"Fn::GetAtt": [db_sg, "GroupId"]}, db_port)
    ]
    private = {s for s in synth.resources("AWS::EC2::Subnet") if "private" in s}
    for app in synth.resources("AWS::Serverless::Application").values():
        subnets = {
            part["Ref"]
            for part in app["Properties"]["Parameters"]["vpcSubnetIds"]["Fn::Join"][1]
            if isinstance(part, dict)
        }
        assert subnets == private, "rotation needs the NAT route to Secrets Manager"


def test_while_the_service_uses_the_master_the_master_does_not_rotate(dev, prod):
    for synth in (dev, prod):
        master = db_secret_attachment(synth, "db")
        assert master not in rotation_schedules(synth)
        _, api = container(synth, "api")
        assert api["Secrets"] == [{"Name": "DB_SECRET", "ValueFrom": ref(master)}]


def test_once_the_service_uses_its_role_the_master_rotates_single_user(app_role):
    master = db_secret_attachment(app_role, "db")
    app = db_secret_attachment(app_role, "db-app")
    schedule = rotation_schedules(app_role)[master]
    assert schedule["RotationRules"] == {"ScheduleExpression": "rate(30 days)"}
    assert schedule["RotateImmediatelyOnUpdate"] is False
    application, _ = rotation_application(app_role, schedule)
    assert application == "SecretsManagerRDSPostgreSQLRotationSingleUser"

    api_task, api = container(app_role, "api")
    migrate_task, migrate = container(app_role, "migrate")
    assert api["Secrets"] == [{"Name": "DB_SECRET", "ValueFrom": ref(app)}]
    assert migrate["Secrets"] == [{"Name": "DB_SECRET", "ValueFrom": ref(master)}], "migrations run as the master"
    # Each execution role may read only its own secret.
    for task, secret in ((api_task, app), (migrate_task, master)):
        role = task["Properties"]["ExecutionRoleArn"]["Fn::GetAtt"][0]
        readable = [
            s["Resource"]
            for p in app_role.resources("AWS::IAM::Policy").values()
            if ref(role) in p["Properties"]["Roles"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]
            if "secretsmanager:GetSecretValue" in as_list(s["Action"])
        ]
        assert readable == [ref(secret)]


def test_tasks_are_replaced_weekly_so_none_outlives_a_rotation_period(every_variant):
    synth = every_variant
    _, schedule = synth.one("AWS::Scheduler::Schedule")
    props = schedule["Properties"]
    # Weekly: a task is at most 7 days old, well inside the 30 days its user's password stays valid.
    assert re.fullmatch(r"cron\(\d+ \d+ \? \* (MON|TUE|WED|THU|FRI) \*\)", props["ScheduleExpression"])
    target = props["Target"]
    assert target["Arn"] == "arn:aws:scheduler:::aws-sdk:ecs:updateService"
    service_id = logical(synth, "AWS::ECS::Service")
    rendered = json.dumps(target["Input"])
    assert '\\"ForceNewDeployment\\":true' in rendered and service_id in rendered
    role_id = target["RoleArn"]["Fn::GetAtt"][0]
    role = synth.resources("AWS::IAM::Role")[role_id]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "scheduler.amazonaws.com"}
    statements = [
        s
        for p in synth.resources("AWS::IAM::Policy").values()
        if ref(role_id) in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert statements == [{"Action": "ecs:UpdateService", "Effect": "Allow", "Resource": ref(service_id)}]


def test_the_migrations_create_the_login_the_app_secret_names_as_a_member_of_the_serving_role_only():
    """The app secret's user must exist before the first rotation: the migration task (as the master) creates it,
    owning nothing and holding nothing but membership in exitus_service (README "The service's login"; the
    service's suite proves what it can and cannot do against a real PostgreSQL)."""
    migrations = sorted((REPO_ROOT / "migrations").glob("*.sql"))
    applied = "\n".join(p.read_text().lower() for p in migrations if not p.name.endswith(".rollback.sql"))
    created = re.search(rf"create role {DB_APP_USERNAME} login ([a-z ]+);", applied)
    assert created, f"no migration creates the login {DB_APP_USERNAME}"
    assert set(created.group(1).split()) >= {"nosuperuser", "nocreatedb", "nocreaterole", "noinherit", "nobypassrls"}
    memberships = re.findall(rf"grant ([a-z_]+) to {DB_APP_USERNAME};", applied)
    assert memberships == ["exitus_service"]
    assert not re.search(rf"(owner to|grant [a-z, ]+ on [^;]* to) {DB_APP_USERNAME}\b", applied), "it owns nothing"
