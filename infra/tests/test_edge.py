"""Points 2 and 3: the WAF in front of the load balancer, and the trails (ALB access logs, VPC flow logs)."""

import json

from .support import logical, make_config, ref


def web_acl(synth):
    return synth.one("AWS::WAFv2::WebACL")


def test_web_acl_runs_the_managed_rule_groups_and_a_per_ip_rate_limit(any_stage):
    _, acl = web_acl(any_stage)
    props = acl["Properties"]
    assert props["Scope"] == "REGIONAL" and props["DefaultAction"] == {"Allow": {}}
    rules = {r["Name"]: r for r in props["Rules"]}
    managed = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]: r
        for r in props["Rules"]
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert set(managed) == {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    }
    for rule in managed.values():
        assert rule["OverrideAction"] == {"None": {}}, "a managed group in count mode would block nothing"
        assert rule["Statement"]["ManagedRuleGroupStatement"]["VendorName"] == "AWS"
    # Only the 8 KB body rule counts instead of blocking: exitus limits bodies itself (413).
    overrides = managed["AWSManagedRulesCommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"]
    assert overrides == [{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]

    rate = rules["rate-limit-per-ip"]
    assert rate["Statement"]["RateBasedStatement"] == {
        "Limit": 2000,
        "AggregateKeyType": "IP",
        "EvaluationWindowSec": 300,
    }
    block = rate["Action"]["Block"]["CustomResponse"]
    assert block["ResponseCode"] == 429
    body = props["CustomResponseBodies"][block["CustomResponseBodyKey"]]
    problem = json.loads(body["Content"])
    assert problem["status"] == 429 and problem["title"] == "Too Many Requests"
    # Rate limiting runs before everything else.
    assert rate["Priority"] < min(r["Priority"] for r in managed.values())
    assert len({r["Priority"] for r in props["Rules"]}) == len(props["Rules"])
    for rule in props["Rules"]:
        assert rule["VisibilityConfig"]["CloudWatchMetricsEnabled"] is True


def test_rate_limit_is_configurable(tmp_path):
    from .support import Synth

    synth = Synth(make_config(STAGE="rate", WAF_RATE_LIMIT="300"), tmp_path)
    _, acl = synth.one("AWS::WAFv2::WebACL")
    (rate,) = [r for r in acl["Properties"]["Rules"] if "RateBasedStatement" in r["Statement"]]
    assert rate["Statement"]["RateBasedStatement"]["Limit"] == 300


def test_web_acl_is_on_the_load_balancer(any_stage):
    acl_id, _ = web_acl(any_stage)
    _, association = any_stage.one("AWS::WAFv2::WebACLAssociation")
    assert association["Properties"] == {
        "ResourceArn": ref(logical(any_stage, "AWS::ElasticLoadBalancingV2::LoadBalancer")),
        "WebACLArn": {"Fn::GetAtt": [acl_id, "Arn"]},
    }


def test_waf_logs_are_kept_without_credentials(dev, prod):
    for synth, days in ((dev, 7), (prod, 30)):
        name = f"aws-waf-logs-exitus-{synth.config.stage}"
        group_id, group = synth.one("AWS::Logs::LogGroup", lambda r, n=name: r["Properties"].get("LogGroupName") == n)
        assert group["Properties"]["RetentionInDays"] == days
        _, logging = synth.one("AWS::WAFv2::LoggingConfiguration")
        props = logging["Properties"]
        assert props["ResourceArn"] == {"Fn::GetAtt": [web_acl(synth)[0], "Arn"]}
        (destination,) = props["LogDestinationConfigs"]
        assert destination == {"Fn::Join": ["", ["arn:aws:logs:ap-southeast-2:123456789012:log-group:", ref(group_id)]]}
        redacted = {f["SingleHeader"]["Name"] for f in props["RedactedFields"]}
        assert {"authorization", "cookie"} <= redacted


# ----------------------------------------------------------------------------------------------------------- trails


def trail_bucket(synth):
    return synth.one("AWS::S3::Bucket")


def test_trail_bucket_is_encrypted_private_ssl_only_and_expires(dev, prod):
    for synth, days in ((dev, 30), (prod, 365)):
        _, bucket = trail_bucket(synth)
        props = bucket["Properties"]
        # ALB access logs only support SSE-S3.
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        (rule,) = props["LifecycleConfiguration"]["Rules"]
        assert rule["Status"] == "Enabled" and rule["ExpirationInDays"] == days
        assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
        assert bucket["DeletionPolicy"] == "Retain"
        (policy,) = synth.resources("AWS::S3::BucketPolicy").values()
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        (deny,) = [s for s in statements if s["Effect"] == "Deny"]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} and deny["Action"] == "s3:*"


def test_load_balancer_writes_access_logs_to_the_trail_bucket(any_stage):
    bucket_id, _ = trail_bucket(any_stage)
    _, lb = any_stage.one("AWS::ElasticLoadBalancingV2::LoadBalancer")
    attributes = {a["Key"]: a["Value"] for a in lb["Properties"]["LoadBalancerAttributes"]}
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["access_logs.s3.bucket"] == ref(bucket_id)
    assert attributes["access_logs.s3.prefix"] == "alb"
    (policy,) = any_stage.resources("AWS::S3::BucketPolicy").values()
    writes = [
        json.dumps(s["Resource"])
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow" and s["Action"] == "s3:PutObject"
    ]
    assert any("/alb/AWSLogs/123456789012/*" in w for w in writes)


def test_vpc_flow_logs_go_to_the_trail_bucket(any_stage):
    bucket_id, _ = trail_bucket(any_stage)
    _, flow_log = any_stage.one("AWS::EC2::FlowLog")
    props = flow_log["Properties"]
    assert (props["ResourceType"], props["ResourceId"]) == ("VPC", ref(logical(any_stage, "AWS::EC2::VPC")))
    assert props["TrafficType"] == "ALL"
    assert props["LogDestinationType"] == "s3"
    assert props["LogDestination"] == {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/vpc-flow-logs/"]]}
