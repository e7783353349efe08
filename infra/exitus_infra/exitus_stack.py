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
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_route53 as route53
from constructs import Construct

from .config import APP_NAME, CONTAINER_PORT, DB_NAME, DB_PORT, DB_USERNAME, Config
from .migration import MigrationRunner

SERVICE_CONTAINER = "exitus"
MIGRATION_CONTAINER = "migrate"
HEALTH_PATH = "/healthz"
# Stdlib-only probe: the image is a Python image and may not ship curl.
HEALTH_PROBE = (
    f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{CONTAINER_PORT}{HEALTH_PATH}', timeout=4)"
)


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
        self.database = rds.DatabaseInstance(
            self,
            "Database",
            instance_identifier=db_instance_id,
            engine=engine,
            instance_type=ec2.InstanceType.of(
                ec2.InstanceClass.BURSTABLE4_GRAVITON, ec2.InstanceSize.MEDIUM if prod else ec2.InstanceSize.MICRO
            ),
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_groups=[self.db_security_group],
            port=DB_PORT,
            database_name=DB_NAME,
            credentials=rds.Credentials.from_secret(credentials_secret),
            parameter_group=rds.ParameterGroup(
                self, "DatabaseParameters", engine=engine, parameters={"rds.force_ssl": "1"}
            ),
            storage_encrypted=True,
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
        secrets = {"DB_SECRET": ecs.Secret.from_secrets_manager(self.db_secret)}
        environment = {
            "STAGE": config.stage,
            "BRANCH": config.branch,
            "OPENID_PROVIDER_URL": config.openid_provider_url,
            "OAUTH_CLIENT_ID": config.oauth_client_id,
        }

        # Shared by the service and the migration task; the only source the DB accepts.
        self.app_security_group = ec2.SecurityGroup(
            self,
            "AppSecurityGroup",
            vpc=self.vpc,
            description="exitus tasks: ingress only from the load balancer",
            allow_all_outbound=True,
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
        task_definition.add_container(
            SERVICE_CONTAINER,
            image=image,
            command=["exitus", "serve"],
            environment={**environment, "ADDR": f":{CONTAINER_PORT}"},
            secrets=secrets,
            port_mappings=[ecs.PortMapping(container_port=CONTAINER_PORT, protocol=ecs.Protocol.TCP)],
            health_check=ecs.HealthCheck(
                command=["CMD", "python3", "-c", HEALTH_PROBE],
                interval=Duration.seconds(15),
                timeout=Duration.seconds(5),
                retries=3,
                start_period=Duration.seconds(30),
            ),
            logging=ecs.LogDrivers.aws_logs(stream_prefix="api", log_group=self.log_group),
        )

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
        migration_task_definition.add_container(
            MIGRATION_CONTAINER,
            image=image,
            command=["exitus", "migrate", "up"],
            environment=environment,
            secrets=secrets,
            logging=ecs.LogDrivers.aws_logs(stream_prefix="migrate", log_group=self.log_group),
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
        # Prometheus metrics are for scrapers inside the VPC, not the internet.
        self.fargate.listener.add_action(
            "BlockMetrics",
            priority=10,
            conditions=[elbv2.ListenerCondition.path_patterns(["/metrics", "/metrics/*"])],
            action=elbv2.ListenerAction.fixed_response(404, content_type="text/plain", message_body="not found"),
        )

        scaling = self.fargate.service.auto_scale_task_count(
            min_capacity=2 if prod else 1, max_capacity=10 if prod else 3
        )
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

        CfnOutput(self, "ServiceUrl", value=f"https://{config.domain_name}")
        CfnOutput(self, "LoadBalancerDns", value=load_balancer.load_balancer_dns_name)
        CfnOutput(self, "DatabaseSecretArn", value=self.db_secret.secret_arn)
        CfnOutput(self, "ClusterName", value=cluster_name)
        CfnOutput(self, "MigrationTaskDefinitionFamily", value=migration_family)

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
