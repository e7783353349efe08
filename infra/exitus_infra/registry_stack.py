"""ECR repository for the exitus image.

It lives in its own stack so that it can be deployed (and an image pushed)
before the service stack, which refers to it by name only: no cross-stack
exports to get stuck on.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ecr as ecr
from constructs import Construct

from .config import Config


class RegistryStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: Config, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)

        self.repository = ecr.Repository(
            self,
            "Repository",
            repository_name=config.repository_name,
            image_scan_on_push=True,
            # Tags are commit SHAs; never let a deploy silently pick up a re-pushed tag.
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            encryption=ecr.RepositoryEncryption.AES_256,
            removal_policy=RemovalPolicy.RETAIN if config.is_prod else RemovalPolicy.DESTROY,
            empty_on_delete=not config.is_prod,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    description="drop untagged layers after a week",
                    tag_status=ecr.TagStatus.UNTAGGED,
                    max_image_age=Duration.days(7),
                    rule_priority=1,
                ),
                ecr.LifecycleRule(
                    description="keep the newest 50 images",
                    tag_status=ecr.TagStatus.ANY,
                    max_image_count=50,
                    rule_priority=2,
                ),
            ],
        )

        CfnOutput(self, "RepositoryUri", value=self.repository.repository_uri)
