"""A WAFv2 web ACL in front of the load balancer: AWS managed rule groups and a per-IP rate limit, with its logs."""

from __future__ import annotations

import json

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

# (priority, managed rule group, rules inside it that only count). Cheap reputation checks first.
MANAGED_RULE_GROUPS = (
    (10, "AWSManagedRulesAmazonIpReputationList", ()),
    (20, "AWSManagedRulesKnownBadInputsRuleSet", ()),
    # SizeRestrictions_BODY blocks bodies over 8 KB; exitus limits bodies itself (MAX_BODY_BYTES, a 413
    # problem+json), and a long issue description is not an attack.
    (30, "AWSManagedRulesCommonRuleSet", ("SizeRestrictions_BODY",)),
)
RATE_LIMIT_PRIORITY = 0
TOO_MANY_REQUESTS_BODY = "too-many-requests"


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


class WebAcl(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        load_balancer: elbv2.IApplicationLoadBalancer,
        rate_limit: int,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        rules = [
            wafv2.CfnWebACL.RuleProperty(
                name="rate-limit-per-ip",
                priority=RATE_LIMIT_PRIORITY,
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=rate_limit, aggregate_key_type="IP", evaluation_window_sec=300
                    )
                ),
                action=wafv2.CfnWebACL.RuleActionProperty(
                    block=wafv2.CfnWebACL.BlockActionProperty(
                        custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                            response_code=429,
                            custom_response_body_key=TOO_MANY_REQUESTS_BODY,
                            response_headers=[wafv2.CfnWebACL.CustomHTTPHeaderProperty(name="Retry-After", value="60")],
                        )
                    )
                ),
                visibility_config=_visibility(f"{prefix}-rate-limit-per-ip"),
            )
        ]
        for priority, group, counted in MANAGED_RULE_GROUPS:
            rules.append(
                wafv2.CfnWebACL.RuleProperty(
                    name=group,
                    priority=priority,
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS",
                            name=group,
                            rule_action_overrides=[
                                wafv2.CfnWebACL.RuleActionOverrideProperty(
                                    name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                                )
                                for rule in counted
                            ]
                            or None,
                        )
                    ),
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    visibility_config=_visibility(f"{prefix}-{group}"),
                )
            )

        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=prefix,
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=rules,
            # WAF cannot send application/problem+json; the body is RFC 9457 all the same.
            custom_response_bodies={
                TOO_MANY_REQUESTS_BODY: wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON",
                    content=json.dumps(
                        {
                            "type": "about:blank",
                            "title": "Too Many Requests",
                            "status": 429,
                            "detail": "Too many requests from this address; retry later.",
                        }
                    ),
                )
            },
            visibility_config=_visibility(prefix),
        )
        wafv2.CfnWebACLAssociation(
            self, "Association", resource_arn=load_balancer.load_balancer_arn, web_acl_arn=self.web_acl.attr_arn
        )

        # WAF only logs to groups named aws-waf-logs-*.
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"aws-waf-logs-{prefix}",
            retention=log_retention,
            removal_policy=removal_policy,
        )
        stack = Stack.of(self)
        logging = wafv2.CfnLoggingConfiguration(
            self,
            "Logging",
            resource_arn=self.web_acl.attr_arn,
            log_destination_configs=[
                stack.format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name=self.log_group.log_group_name,
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
            # Bearer tokens stay out of the logs.
            redacted_fields=[
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(
                    single_header={"Name": "authorization"},
                ),
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": "cookie"}),
            ],
        )
        logging.node.add_dependency(self.log_group)
