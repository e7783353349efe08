"""Point 1: alarms to an SNS topic, and the ECS deployment rolled back when the release's alarms fire."""

import json

import pytest

from .support import logical, ref

ALARMS = (
    "5xx-rate",
    "p99-latency",
    "unhealthy-hosts",
    "running-tasks-below-minimum",
    "db-cpu",
    "db-free-storage",
    "db-connections",
)


def alarms(synth):
    return {a["Properties"]["AlarmName"]: a["Properties"] for a in synth.resources("AWS::CloudWatch::Alarm").values()}


def topic_id(synth):
    return logical(synth, "AWS::SNS::Topic")


def test_every_alarm_notifies_the_topic_on_alarm_and_recovery(any_stage):
    stage = any_stage.config.stage
    found = alarms(any_stage)
    assert set(found) == {f"exitus-{stage}-{name}" for name in ALARMS}
    topic = ref(topic_id(any_stage))
    for name, alarm in found.items():
        assert alarm["AlarmActions"] == [topic], name
        assert alarm["OKActions"] == [topic], name
        assert len(alarm["AlarmDescription"]) > 20, name


def test_topic_is_encrypted_with_a_key_cloudwatch_may_use_and_refuses_plain_http(any_stage):
    _, topic = any_stage.one("AWS::SNS::Topic")
    key_ref = topic["Properties"]["KmsMasterKeyId"]
    key_id = key_ref["Fn::GetAtt"][0]
    key = any_stage.resources("AWS::KMS::Key")[key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    cloudwatch = [
        s for s in key["KeyPolicy"]["Statement"] if s["Principal"].get("Service") == "cloudwatch.amazonaws.com"
    ]
    assert cloudwatch and {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(cloudwatch[0]["Action"])
    (policy,) = any_stage.resources("AWS::SNS::TopicPolicy").values()
    (deny,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_alarm_email_is_subscribed_when_set(dev, app_role):
    assert not dev.resources("AWS::SNS::Subscription")
    (subscription,) = app_role.resources("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == "oncall@example.com"


def test_5xx_rate_counts_target_and_load_balancer_errors_over_enough_requests(any_stage):
    alarm = alarms(any_stage)[f"exitus-{any_stage.config.stage}-5xx-rate"]
    queries = {q["Id"]: q for q in alarm["Metrics"]}
    top = [q for q in alarm["Metrics"] if q.get("ReturnData", True) is not False]
    assert len(top) == 1
    assert top[0]["Expression"] == "IF(requests >= 20, 100 * errors / requests, 0)"
    assert queries["errors"]["Expression"] == "FILL(target5xx, 0) + FILL(elb5xx, 0)"
    names = {q["Id"]: q["MetricStat"]["Metric"]["MetricName"] for q in alarm["Metrics"] if "MetricStat" in q}
    assert names == {
        "requests": "RequestCount",
        "target5xx": "HTTPCode_Target_5XX_Count",
        "elb5xx": "HTTPCode_ELB_5XX_Count",
    }
    assert alarm["Threshold"] == 5 and alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"


def test_latency_and_host_alarms_watch_the_target_group(any_stage):
    found = alarms(any_stage)
    stage = any_stage.config.stage
    tg = logical(any_stage, "AWS::ElasticLoadBalancingV2::TargetGroup")
    latency = found[f"exitus-{stage}-p99-latency"]
    assert (latency["MetricName"], latency["ExtendedStatistic"], latency["Threshold"]) == (
        "TargetResponseTime",
        "p99",
        2,
    )
    unhealthy = found[f"exitus-{stage}-unhealthy-hosts"]
    assert unhealthy["MetricName"] == "UnHealthyHostCount" and unhealthy["Threshold"] == 1
    for alarm in (latency, unhealthy):
        dims = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
        assert tg in json.dumps(dims["TargetGroup"])


def test_running_tasks_below_the_autoscaling_minimum(dev, prod):
    for synth, minimum in ((dev, 1), (prod, 2)):
        alarm = alarms(synth)[f"exitus-{synth.config.stage}-running-tasks-below-minimum"]
        assert (alarm["Namespace"], alarm["MetricName"]) == ("ECS/ContainerInsights", "RunningTaskCount")
        assert alarm["ComparisonOperator"] == "LessThanThreshold" and alarm["Threshold"] == minimum
        assert alarm["TreatMissingData"] == "breaching", "no data from the service means no tasks"
        dims = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
        assert dims["ClusterName"] == f"exitus-{synth.config.stage}"
        assert dims["ServiceName"] == {"Fn::GetAtt": [logical(synth, "AWS::ECS::Service"), "Name"]}
        _, target = synth.one("AWS::ApplicationAutoScaling::ScalableTarget")
        assert target["Properties"]["MinCapacity"] == minimum


@pytest.mark.parametrize(
    "name, metric, operator",
    [
        ("db-cpu", "CPUUtilization", "GreaterThanThreshold"),
        ("db-free-storage", "FreeStorageSpace", "LessThanThreshold"),
        ("db-connections", "DatabaseConnections", "GreaterThanThreshold"),
    ],
)
def test_database_alarms(any_stage, name, metric, operator):
    alarm = alarms(any_stage)[f"exitus-{any_stage.config.stage}-{name}"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["ComparisonOperator"]) == ("AWS/RDS", metric, operator)
    assert alarm["Dimensions"] == [
        {"Name": "DBInstanceIdentifier", "Value": ref(logical(any_stage, "AWS::RDS::DBInstance"))}
    ]


def test_connection_threshold_follows_the_instance_size(dev, prod):
    # max_connections is about memory / 9.5 MB: ~100 on a micro (1 GiB), ~400 on a medium (4 GiB).
    assert alarms(dev)["exitus-dev-db-connections"]["Threshold"] < 100
    assert 100 < alarms(prod)["exitus-prod-db-connections"]["Threshold"] < 400


def test_a_deployment_is_rolled_back_when_the_release_alarms_fire(any_stage):
    _, service = any_stage.one("AWS::ECS::Service")
    config = service["Properties"]["DeploymentConfiguration"]
    names = {a["Properties"]["AlarmName"]: k for k, a in any_stage.resources("AWS::CloudWatch::Alarm").items()}
    stage = any_stage.config.stage
    release_alarms = [names[f"exitus-{stage}-5xx-rate"], names[f"exitus-{stage}-p99-latency"]]
    assert config["Alarms"] == {"AlarmNames": [ref(a) for a in release_alarms], "Enable": True, "Rollback": True}
    assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    # The alarms exist before the service refers to them.
    assert set(release_alarms) <= set(service["DependsOn"])
