"""Offline synthesis tests for the exitus CDK app (no AWS account, no Docker)."""

import json
import re

from aws_cdk.assertions import Match

from .support import (
    CERT_ARN,
    as_list,
    container,
    db_secret_attachment,
    group_id,
    iter_statements,
    logical,
    ref,
    secret_id,
    security_group_id,
    subnets_by_type,
)

# ----------------------------------------------------------------- network


def test_vpc_has_public_private_and_isolated_subnets_in_two_azs(any_stage):
    tpl = any_stage.template()
    tpl.resource_count_is("AWS::EC2::VPC", 1)
    by_type = subnets_by_type(any_stage)
    assert {k: len(v) for k, v in by_type.items()} == {"Public": 2, "Private": 2, "Isolated": 2}
    subnets = any_stage.resources("AWS::EC2::Subnet")
    for kind, ids in by_type.items():
        azs = {json.dumps(subnets[i]["Properties"]["AvailabilityZone"]) for i in ids}
        assert len(azs) == 2, f"{kind} subnets must span two AZs"
        for i in ids:
            assert subnets[i]["Properties"].get("MapPublicIpOnLaunch", False) is (kind == "Public")

    # Private subnets route to the internet through NAT, isolated ones not at all.
    routes = any_stage.resources("AWS::EC2::Route").values()
    tables = any_stage.resources("AWS::EC2::SubnetRouteTableAssociation").values()
    table_of = {a["Properties"]["SubnetId"]["Ref"]: a["Properties"]["RouteTableId"]["Ref"] for a in tables}
    routed = {r["Properties"]["RouteTableId"]["Ref"]: r["Properties"] for r in routes}
    for i in by_type["Private"]:
        assert "NatGatewayId" in routed[table_of[i]]
    for i in by_type["Isolated"]:
        assert table_of[i] not in routed


def test_nat_gateways_per_stage(dev, prod):
    dev.template().resource_count_is("AWS::EC2::NatGateway", 1)
    prod.template().resource_count_is("AWS::EC2::NatGateway", 2)


def test_no_context_lookups_and_explicit_environment(any_stage):
    assert not any_stage.manifest.get("missing"), "synthesis must not need context lookups"
    for name in (any_stage.service_name, any_stage.registry_name):
        env = any_stage.manifest["artifacts"][name]["environment"]
        assert env == "aws://123456789012/ap-southeast-2"


# ---------------------------------------------------------------- database


def test_rds_postgres_encrypted_in_isolated_subnets(any_stage):
    _, db = any_stage.one("AWS::RDS::DBInstance")
    props = db["Properties"]
    assert props["Engine"] == "postgres"
    assert int(props["EngineVersion"].split(".")[0]) >= 15
    assert props["StorageEncrypted"] is True
    assert props["PubliclyAccessible"] is False
    assert props["DBName"] == "exitus"
    assert props["Port"] == "5432"

    _, subnet_group = any_stage.one("AWS::RDS::DBSubnetGroup")
    assert props["DBSubnetGroupName"] == ref(logical(any_stage, "AWS::RDS::DBSubnetGroup"))
    isolated = sorted(subnets_by_type(any_stage)["Isolated"])
    assert sorted(s["Ref"] for s in subnet_group["Properties"]["SubnetIds"]) == isolated

    db_sg = security_group_id(any_stage, "exitus PostgreSQL")
    assert props["VPCSecurityGroups"] == [group_id(db_sg)]

    _, params = any_stage.one("AWS::RDS::DBParameterGroup")
    assert params["Properties"]["Parameters"]["rds.force_ssl"] == "1"


def test_rds_credentials_are_a_generated_secret(any_stage):
    master_id = secret_id(any_stage, "db")
    secret = any_stage.resources("AWS::SecretsManager::Secret")[master_id]
    generate = secret["Properties"]["GenerateSecretString"]
    assert json.loads(generate["SecretStringTemplate"]) == {"username": "exitus"}
    assert generate["GenerateStringKey"] == "password"
    assert secret["Properties"]["Name"] == f"exitus/{any_stage.config.stage}/db"

    _, db = any_stage.one("AWS::RDS::DBInstance")
    password = json.dumps(db["Properties"]["MasterUserPassword"])
    assert "resolve:secretsmanager" in password and master_id in password
    username = json.dumps(db["Properties"]["MasterUsername"])
    assert "resolve:secretsmanager" in username and master_id in username and "SecretString:username" in username

    # The attachment adds host/port/dbname/engine to the secret JSON.
    any_stage.template().has_resource_properties(
        "AWS::SecretsManager::SecretTargetAttachment",
        {
            "SecretId": ref(master_id),
            "TargetType": "AWS::RDS::DBInstance",
            "TargetId": ref(logical(any_stage, "AWS::RDS::DBInstance")),
        },
    )


