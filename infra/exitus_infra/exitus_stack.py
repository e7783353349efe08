"""The exitus runtime: VPC, PostgreSQL on RDS, ECS Fargate behind an HTTPS ALB."""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_ecs_patterns as ecs_patterns
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from .backup import DatabaseBackup
from .config import (
    APP_NAME,
    CONTAINER_PORT,
    DB_APP_USERNAME,
    DB_BACKUP_WINDOW,
    DB_MAINTENANCE_WINDOW,
    DB_NAME,
    DB_PORT,
    DB_USERNAME,
    METRICS_PORT,
    RDS_CA_BUNDLE,
    SECRET_ROTATION_DAYS,
    UID,
    Config,
)
from .migration import MigrationRunner
from .monitoring import Alarms, MonitoredService
from .nag import acknowledge
from .waf import WebAcl

SERVICE_CONTAINER = "exitus"
MIGRATION_CONTAINER = "migrate"
HEALTH_PATH = "/healthz"
# Stdlib-only probe: the image is a Python image and may not ship curl.
HEALTH_PROBE = (
    f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{CONTAINER_PORT}{HEALTH_PATH}', timeout=4)"
)
# libpq settings every connection of the container gets (exitus builds its URL from DB_SECRET without them).
TLS_ENVIRONMENT = {"PGSSLMODE": "verify-full", "PGSSLROOTCERT": RDS_CA_BUNDLE}
# Migrations: a DDL statement that waits more than 5 s for a lock gives up (the deploy fails and can be retried)
# instead of queueing every tenant's queries behind it; no statement runs longer than 10 minutes, well inside the
# 30-minute deploy timeout. idle_in_transaction_session_timeout=0: exitus holds its migration advisory lock on a
# connection that sits idle in a transaction while the migrations run (the parameter group's limit is for the API).
MIGRATION_PGOPTIONS = "-c lock_timeout=5s -c statement_timeout=10min -c idle_in_transaction_session_timeout=0"
# PostgreSQL settings (RDS parameter group): log slow statements and lock waits, end forgotten transactions.
DB_PARAMETERS = {
    "rds.force_ssl": "1",
    "log_min_duration_statement": "500",  # ms
    "log_lock_waits": "1",
    "idle_in_transaction_session_timeout": "60000",  # ms
}
TMP_VOLUME = "tmp"


class ExitusStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: Config, **kwargs) -> None:
        self.config = config
        super().__init__(scope, construct_id, **kwargs)
        prod = config.is_prod
        log_retention = logs.RetentionDays.ONE_MONTH if prod else logs.RetentionDays.ONE_WEEK

        # ---------------------------------------------------------------- network
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.0.0.0/16"),
            # Two zones from self.availability_zones (below): no context lookup at synth time.
            max_azs=2,
            nat_gateways=2 if prod else 1,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=24),
                ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
            ],
        )

        # ------------------------------------------------------------------ trails
        # ALB access logs and VPC flow logs. ALB access logs only support SSE-S3 (not SSE-KMS).
        self.trail_bucket = s3.Bucket(
            self,
            "TrailBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=False,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-trails",
                    expiration=Duration.days(365 if prod else 30),
                    transitions=(
                        [
                            s3.Transition(
                                storage_class=s3.StorageClass.INFREQUENT_ACCESS, transition_after=Duration.days(30)
                            )
                        ]
                        if prod
                        else None
                    ),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
            ],
            # Incident evidence outlives the stack; the lifecycle rule empties it.
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.trail_bucket,
            "S1",
            "this bucket only receives AWS service logs (ALB access logs, VPC flow logs); logging access to the "
            "log bucket into yet another bucket adds nothing an incident needs",
        )
        self.vpc.add_flow_log(
            "FlowLogs",
            destination=ec2.FlowLogDestination.to_s3(self.trail_bucket, "vpc-flow-logs/"),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )

        # ---------------------------------------------------------------- keys
        # The data key: database storage, Performance Insights, the local backup vault. Decided before the first
        # production deploy (an instance's key cannot change without a restore); README "Backups and keys".
        self.data_key = kms.Key(
            self,
            "DataKey",
            alias=f"alias/{config.prefix}-data",
            description=f"{config.prefix} database storage, Performance Insights and backups",
            enable_key_rotation=True,
            # Snapshots encrypted with it outlive the stack, in every stage.
            removal_policy=RemovalPolicy.RETAIN,
        )

        # --------------------------------------------------------------- database
        self.db_security_group = ec2.SecurityGroup(
            self,
            "DatabaseSecurityGroup",
            vpc=self.vpc,
            description="exitus PostgreSQL: ingress only from the exitus tasks",
            allow_all_outbound=False,
        )
        db_instance_id = f"{config.prefix}-db"
        # Created up front so PostgreSQL logs get a retention period.
        db_log_group = logs.LogGroup(
            self,
            "DatabaseLogs",
            log_group_name=f"/aws/rds/instance/{db_instance_id}/postgresql",
            retention=log_retention,
            removal_policy=RemovalPolicy.RETAIN if prod else RemovalPolicy.DESTROY,
        )
        engine = rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_17)
        # Generated password in Secrets Manager; once attached to the instance the
        # secret JSON holds username, password, host, port, dbname and engine.
        credentials_secret = rds.DatabaseSecret(
            self, "DatabaseCredentials", username=DB_USERNAME, secret_name=f"{APP_NAME}/{config.stage}/db"
        )
        credentials_secret.apply_removal_policy(RemovalPolicy.RETAIN if prod else RemovalPolicy.DESTROY)
        db_size = "medium" if prod else "micro"
        self.database = rds.DatabaseInstance(
            self,
            "Database",
            instance_identifier=db_instance_id,
            engine=engine,
            instance_type=ec2.InstanceType.of(ec2.InstanceClass.BURSTABLE4_GRAVITON, ec2.InstanceSize(db_size.upper())),
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_groups=[self.db_security_group],
            port=DB_PORT,
            database_name=DB_NAME,
            credentials=rds.Credentials.from_secret(credentials_secret),
            parameter_group=rds.ParameterGroup(self, "DatabaseParameters", engine=engine, parameters=DB_PARAMETERS),
            storage_encrypted=True,
            storage_encryption_key=self.data_key,
            enable_performance_insights=True,
            performance_insight_retention=rds.PerformanceInsightRetention.DEFAULT,
            performance_insight_encryption_key=self.data_key,
            monitoring_interval=Duration.seconds(60),
            preferred_backup_window=DB_BACKUP_WINDOW,
            preferred_maintenance_window=DB_MAINTENANCE_WINDOW,
            storage_type=rds.StorageType.GP3,
            allocated_storage=20,
            max_allocated_storage=200 if prod else 50,
            multi_az=prod,
            publicly_accessible=False,
            auto_minor_version_upgrade=True,
            backup_retention=Duration.days(14 if prod else 3),
            copy_tags_to_snapshot=True,
            cloudwatch_logs_exports=["postgresql"],
            deletion_protection=prod,
            removal_policy=RemovalPolicy.RETAIN if prod else RemovalPolicy.SNAPSHOT,
        )
        self.database.node.add_dependency(db_log_group)
        self.db_secret = self.database.secret  # the attached secret (includes host/port)
        acknowledge(
            self.database,
            "RDS11",
            "a non-default port is obscurity, not a control: the instance is in isolated subnets and its security "
            "group admits only the exitus tasks and the rotation functions",
        )
        if not prod:
            acknowledge(self.database, "RDS3", "dev/staging stages are single-AZ to save cost; prod is Multi-AZ")
            acknowledge(
                self.database,
                "RDS10",
                "non-prod stacks are disposable; deleting one takes a final snapshot (RemovalPolicy.SNAPSHOT)",
            )
        acknowledge(
            self.database,
            "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]",
            "the AWS-managed policy is the documented permission set for the RDS enhanced monitoring role",
        )

        # Secrets: the master (migrations only) rotates single-user; the service's own role rotates multi-user,
        # alternating exitus_app and exitus_app_clone so the credentials a running task holds stay valid for a
        # whole rotation period after the next rotation. README "Secrets and rotation".
        self.app_db_secret = rds.DatabaseSecret(
            self,
            "AppDatabaseCredentials",
            username=DB_APP_USERNAME,
            secret_name=f"{APP_NAME}/{config.stage}/db-app",
            master_secret=credentials_secret,
        )
        self.app_db_secret.apply_removal_policy(RemovalPolicy.RETAIN if prod else RemovalPolicy.DESTROY)
        self.app_db_secret_attachment = self.app_db_secret.attach(self.database)
        # The rotation functions run in the private subnets: they reach Secrets Manager (443) and the database.
        rotation_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        self.rotation_security_group = ec2.SecurityGroup(
            self,
            "RotationSecurityGroup",
            vpc=self.vpc,
            description="exitus secret rotation functions: Secrets Manager and the database only",
            allow_all_outbound=False,
        )
        # The rotation setup adds the rule to (and from) the database itself.
        self.rotation_security_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS: Secrets Manager")
        self.app_db_rotation = self.database.add_rotation_multi_user(
            "AppUserRotation",
            secret=self.app_db_secret_attachment,
            automatically_after=Duration.days(SECRET_ROTATION_DAYS),
            vpc_subnets=rotation_subnets,
            security_group=self.rotation_security_group,
            # The role is created by a migration; the first rotation is started by hand once it exists.
            rotate_immediately_on_update=False,
        )
        self.service_uses_app_role = config.service_db_secret == "app"
        if self.service_uses_app_role:
            self.master_rotation = self.database.add_rotation_single_user(
                automatically_after=Duration.days(SECRET_ROTATION_DAYS),
                vpc_subnets=rotation_subnets,
                security_group=self.rotation_security_group,
                # Not while this deploy's service update still has tasks holding the master's password.
                rotate_immediately_on_update=False,
            )
            service_db_secret = self.app_db_secret_attachment
        else:
            self.master_rotation = None
            service_db_secret = self.db_secret
            acknowledge(
                credentials_secret,
                "SMG4",
                "the service still connects as the master (SERVICE_DB_SECRET=master): rotating it would cut off "
                "running tasks; single-user rotation is scheduled once SERVICE_DB_SECRET=app",
            )

        # ---------------------------------------------------------------- compute
        cluster_name = config.prefix
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            cluster_name=cluster_name,
            vpc=self.vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/ecs/{config.prefix}",
            retention=log_retention,
            removal_policy=RemovalPolicy.RETAIN if prod else RemovalPolicy.DESTROY,
        )
        image = self._image(config)
        environment = {
            "STAGE": config.stage,
            "BRANCH": config.branch,
            "OPENID_PROVIDER_URL": config.openid_provider_url,
            "OAUTH_CLIENT_ID": config.oauth_client_id,
            **TLS_ENVIRONMENT,
        }

        # Shared by the service and the migration task; the only source the DB accepts besides rotation.
        self.app_security_group = ec2.SecurityGroup(
            self,
            "AppSecurityGroup",
            vpc=self.vpc,
            description="exitus tasks: ingress only from the load balancer",
            allow_all_outbound=False,
        )
        # HTTPS out: ECR, Secrets Manager, CloudWatch Logs and the OIDC provider's JWKS. DNS (the VPC resolver)
        # is not subject to security groups.
        self.app_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS: AWS APIs, image pulls, the OIDC provider"
        )
        self.app_security_group.add_egress_rule(
            self.db_security_group, ec2.Port.tcp(DB_PORT), "PostgreSQL to the exitus database"
        )
        self.db_security_group.add_ingress_rule(
            self.app_security_group, ec2.Port.tcp(DB_PORT), "PostgreSQL from the exitus tasks"
        )

        task_definition = ecs.FargateTaskDefinition(
            self,
            "TaskDefinition",
            family=f"{config.prefix}-api",
            cpu=512 if prod else 256,
            memory_limit_mib=1024 if prod else 512,
            runtime_platform=ecs.RuntimePlatform(
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
                cpu_architecture=ecs.CpuArchitecture.X86_64,
            ),
        )
        service_container = task_definition.add_container(
            SERVICE_CONTAINER,
            image=image,
            command=["exitus", "serve"],
            environment={**environment, "ADDR": f":{CONTAINER_PORT}", "METRICS_ADDR": f":{METRICS_PORT}"},
            secrets={"DB_SECRET": ecs.Secret.from_secrets_manager(service_db_secret)},
            port_mappings=[ecs.PortMapping(container_port=CONTAINER_PORT, protocol=ecs.Protocol.TCP)],
            readonly_root_filesystem=True,
            user=f"{UID}:{UID}",
            health_check=ecs.HealthCheck(
                command=["CMD", "python3", "-c", HEALTH_PROBE],
                interval=Duration.seconds(15),
                timeout=Duration.seconds(5),
                retries=3,
                start_period=Duration.seconds(30),
            ),
            logging=ecs.LogDrivers.aws_logs(stream_prefix="api", log_group=self.log_group),
        )
        self._writable_tmp(task_definition, service_container)

        migration_family = f"{config.prefix}-migrate"
        migration_task_definition = ecs.FargateTaskDefinition(
            self,
            "MigrationTaskDefinition",
            family=migration_family,
            cpu=256,
            memory_limit_mib=512,
            runtime_platform=ecs.RuntimePlatform(
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
                cpu_architecture=ecs.CpuArchitecture.X86_64,
            ),
        )
        migration_container = migration_task_definition.add_container(
            MIGRATION_CONTAINER,
            image=image,
            command=["exitus", "migrate", "up"],
            environment={**environment, "PGOPTIONS": MIGRATION_PGOPTIONS},
            # Always the master: migrations own the schema and create the service's role.
            secrets={"DB_SECRET": ecs.Secret.from_secrets_manager(self.db_secret)},
            readonly_root_filesystem=True,
            user=f"{UID}:{UID}",
            logging=ecs.LogDrivers.aws_logs(stream_prefix="migrate", log_group=self.log_group),
        )
        self._writable_tmp(migration_task_definition, migration_container)
        for definition in (task_definition, migration_task_definition):
            acknowledge(
                definition,
                "ECS2",
                "the environment holds only non-secret settings; the database credentials come from Secrets Manager",
            )
            acknowledge(
                definition.execution_role,
                "IAM5[Resource::*]",
                "ecr:GetAuthorizationToken only exists on Resource '*'; image pulls are scoped to the repository",
            )

        # ---------------------------------------------------------- load balancer
        certificate = acm.Certificate.from_certificate_arn(self, "Certificate", config.certificate_arn)
        zone = route53.HostedZone.from_hosted_zone_attributes(
            self, "Zone", hosted_zone_id=config.hosted_zone_id, zone_name=config.hosted_zone_name
        )
        load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=self.vpc,
            internet_facing=True,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            drop_invalid_header_fields=True,
            deletion_protection=prod,
        )
        load_balancer.log_access_logs(self.trail_bucket, prefix="alb")
        acknowledge(
            load_balancer,
            "EC23",
            "the public API's load balancer: 443 (and 80, which only redirects) open to the internet is its job",
        )
        self.fargate = ecs_patterns.ApplicationLoadBalancedFargateService(
            self,
            "Service",
            cluster=self.cluster,
            task_definition=task_definition,
            load_balancer=load_balancer,
            open_listener=True,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificate=certificate,
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            redirect_http=True,
            domain_name=f"{config.domain_name}.",
            domain_zone=zone,
            # No desired_count: CloudFormation would reset the autoscaled count on every
            # deploy. New services start at 1 and autoscaling raises them to its minimum.
            task_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            security_groups=[self.app_security_group],
            assign_public_ip=False,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            min_healthy_percent=100,
            max_healthy_percent=200,
            health_check_grace_period=Duration.seconds(60),
        )
        target_group = self.fargate.target_group
        target_group.configure_health_check(
            path=HEALTH_PATH,
            healthy_http_codes="200",
            interval=Duration.seconds(15),
            timeout=Duration.seconds(5),
            healthy_threshold_count=2,
            unhealthy_threshold_count=3,
        )
        target_group.set_attribute("deregistration_delay.timeout_seconds", "30")
        # Prometheus metrics are served on METRICS_PORT, which the target group never sends to; this rule keeps
        # /metrics unanswered by the API even if METRICS_ADDR were dropped.
        self.fargate.listener.add_action(
            "BlockMetrics",
            priority=10,
            conditions=[elbv2.ListenerCondition.path_patterns(["/metrics", "/metrics/*"])],
            action=elbv2.ListenerAction.fixed_response(404, content_type="text/plain", message_body="not found"),
        )

        min_tasks = 2 if prod else 1
        scaling = self.fargate.service.auto_scale_task_count(min_capacity=min_tasks, max_capacity=10 if prod else 3)
        scaling.scale_on_cpu_utilization(
            "CpuScaling",
            target_utilization_percent=60,
            scale_in_cooldown=Duration.minutes(5),
            scale_out_cooldown=Duration.minutes(1),
        )
        scaling.scale_on_request_count(
            "RequestCountScaling",
            requests_per_target=500,
            target_group=target_group,
            scale_in_cooldown=Duration.minutes(5),
            scale_out_cooldown=Duration.minutes(1),
        )

        # -------------------------------------------------------------- migration
        private_subnets = self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnets
        self.migration = MigrationRunner(
            self,
            "Migration",
            cluster=self.cluster,
            cluster_name=cluster_name,
            task_definition=migration_task_definition,
            task_definition_family=migration_family,
            container_name=MIGRATION_CONTAINER,
            subnets=private_subnets,
            security_groups=[self.app_security_group],
            log_group=self.log_group,
            log_stream_prefix="migrate",
            log_retention=log_retention,
        )
        # The migration needs the database (and its SG rule) and must finish
        # before the service rolls out tasks of the new image.
        self.migration.node.add_dependency(self.database)
        self.migration.node.add_dependency(self.db_security_group)
        self.fargate.service.node.add_dependency(self.migration.resource)
        self._acknowledge_migration_provider()

        # ------------------------------------------------------------- alarms
        self.alarms = Alarms(
            self,
            "Alarms",
            prefix=config.prefix,
            target=MonitoredService(
                cluster_name=cluster_name,
                service=self.fargate.service,
                min_tasks=min_tasks,
                load_balancer=load_balancer,
                target_group=target_group,
                database=self.database,
                db_instance_size=db_size,
            ),
            email=config.alarm_email,
            prod=prod,
        )
        self.fargate.service.enable_deployment_alarms(
            [a.alarm_name for a in self.alarms.deployment_alarms], behavior=ecs.AlarmBehavior.ROLLBACK_ON_ALARM
        )
        for alarm in self.alarms.deployment_alarms:
            self.fargate.service.node.add_dependency(alarm)

        # ---------------------------------------------------------------- WAF
        self.web_acl = WebAcl(
            self,
            "Waf",
            prefix=config.prefix,
            load_balancer=load_balancer,
            rate_limit=config.waf_rate_limit,
            log_retention=log_retention,
            removal_policy=RemovalPolicy.RETAIN if prod else RemovalPolicy.DESTROY,
        )

        # ------------------------------------------------------------- backup
        self.backup = DatabaseBackup(self, "Backup", config=config, database=self.database, key=self.data_key)
        acknowledge(
            self.backup.selection,
            "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]",
            "the AWS-managed policy is the documented permission set for AWS Backup's service role",
        )

        # ------------------------------------------------------ weekly restart
        self._weekly_restart(config)

        CfnOutput(self, "ServiceUrl", value=f"https://{config.domain_name}")
        CfnOutput(self, "LoadBalancerDns", value=load_balancer.load_balancer_dns_name)
        CfnOutput(self, "DatabaseSecretArn", value=self.db_secret.secret_arn)
        CfnOutput(self, "AppDatabaseSecretArn", value=self.app_db_secret.secret_arn)
        CfnOutput(self, "AlarmTopicArn", value=self.alarms.topic.topic_arn)
        CfnOutput(self, "ClusterName", value=cluster_name)
        CfnOutput(self, "MigrationTaskDefinitionFamily", value=migration_family)

    def _writable_tmp(self, task_definition: ecs.TaskDefinition, container: ecs.ContainerDefinition) -> None:
        """The root filesystem is read-only; /tmp is a task volume (the image declares VOLUME /tmp, so the
        volume starts with the image's world-writable /tmp and uid 10001 can write to it)."""
        task_definition.add_volume(name=TMP_VOLUME)
        container.add_mount_points(
            ecs.MountPoint(source_volume=TMP_VOLUME, container_path="/tmp", read_only=False)  # noqa: S108 - task-private
        )

    def _weekly_restart(self, config: Config) -> None:
        """A forced new deployment every week: no task runs with credentials older than a rotation period
        (SECRET_ROTATION_DAYS), so the multi-user rotation never changes the password of a user a task holds."""
        service = self.fargate.service
        role = iam.Role(
            self,
            "RestartRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": self.account}}
            ),
            description=f"EventBridge Scheduler: force a new deployment of {config.prefix}",
        )
        role.add_to_policy(iam.PolicyStatement(actions=["ecs:UpdateService"], resources=[service.service_arn]))
        scheduler.CfnSchedule(
            self,
            "WeeklyRestart",
            name=f"{config.prefix}-weekly-restart",
            description="Force a new deployment so no task outlives a secret rotation period",
            schedule_expression="cron(0 16 ? * WED *)",  # UTC: an off-peak weekday afternoon, with people around
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            target=scheduler.CfnSchedule.TargetProperty(
                arn="arn:aws:scheduler:::aws-sdk:ecs:updateService",
                role_arn=role.role_arn,
                input=self.to_json_string(
                    {
                        "Cluster": self.cluster.cluster_name,
                        "Service": service.service_name,
                        "ForceNewDeployment": True,
                    }
                ),
            ),
        )

    def _acknowledge_migration_provider(self) -> None:
        provider = self.migration.provider
        functions = [self.migration.on_event, self.migration.is_complete]
        for function in functions:
            acknowledge(
                function,
                "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                "the AWS-managed basic execution policy only lets the function write its own logs",
            )
        acknowledge(
            provider,
            "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "the CDK provider framework's functions: the managed policy only lets them write their logs",
        )
        # The provider's waiter invokes its isComplete/onTimeout functions, and those invoke the two handlers, by
        # qualified ARN (Arn:*).
        waited_on = [provider.node.find_child(name) for name in ("framework-isComplete", "framework-onTimeout")]
        for function in sorted(waited_on + functions, key=lambda f: f.node.path):
            name = self.resolve(self.get_logical_id(function.node.default_child))
            acknowledge(
                provider,
                f"IAM5[Resource::<{name}.Arn>:*]",
                "the CDK provider framework invokes these functions by qualified ARN (version/alias suffix)",
            )
        acknowledge(
            provider,
            "SF1",
            "the waiter only relays polls to the handlers, which log each one; its own logging needs logs:* on '*'",
        )
        acknowledge(
            provider,
            "SF2",
            "the waiter is a 15 s polling loop of two Lambda calls; X-Ray would trace nothing the logs do not show",
        )

    @property
    def availability_zones(self) -> list:
        # Overrides Stack.availabilityZones, which for a stack with an explicit
        # account/region would do an availability-zones context lookup (AWS
        # credentials needed). Default: let CloudFormation pick the region's
        # first two zones.
        if self.config.availability_zones:
            return list(self.config.availability_zones)
        return [Fn.select(i, Fn.get_azs()) for i in range(2)]

    def _image(self, config: Config) -> ecs.ContainerImage:
        if config.image_tag:
            repository = ecr.Repository.from_repository_name(self, "Repository", config.repository_name)
            return ecs.ContainerImage.from_ecr_repository(repository, config.image_tag)
        dockerfile = config.docker_context / "Dockerfile"
        if not dockerfile.is_file():
            raise FileNotFoundError(
                f"IMAGE_TAG is not set and there is no {dockerfile} to build an image asset from; "
                "set IMAGE_TAG to a tag pushed to the stack's ECR repository"
            )
        # Built and pushed by the CDK CLI at deploy time; synth only stages the context.
        return ecs.ContainerImage.from_asset(
            str(config.docker_context),
            platform=ecr_assets.Platform.LINUX_AMD64,
            # Never ship local state into the build context (the repo's .dockerignore applies too).
            exclude=[
                "infra",
                ".git",
                ".venv",
                ".data",
                "node_modules",
                "**/__pycache__",
                "**/.pytest_cache",
                ".ruff_cache",
                "htmlcov",
            ],
        )
