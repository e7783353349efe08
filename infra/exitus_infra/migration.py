"""Run ``exitus migrate up`` as a one-off ECS task before the service updates.

A provider-framework custom resource (see migration_handler/index.py) calls
``ecs:RunTask`` for the migration task definition and polls
``ecs:DescribeTasks`` until the task stops, failing the deployment on a
non-zero exit code. Its properties include the task definition ARN, which
changes on every new image (tag or asset hash) or environment change, so the
migration runs on each deploy that ships something new. The ECS service
declares a dependency on this resource, so CloudFormation only updates the
service after the migration succeeded.

The handler stops the task itself a little before the provider's total
timeout (the provider framework gives up without calling it), and does
nothing during a stack rollback.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from aws_cdk import CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from .nag import acknowledge

HANDLER_DIR = Path(__file__).resolve().parent / "migration_handler"


class MigrationRunner(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: ecs.ICluster,
        cluster_name: str,
        task_definition: ecs.FargateTaskDefinition,
        task_definition_family: str,
        container_name: str,
        subnets: Sequence[ec2.ISubnet],
        security_groups: Sequence[ec2.ISecurityGroup],
        log_group: logs.ILogGroup,
        log_stream_prefix: str,
        log_retention: logs.RetentionDays,
        timeout_minutes: int = 30,
    ) -> None:
        if timeout_minutes < 5:
            raise ValueError("timeout_minutes: the handler needs a few polls of slack before the provider gives up")
        super().__init__(scope, construct_id)
        stack = Stack.of(self)

        def function(fid: str, handler: str) -> lambda_.Function:
            return lambda_.Function(
                self,
                fid,
                runtime=lambda_.Runtime.PYTHON_3_14,
                architecture=lambda_.Architecture.ARM_64,
                handler=handler,
                code=lambda_.Code.from_asset(str(HANDLER_DIR), exclude=["__pycache__", "*.pyc"]),
                timeout=Duration.minutes(1),
                memory_size=128,
                log_group=logs.LogGroup(
                    self, f"{fid}Logs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
                ),
            )

        on_event = function("OnEvent", "index.on_event")
        is_complete = function("IsComplete", "index.is_complete")
        self.on_event, self.is_complete = on_event, is_complete

        cluster_condition = {"ArnEquals": {"ecs:cluster": cluster.cluster_arn}}
        family_revisions = stack.format_arn(
            service="ecs", resource="task-definition", resource_name=f"{task_definition_family}:*"
        )
        on_event.add_to_role_policy(
            iam.PolicyStatement(actions=["ecs:RunTask"], resources=[family_revisions], conditions=cluster_condition)
        )
        acknowledge(
            on_event,
            f"IAM5[Resource::{stack.resolve(family_revisions)}]",
            "any revision of the migration task family (each deploy registers a new one), in this cluster only",
        )
        passed_roles = [task_definition.task_role.role_arn]
        if task_definition.execution_role is not None:
            passed_roles.append(task_definition.execution_role.role_arn)
        on_event.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=passed_roles,
                conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            )
        )
        # Is this Update a rollback? Only this stack's own status.
        on_event.add_to_role_policy(
            iam.PolicyStatement(actions=["cloudformation:DescribeStacks"], resources=[stack.stack_id])
        )
        cluster_tasks = stack.format_arn(service="ecs", resource="task", resource_name=f"{cluster_name}/*")
        is_complete.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ecs:DescribeTasks", "ecs:StopTask"], resources=[cluster_tasks], conditions=cluster_condition
            )
        )
        acknowledge(
            is_complete,
            f"IAM5[Resource::{stack.resolve(cluster_tasks)}]",
            "task ids are only known at run time; limited to this cluster's tasks (and by the ecs:cluster condition)",
        )

        provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=on_event,
            is_complete_handler=is_complete,
            query_interval=Duration.seconds(15),
            total_timeout=Duration.minutes(timeout_minutes),
            log_group=logs.LogGroup(
                self, "ProviderLogs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
            ),
            # Its logging would need logs:* on Resource "*" (vended log delivery); every poll is in the handlers' logs.
            disable_waiter_state_machine_logging=True,
        )
        self.provider = provider

        self.resource = CustomResource(
            self,
            "Run",
            service_token=provider.service_token,
            resource_type="Custom::ExitusMigration",
            properties={
                "Cluster": cluster.cluster_arn,
                "TaskDefinition": task_definition.task_definition_arn,
                "ContainerName": container_name,
                "Subnets": [s.subnet_id for s in subnets],
                "SecurityGroups": [sg.security_group_id for sg in security_groups],
                "LogGroup": log_group.log_group_name,
                "LogStreamPrefix": log_stream_prefix,
                # Two polls short of the provider's limit: the handler stops the task and says why.
                "TimeoutSeconds": str(timeout_minutes * 60 - 30),
            },
        )
        # RunTask only once the task can actually start: its roles and their
        # policies exist (image pull, DB secret) and the subnets route out
        # through NAT (ECR, Secrets Manager, CloudWatch Logs).
        self.resource.node.add_dependency(task_definition)
        for subnet in subnets:
            self.resource.node.add_dependency(subnet.internet_connectivity_established)