def test_rds_protection_per_stage(dev, prod):
    _, dev_db = dev.one("AWS::RDS::DBInstance")
    assert dev_db["Properties"]["DeletionProtection"] is False
    assert dev_db["Properties"]["BackupRetentionPeriod"] == 3
    assert dev_db["Properties"]["MultiAZ"] is False
    assert dev_db["DeletionPolicy"] == "Snapshot"

    _, prod_db = prod.one("AWS::RDS::DBInstance")
    assert prod_db["Properties"]["DeletionProtection"] is True
    assert prod_db["Properties"]["BackupRetentionPeriod"] == 14
    assert prod_db["Properties"]["MultiAZ"] is True
    assert prod_db["DeletionPolicy"] == "Retain"
    assert prod_db["UpdateReplacePolicy"] == "Retain"
    for secret in prod.resources("AWS::SecretsManager::Secret").values():
        assert secret["DeletionPolicy"] == "Retain"
    assert prod.manifest["artifacts"][prod.service_name]["properties"].get("terminationProtection") is True


def test_database_security_group_only_admits_the_app_and_rotation_on_5432(any_stage):
    db_sg = security_group_id(any_stage, "exitus PostgreSQL")
    app_sg = security_group_id(any_stage, "exitus tasks")
    rotation_sg = security_group_id(any_stage, "exitus secret rotation")
    _, db_sg_res = any_stage.one(
        "AWS::EC2::SecurityGroup", lambda r: r["Properties"]["GroupDescription"].startswith("exitus PostgreSQL")
    )
    assert not db_sg_res["Properties"].get("SecurityGroupIngress"), "no inline ingress on the DB SG"

    rules = [
        r["Properties"]
        for r in any_stage.resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == group_id(db_sg)
    ]
    by_source = {r["SourceSecurityGroupId"]["Fn::GetAtt"][0]: r for r in rules}
    assert set(by_source) == {app_sg, rotation_sg} and len(rules) == 2
    assert by_source[app_sg] == {
        "Description": "PostgreSQL from the exitus tasks",
        "FromPort": 5432,
        "ToPort": 5432,
        "IpProtocol": "tcp",
        "GroupId": group_id(db_sg),
        "SourceSecurityGroupId": group_id(app_sg),
    }
    # The rotation functions reach the instance on its endpoint port (5432).
    db_id = logical(any_stage, "AWS::RDS::DBInstance")
    assert by_source[rotation_sg]["FromPort"] == {"Fn::GetAtt": [db_id, "Endpoint.Port"]}


def test_service_security_group_only_admits_the_load_balancer(any_stage):
    app_sg = security_group_id(any_stage, "exitus tasks")
    alb_sg = security_group_id(any_stage, "Automatically created Security Group for ELB")
    _, app_sg_res = any_stage.one(
        "AWS::EC2::SecurityGroup", lambda r: r["Properties"]["GroupDescription"].startswith("exitus tasks")
    )
    assert not app_sg_res["Properties"].get("SecurityGroupIngress")

    rules = [
        r["Properties"]
        for r in any_stage.resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == group_id(app_sg)
    ]
    assert len(rules) == 1
    assert rules[0]["SourceSecurityGroupId"] == group_id(alb_sg)
    assert (rules[0]["FromPort"], rules[0]["ToPort"], rules[0]["IpProtocol"]) == (8080, 8080, "tcp")

    # Nothing anywhere opens a CIDR range except the ALB's 80/443.
    for sg_id, sg in any_stage.resources("AWS::EC2::SecurityGroup").items():
        for rule in sg["Properties"].get("SecurityGroupIngress", []):
            assert sg_id == alb_sg and rule["FromPort"] in (80, 443), (sg_id, rule)
    for rule in any_stage.resources("AWS::EC2::SecurityGroupIngress").values():
        assert "CidrIp" not in rule["Properties"] and "CidrIpv6" not in rule["Properties"]


