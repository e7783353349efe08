"""Point 7: the tasks' hardening, checked against the Dockerfile the image is built from, and point 4's database
timeouts for migrations."""

import json
import re
import shlex
from pathlib import Path

import pytest

from .support import container, group_id, logical, security_group_id

DOCKERFILE = Path(__file__).resolve().parents[2] / "Dockerfile"
TMP = "/tmp"  # noqa: S108 - the container's path, not a temporary file here


def runtime_stage():
    """The Dockerfile's last stage, as (keyword, arguments) pairs, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    stages, current = [], None
    for line in lines:
        keyword, _, rest = line.partition(" ")
        if keyword.upper() == "FROM":
            current = []
            stages.append(current)
        elif current is not None:
            current.append((keyword.upper(), rest))
    return stages[0], stages[-1]


@pytest.mark.parametrize("family", ["api", "migrate"])
def test_read_only_root_filesystem_with_a_writable_tmp_volume(any_stage, family):
    task, definition = container(any_stage, family)
    assert definition["ReadonlyRootFilesystem"] is True
    (mount,) = definition["MountPoints"]
    assert mount["ContainerPath"] == TMP and mount["ReadOnly"] is False
    (volume,) = task["Properties"]["Volumes"]
    # A bind mount without a host path: task-local ephemeral storage.
    assert volume == {"Name": mount["SourceVolume"]}
    # ECS copies the image's /tmp (world-writable) into the volume only if the image declares it a VOLUME.
    _, runtime = runtime_stage()
    volumes = [json.loads(rest) for keyword, rest in runtime if keyword == "VOLUME"]
    assert [TMP] in volumes


@pytest.mark.parametrize("family", ["api", "migrate"])
def test_tasks_run_as_the_images_unprivileged_user(any_stage, family):
    _, definition = container(any_stage, family)
    _, runtime = runtime_stage()
    (user,) = [rest for keyword, rest in runtime if keyword == "USER"]
    assert definition["User"] == user == "10001:10001"


@pytest.mark.parametrize("family", ["api", "migrate"])
def test_database_connections_verify_the_server_certificate_with_the_bundle_in_the_image(any_stage, family):
    _, definition = container(any_stage, family)
    env = {e["Name"]: e["Value"] for e in definition["Environment"]}
    assert env["PGSSLMODE"] == "verify-full"
    builder, runtime = runtime_stage()
    (added,) = [shlex.split(rest) for keyword, rest in builder if keyword == "ADD"]
    source, destination = added[-2:]
    assert source.startswith("https://truststore.pki.rds.amazonaws.com/") and source.endswith(".pem")
    assert "--chmod=644" in added, "ADD from a URL is mode 600 by default: unreadable for uid 10001"
    assert env["PGSSLROOTCERT"] == destination
    # It reaches the runtime image through the stage's one COPY (the builder's virtualenv).
    (copy,) = [shlex.split(rest) for keyword, rest in runtime if keyword == "COPY"]
    venv = copy[-1]
    assert destination.startswith(venv + "/")


def test_tasks_may_only_reach_https_and_the_database(any_stage):
    app_sg = security_group_id(any_stage, "exitus tasks")
    db_sg = security_group_id(any_stage, "exitus PostgreSQL")
    _, sg = any_stage.one(
        "AWS::EC2::SecurityGroup", lambda r: r["Properties"]["GroupDescription"].startswith("exitus tasks")
    )
    inline = sg["Properties"]["SecurityGroupEgress"]
    assert [(e["CidrIp"], e["IpProtocol"], e["FromPort"], e["ToPort"]) for e in inline] == [
        ("0.0.0.0/0", "tcp", 443, 443)
    ]
    separate = [
        e["Properties"]
        for e in any_stage.resources("AWS::EC2::SecurityGroupEgress").values()
        if e["Properties"]["GroupId"] == group_id(app_sg)
    ]
    assert [(e["DestinationSecurityGroupId"], e["FromPort"], e["ToPort"]) for e in separate] == [
        (group_id(db_sg), 5432, 5432)
    ]


def test_metrics_have_their_own_port_that_nothing_routes_to(any_stage):
    _, api = container(any_stage, "api")
    env = {e["Name"]: e["Value"] for e in api["Environment"]}
    metrics_port = int(env["METRICS_ADDR"].rpartition(":")[2])
    api_port = int(env["ADDR"].rpartition(":")[2])
    assert metrics_port != api_port
    # ECS registers each task in the target group on this container port alone.
    _, service = any_stage.one("AWS::ECS::Service")
    assert [lb["ContainerPort"] for lb in service["Properties"]["LoadBalancers"]] == [api_port]
    for rule in any_stage.resources("AWS::EC2::SecurityGroupIngress").values():
        assert rule["Properties"]["FromPort"] != metrics_port, "nothing is let in on the metrics port"


def test_port_80_only_redirects(any_stage):
    listeners = any_stage.resources("AWS::ElasticLoadBalancingV2::Listener")
    (http_id,) = [k for k, v in listeners.items() if v["Properties"]["Port"] == 80]
    (action,) = listeners[http_id]["Properties"]["DefaultActions"]
    assert action["Type"] == "redirect" and action["RedirectConfig"]["Protocol"] == "HTTPS"
    for rule in any_stage.resources("AWS::ElasticLoadBalancingV2::ListenerRule").values():
        assert rule["Properties"]["ListenerArn"] != {"Ref": http_id}, "no rule may forward plain HTTP"


# ------------------------------------------------------------------------------- point 4: migration timeouts


def _pgoptions(definition):
    env = {e["Name"]: e["Value"] for e in definition["Environment"]}
    words = shlex.split(env.get("PGOPTIONS", ""))
    assert words[::2] == ["-c"] * (len(words) // 2), "libpq options are -c name=value pairs"
    return dict(word.split("=", 1) for word in words[1::2])


def _seconds(value):
    number, unit = re.fullmatch(r"(\d+)(ms|s|min|h)", value).groups()
    return int(number) * {"ms": 0.001, "s": 1, "min": 60, "h": 3600}[unit]


def test_every_migration_runs_with_a_lock_timeout_and_a_statement_timeout(any_stage):
    _, migrate = container(any_stage, "migrate")
    options = _pgoptions(migrate)
    assert _seconds(options["lock_timeout"]) <= 10, "a DDL lock queue stalls every tenant's queries behind it"
    statement_timeout = _seconds(options["statement_timeout"])
    # Below the handler's own deadline, so PostgreSQL ends a runaway statement before the task is stopped.
    _, resource = any_stage.one("Custom::ExitusMigration")
    assert statement_timeout < int(resource["Properties"]["TimeoutSeconds"])
    # The advisory-lock connection idles in a transaction during migrations: the API's limit must not kill it.
    assert options["idle_in_transaction_session_timeout"] == "0"
    # The service has its own statement timeout (exitus STATEMENT_TIMEOUT_MS) and never these.
    _, api = container(any_stage, "api")
    assert "PGOPTIONS" not in {e["Name"] for e in api["Environment"]}


def test_handler_deadline_is_inside_the_providers_polling_budget(any_stage):
    _, resource = any_stage.one("Custom::ExitusMigration")
    _, machine = any_stage.one("AWS::StepFunctions::StateMachine")
    definition = "".join(
        part for part in machine["Properties"]["DefinitionString"]["Fn::Join"][1] if isinstance(part, str)
    )
    interval = int(re.search(r'"IntervalSeconds":(\d+)', definition).group(1))
    attempts = int(re.search(r'"MaxAttempts":(\d+)', definition).group(1))
    # The handler must still be called after its deadline to stop the task: at least one poll of slack.
    assert int(resource["Properties"]["TimeoutSeconds"]) + interval < interval * attempts


def test_handler_may_check_this_stack_and_stop_only_this_clusters_tasks(any_stage):
    statements = {}
    for policy in any_stage.resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            for action in [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]:
                statements.setdefault(action, []).append(statement)
    (describe_stacks,) = statements["cloudformation:DescribeStacks"]
    assert describe_stacks["Resource"] == {"Ref": "AWS::StackId"}
    (stop,) = statements["ecs:StopTask"]
    assert stop["Resource"] == f"arn:aws:ecs:ap-southeast-2:123456789012:task/exitus-{any_stage.config.stage}/*"
    assert stop["Condition"] == {
        "ArnEquals": {"ecs:cluster": {"Fn::GetAtt": [logical(any_stage, "AWS::ECS::Cluster"), "Arn"]}}
    }
