"""CloudWatch alarms for the service and its database, all notifying one SNS topic.

The alarms in `deployment_alarms` are also the ECS service's deployment alarms: a deployment during which one of
them goes into ALARM is rolled back (README "Runbook" says what each alarm means and what to do).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

ONE_MINUTE = Duration.minutes(1)
GIB = 1024**3

# Alarm thresholds. The 5xx rate only counts once a minute has enough requests to mean something.
SERVER_ERROR_PERCENT = 5
SERVER_ERROR_MIN_REQUESTS = 20
P99_LATENCY_SECONDS = 2
DB_CPU_PERCENT = 80
DB_FREE_STORAGE_BYTES = 2 * GIB
# About three quarters of RDS's default max_connections (LEAST(DBInstanceClassMemory/9531392, 5000)).
DB_CONNECTIONS = {"micro": 60, "small": 120, "medium": 300, "large": 600}


@dataclass(frozen=True)
class MonitoredService:
    cluster_name: str
    service: ecs.FargateService
    min_tasks: int
    load_balancer: elbv2.ApplicationLoadBalancer
    target_group: elbv2.ApplicationTargetGroup
    database: rds.DatabaseInstance
    db_instance_size: str


class Alarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        target: MonitoredService,
        email: str | None,
        prod: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        # CloudWatch can only publish to a topic encrypted with a customer-managed key that lets it use the key.
        self.key = kms.Key(
            self,
            "TopicKey",
            description=f"{prefix} alarm notifications (SNS)",
            enable_key_rotation=True,
            pending_window=Duration.days(7),
            removal_policy=RemovalPolicy.RETAIN if prod else RemovalPolicy.DESTROY,
        )
        self.key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*")
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name=f"{prefix}-alarms",
            display_name=f"{prefix} alarms",
            master_key=self.key,
            enforce_ssl=True,
        )
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        action = cw_actions.SnsAction(self.topic)

        def alarm(name: str, description: str, **kwargs) -> cw.Alarm:
            created = cw.Alarm(self, name, alarm_name=f"{prefix}-{name}", alarm_description=description, **kwargs)
            created.add_alarm_action(action)
            created.add_ok_action(action)
            return created

        lb = target.load_balancer.metrics
        requests = lb.request_count(period=ONE_MINUTE, statistic="Sum")
        errors = cw.MathExpression(
            expression="FILL(target5xx, 0) + FILL(elb5xx, 0)",
            using_metrics={
                "target5xx": lb.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=ONE_MINUTE),
                "elb5xx": lb.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=ONE_MINUTE),
            },
            period=ONE_MINUTE,
        )
        self.server_errors = alarm(
            "5xx-rate",
            f"More than {SERVER_ERROR_PERCENT}% of requests answered 5xx (by the tasks or the load balancer) "
            "for 2 of 3 minutes. Rolls back a deployment in progress.",
            metric=cw.MathExpression(
                expression=f"IF(requests >= {SERVER_ERROR_MIN_REQUESTS}, 100 * errors / requests, 0)",
                using_metrics={"errors": errors, "requests": requests},
                label="5xx %",
                period=ONE_MINUTE,
            ),
            threshold=SERVER_ERROR_PERCENT,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        self.latency = alarm(
            "p99-latency",
            f"p99 response time above {P99_LATENCY_SECONDS} s for 3 minutes. Rolls back a deployment in progress.",
            metric=target.target_group.metrics.target_response_time(period=ONE_MINUTE, statistic="p99"),
            threshold=P99_LATENCY_SECONDS,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=3,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        self.unhealthy_hosts = alarm(
            "unhealthy-hosts",
            "A task failed the load balancer's /healthz check for 5 minutes.",
            metric=target.target_group.metrics.unhealthy_host_count(period=ONE_MINUTE, statistic="Maximum"),
            threshold=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=5,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        self.running_tasks = alarm(
            "running-tasks-below-minimum",
            f"Fewer than {target.min_tasks} tasks running (the autoscaling minimum) for 5 minutes.",
            metric=cw.Metric(
                namespace="ECS/ContainerInsights",
                metric_name="RunningTaskCount",
                dimensions_map={
                    "ClusterName": target.cluster_name,
                    "ServiceName": target.service.service_name,
                },
                period=ONE_MINUTE,
                statistic="Minimum",
            ),
            threshold=target.min_tasks,
            comparison_operator=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=5,
            # No data from Container Insights means no tasks reporting.
            treat_missing_data=cw.TreatMissingData.BREACHING,
        )
        db = target.database
        self.db_cpu = alarm(
            "db-cpu",
            f"Database CPU above {DB_CPU_PERCENT}% for 15 minutes.",
            metric=db.metric_cpu_utilization(period=Duration.minutes(5)),
            threshold=DB_CPU_PERCENT,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=3,
        )
        self.db_free_storage = alarm(
            "db-free-storage",
            f"Less than {DB_FREE_STORAGE_BYTES // GIB} GiB of database storage free: storage autoscaling has "
            "reached its maximum or cannot keep up.",
            metric=db.metric_free_storage_space(period=Duration.minutes(5), statistic="Minimum"),
            threshold=DB_FREE_STORAGE_BYTES,
            comparison_operator=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=2,
            treat_missing_data=cw.TreatMissingData.BREACHING,
        )
        connections = DB_CONNECTIONS[target.db_instance_size]
        self.db_connections = alarm(
            "db-connections",
            f"More than {connections} database connections (about 3/4 of max_connections) for 10 minutes.",
            metric=db.metric_database_connections(period=Duration.minutes(5), statistic="Maximum"),
            threshold=connections,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=2,
        )

        # Bad releases show up here first; the others are about capacity, not the release.
        self.deployment_alarms = [self.server_errors, self.latency]
        self.all = [
            self.server_errors,
            self.latency,
            self.unhealthy_hosts,
            self.running_tasks,
            self.db_cpu,
            self.db_free_storage,
            self.db_connections,
        ]