# ----------------------------------------------------------------- service


def test_container_gets_db_secret_as_secret_not_environment(any_stage):
    _, api = container(any_stage, "api")
    # SERVICE_DB_SECRET defaults to the master until the service role exists (test_secrets.py covers "app").
    attachment = db_secret_attachment(any_stage)
    assert api["Secrets"] == [{"Name": "DB_SECRET", "ValueFrom": ref(attachment)}]
    env = {e["Name"]: e["Value"] for e in api["Environment"]}
    assert "DB_SECRET" not in env
    assert not any(re.search(r"PASSWORD|SECRET", name) for name in env)
    assert env == {
        "STAGE": any_stage.config.stage,
        "BRANCH": any_stage.config.branch,
        "OPENID_PROVIDER_URL": "https://cognito-idp.ap-southeast-2.amazonaws.com/ap-southeast-2_TEST",
        "OAUTH_CLIENT_ID": "test-client-id",
        "ADDR": ":8080",
        "METRICS_ADDR": ":9090",
        "PGSSLMODE": "verify-full",
        "PGSSLROOTCERT": "/opt/exitus/share/rds-global-bundle.pem",
    }
    assert api["PortMappings"] == [{"ContainerPort": 8080, "Protocol": "tcp"}]
    assert api["Command"] == ["exitus", "serve"]


def test_container_health_check_probes_healthz(any_stage):
    _, api = container(any_stage, "api")
    check = api["HealthCheck"]
    assert check["Command"][0] in ("CMD", "CMD-SHELL")
    assert "http://127.0.0.1:8080/healthz" in " ".join(check["Command"])
    assert check["Retries"] >= 2


def test_image_comes_from_the_stage_repository_and_tag(any_stage):
    _, api = container(any_stage, "api")
    image = json.dumps(api["Image"])
    assert f"/exitus-{any_stage.config.stage}:0123abcd" in image
    any_stage.template("exitus-registry-" + any_stage.config.stage).has_resource_properties(
        "AWS::ECR::Repository",
        {
            "RepositoryName": f"exitus-{any_stage.config.stage}",
            "ImageTagMutability": "IMMUTABLE",
            "ImageScanningConfiguration": {"ScanOnPush": True},
        },
    )
    deps = any_stage.manifest["artifacts"][any_stage.service_name].get("dependencies", [])
    assert any_stage.registry_name in deps


def test_fargate_service_in_private_subnets_with_circuit_breaker(any_stage):
    _, service = any_stage.one("AWS::ECS::Service")
    props = service["Properties"]
    assert props["LaunchType"] == "FARGATE"
    vpc_conf = props["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert vpc_conf["AssignPublicIp"] == "DISABLED"
    assert sorted(s["Ref"] for s in vpc_conf["Subnets"]) == sorted(subnets_by_type(any_stage)["Private"])
    assert vpc_conf["SecurityGroups"] == [group_id(security_group_id(any_stage, "exitus tasks"))]
    assert props["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert props["LoadBalancers"][0]["ContainerPort"] == 8080
    assert props["LoadBalancers"][0]["ContainerName"] == "exitus"
    # Autoscaling owns the task count; a fixed DesiredCount would reset it on every deploy.
    assert "DesiredCount" not in props


def test_target_group_health_check_path(any_stage):
    any_stage.template().has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {"HealthCheckPath": "/healthz", "Matcher": {"HttpCode": "200"}, "TargetType": "ip"},
    )


def test_https_listener_with_certificate(any_stage):
    tpl = any_stage.template()
    tpl.resource_count_is("AWS::ElasticLoadBalancingV2::Listener", 2)
    tg = logical(any_stage, "AWS::ElasticLoadBalancingV2::TargetGroup")
    tpl.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Port": 443,
            "Protocol": "HTTPS",
            "Certificates": [{"CertificateArn": CERT_ARN}],
            "SslPolicy": Match.string_like_regexp("TLS13"),
            "DefaultActions": [{"Type": "forward", "TargetGroupArn": ref(tg)}],
        },
    )
    tpl.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {
            "Scheme": "internet-facing",
            "LoadBalancerAttributes": Match.array_with(
                [{"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"}]
            ),
        },
    )


def test_http_redirects_to_https(any_stage):
    any_stage.template().has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Port": 80,
            "Protocol": "HTTP",
            "DefaultActions": [
                {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}
            ],
        },
    )


def test_metrics_endpoint_not_public(any_stage):
    any_stage.template().has_resource_properties(
        "AWS::ElasticLoadBalancingV2::ListenerRule",
        {
            "Conditions": Match.array_with(
                [
                    Match.object_like(
                        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/metrics", "/metrics/*"]}}
                    )
                ]
            ),
            "Actions": [
                Match.object_like(
                    {"Type": "fixed-response", "FixedResponseConfig": Match.object_like({"StatusCode": "404"})}
                )
            ],
        },
    )


def test_route53_alias_record_for_domain(any_stage):
    alb = logical(any_stage, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    any_stage.template().resource_count_is("AWS::Route53::RecordSet", 1)
    any_stage.template().has_resource_properties(
        "AWS::Route53::RecordSet",
        {
            "Name": "api.exitus.example.com.",
            "Type": "A",
            "HostedZoneId": "Z0123456789ABCDEFGHIJ",
            "AliasTarget": {
                "DNSName": Match.any_value(),
                "HostedZoneId": {"Fn::GetAtt": [alb, "CanonicalHostedZoneID"]},
            },
        },
    )


def test_autoscaling_on_cpu_and_request_count(dev, prod):
    for synth, (lo, hi) in ((dev, (1, 3)), (prod, (2, 10))):
        tpl = synth.template()
        tpl.has_resource_properties(
            "AWS::ApplicationAutoScaling::ScalableTarget",
            {"MinCapacity": lo, "MaxCapacity": hi, "ScalableDimension": "ecs:service:DesiredCount"},
        )
        metrics = sorted(
            p["Properties"]["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
                "PredefinedMetricType"
            ]
            for p in synth.resources("AWS::ApplicationAutoScaling::ScalingPolicy").values()
        )
        assert metrics == ["ALBRequestCountPerTarget", "ECSServiceAverageCPUUtilization"]


# --------------------------------------------------------------- migration


def test_migration_task_definition(any_stage):
    _, migrate = container(any_stage, "migrate")
    _, api = container(any_stage, "api")
    assert migrate["Command"] == ["exitus", "migrate", "up"]
    assert migrate["Image"] == api["Image"]
    assert migrate["Secrets"] == [{"Name": "DB_SECRET", "ValueFrom": ref(db_secret_attachment(any_stage))}]
    assert "DB_SECRET" not in {e["Name"] for e in migrate["Environment"]}


def test_migration_runs_before_the_service_updates(any_stage):
    migration_id, migration = any_stage.one("Custom::ExitusMigration")
    task_def_id, _ = any_stage.one("AWS::ECS::TaskDefinition", lambda r: r["Properties"]["Family"].endswith("-migrate"))
    props = migration["Properties"]
    # A new task definition revision (new image or env) re-runs the migration.
    assert props["TaskDefinition"] == ref(task_def_id)
    assert props["ContainerName"] == "migrate"
    assert props["SecurityGroups"] == [group_id(security_group_id(any_stage, "exitus tasks"))]
    assert sorted(s["Ref"] for s in props["Subnets"]) == sorted(subnets_by_type(any_stage)["Private"])

    _, service = any_stage.one("AWS::ECS::Service")
    assert migration_id in service["DependsOn"]
    depends = set(migration["DependsOn"])
    assert logical(any_stage, "AWS::RDS::DBInstance") in depends
    db_ingress = [
        k
        for k, v in any_stage.resources("AWS::EC2::SecurityGroupIngress").items()
        if v["Properties"]["FromPort"] == 5432
    ]
    assert set(db_ingress) <= depends
    # The task can only start once its execution role may pull the image and read the secret,
    migration_exec_role = any_stage.resources("AWS::ECS::TaskDefinition")[task_def_id]["Properties"]["ExecutionRoleArn"]
    exec_policies = [
        k
        for k, v in any_stage.resources("AWS::IAM::Policy").items()
        if {"Ref": migration_exec_role["Fn::GetAtt"][0]} in v["Properties"]["Roles"]
    ]
    assert exec_policies and set(exec_policies) <= depends
    # ... and once the private subnets route out through NAT.
    private_routes = {k for k, v in any_stage.resources("AWS::EC2::Route").items() if "NatGatewayId" in v["Properties"]}
    assert len(private_routes) == 2 and private_routes <= depends

    # The provider's onEvent handler (service token) calls ecs:RunTask, scoped to the migration family.
    statements = [s for _, _, s in iter_statements(any_stage) if "ecs:RunTask" in as_list(s["Action"])]
    assert len(statements) == 1
    assert statements[0]["Resource"] == (
        f"arn:aws:ecs:ap-southeast-2:123456789012:task-definition/exitus-{any_stage.config.stage}-migrate:*"
    )
    assert "ecs:cluster" in statements[0]["Condition"]["ArnEquals"]
    handlers = {v["Properties"]["Handler"] for v in any_stage.resources("AWS::Lambda::Function").values()}
    assert {"index.on_event", "index.is_complete"} <= handlers


# -------------------------------------------------------------------- logs


def test_log_group_retention_per_stage(dev, prod):
    for synth, days in ((dev, 7), (prod, 30)):
        name = f"/ecs/exitus-{synth.config.stage}"
        log_id, _ = synth.one("AWS::Logs::LogGroup", lambda r, name=name: r["Properties"].get("LogGroupName") == name)
        synth.template().has_resource_properties("AWS::Logs::LogGroup", {"LogGroupName": name, "RetentionInDays": days})
        for family in ("api", "migrate"):
            _, c = container(synth, family)
            assert c["LogConfiguration"]["LogDriver"] == "awslogs"
            assert c["LogConfiguration"]["Options"]["awslogs-group"] == ref(log_id)
        # Every log group the stack creates expires.
        for group in synth.resources("AWS::Logs::LogGroup").values():
            assert group["Properties"].get("RetentionInDays") == days


# --------------------------------------------------------------------- IAM

# Actions that AWS only allows on Resource "*"; nothing else may use it.
STAR_RESOURCE_OK = {"ecr:GetAuthorizationToken"}


def test_no_wildcard_iam(any_stage):
    checked = 0
    for stack, logical_id, statement in iter_statements(any_stage):
        checked += 1
        if statement.get("Effect", "Allow") != "Allow":
            continue
        actions = as_list(statement["Action"])
        where = f"{stack}/{logical_id}: {statement}"
        for action in actions:
            assert action != "*" and not action.endswith(":*"), where
            assert not action.startswith("iam:") or action == "iam:PassRole", where
        assert "NotAction" not in statement and "NotResource" not in statement, where
        if "*" in as_list(statement.get("Resource")):
            assert set(actions) <= STAR_RESOURCE_OK, where
    assert checked > 5

    admin = re.compile(r"AdministratorAccess|PowerUserAccess|IAMFullAccess|FullAccess")
    for template in any_stage.json.values():
        for res in template["Resources"].values():
            if res["Type"] == "AWS::IAM::Role":
                for arn in res["Properties"].get("ManagedPolicyArns", []):
                    assert not admin.search(json.dumps(arn)), arn


def test_task_roles_have_no_permissions_and_execution_role_reads_only_the_secret(any_stage):
    task_def, _ = container(any_stage, "api")
    task_role = task_def["Properties"]["TaskRoleArn"]["Fn::GetAtt"][0]
    exec_role = task_def["Properties"]["ExecutionRoleArn"]["Fn::GetAtt"][0]

    policies = any_stage.resources("AWS::IAM::Policy").values()
    attached = lambda role: [p for p in policies if ref(role) in p["Properties"]["Roles"]]  # noqa: E731
    assert attached(task_role) == []
    roles = any_stage.resources("AWS::IAM::Role")
    assert not roles[task_role]["Properties"].get("ManagedPolicyArns")
    assert not roles[task_role]["Properties"].get("Policies")
    assert not roles[exec_role]["Properties"].get("ManagedPolicyArns")

    (exec_policy,) = attached(exec_role)
    secret_statements = [
        s
        for s in exec_policy["Properties"]["PolicyDocument"]["Statement"]
        if any(a.startswith("secretsmanager:") for a in as_list(s["Action"]))
    ]
    assert secret_statements == [
        {
            "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
            "Effect": "Allow",
            "Resource": ref(db_secret_attachment(any_stage)),
        }
    ]
