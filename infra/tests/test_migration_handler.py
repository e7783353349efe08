"""The migration custom resource handler, with fake ECS and CloudFormation clients (AWS is the one thing mocked)."""

import datetime

import pytest
from exitus_infra.migration_handler import index

TASK_ARN = "arn:aws:ecs:ap-southeast-2:123456789012:task/exitus-dev/0123456789abcdef"
STACK_ID = "arn:aws:cloudformation:ap-southeast-2:123456789012:stack/exitus-dev/1b2c3d4e"
PROPS = {
    "Cluster": "arn:aws:ecs:ap-southeast-2:123456789012:cluster/exitus-dev",
    "TaskDefinition": "arn:aws:ecs:ap-southeast-2:123456789012:task-definition/exitus-dev-migrate:7",
    "ContainerName": "migrate",
    "Subnets": ["subnet-a", "subnet-b"],
    "SecurityGroups": ["sg-app"],
    "LogGroup": "/ecs/exitus-dev",
    "LogStreamPrefix": "migrate",
    "TimeoutSeconds": "1770",  # CloudFormation passes every property as a string
}
NOW = datetime.datetime(2026, 5, 1, 12, 0, tzinfo=datetime.UTC)


class ClientError(Exception):
    """Shaped like botocore's: the handler reads `response["Error"]["Code"]`."""

    def __init__(self, code):
        super().__init__(code)
        self.response = {"Error": {"Code": code, "Message": code}}


class FakeECS:
    def __init__(self, run=None, describe=None, stop_fails=False):
        self.calls = []
        self._run = run or {"tasks": [{"taskArn": TASK_ARN}], "failures": []}
        self._describe = describe
        self._stop_fails = stop_fails

    def run_task(self, **kwargs):
        self.calls.append(("run_task", kwargs))
        return self._run

    def describe_tasks(self, **kwargs):
        self.calls.append(("describe_tasks", kwargs))
        if isinstance(self._describe, Exception):
            raise self._describe
        return self._describe

    def stop_task(self, **kwargs):
        self.calls.append(("stop_task", kwargs))
        if self._stop_fails:
            raise ClientError("InvalidParameterException")
        return {"task": {"taskArn": kwargs["task"]}}

    def names(self):
        return [name for name, _ in self.calls]


class FakeCloudFormation:
    def __init__(self, status):
        self.status = status
        self.calls = []

    def describe_stacks(self, **kwargs):
        self.calls.append(kwargs)
        return {"Stacks": [{"StackId": STACK_ID, "StackStatus": self.status}]}


@pytest.fixture
def aws(monkeypatch):
    def install(stack_status="UPDATE_IN_PROGRESS", **kwargs):
        ecs = FakeECS(**kwargs)
        cloudformation = FakeCloudFormation(stack_status)
        monkeypatch.setattr(index, "_ecs", lambda: ecs)
        monkeypatch.setattr(index, "_cloudformation", lambda: cloudformation)
        monkeypatch.setattr(index, "_now", lambda: NOW)
        return ecs, cloudformation

    return install


def _event(request_type="Update", **extra):
    return {
        "RequestType": request_type,
        "StackId": STACK_ID,
        "ResourceProperties": PROPS,
        "PhysicalResourceId": TASK_ARN,
        **extra,
    }


# ------------------------------------------------------------------------------------------------------- on_event


@pytest.mark.parametrize(
    "request_type, stack_status", [("Create", "CREATE_IN_PROGRESS"), ("Update", "UPDATE_IN_PROGRESS")]
)
def test_on_event_starts_the_task(aws, request_type, stack_status):
    ecs, _ = aws(stack_status=stack_status)
    result = index.on_event(_event(request_type, PhysicalResourceId="old"))
    assert result == {"PhysicalResourceId": TASK_ARN, "Data": {"TaskArn": TASK_ARN}}
    ((name, kwargs),) = ecs.calls
    assert name == "run_task"
    assert kwargs["cluster"] == PROPS["Cluster"]
    assert kwargs["taskDefinition"] == PROPS["TaskDefinition"]
    assert kwargs["launchType"] == "FARGATE"
    assert kwargs["networkConfiguration"]["awsvpcConfiguration"] == {
        "subnets": ["subnet-a", "subnet-b"],
        "securityGroups": ["sg-app"],
        "assignPublicIp": "DISABLED",
    }


def test_an_update_asks_cloudformation_about_this_stack_only(aws):
    _, cloudformation = aws()
    index.on_event(_event())
    assert cloudformation.calls == [{"StackName": STACK_ID}]


@pytest.mark.parametrize("stack_status", ["UPDATE_ROLLBACK_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"])
def test_rollback_update_runs_nothing_and_completes_at_once(aws, stack_status):
    ecs, _ = aws(stack_status=stack_status)
    result = index.on_event(_event())
    # Same physical id: CloudFormation sees no replacement, and no task is started with the old image.
    assert result["PhysicalResourceId"] == TASK_ARN
    assert ecs.calls == []
    # The provider framework hands on_event's result to is_complete.
    assert index.is_complete({**_event(), **result}) == {"IsComplete": True}
    assert ecs.calls == []


def test_delete_is_a_no_op(aws):
    ecs, cloudformation = aws(stack_status="UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    assert index.on_event(_event("Delete")) == {"PhysicalResourceId": TASK_ARN}
    assert index.is_complete(_event("Delete")) == {"IsComplete": True}
    assert ecs.calls == [] and cloudformation.calls == []


def test_on_event_fails_when_the_task_cannot_start(aws):
    aws(run={"tasks": [], "failures": [{"reason": "RESOURCE:ENI"}]})
    with pytest.raises(RuntimeError, match="RESOURCE:ENI"):
        index.on_event(_event("Create"))


def test_unknown_request_type(aws):
    aws()
    with pytest.raises(ValueError, match="Replace"):
        index.on_event(_event("Replace"))


# ---------------------------------------------------------------------------------------------------- is_complete


def _task(status, created=NOW, **fields):
    return {"tasks": [{"taskArn": TASK_ARN, "lastStatus": status, "createdAt": created, **fields}]}


def test_is_complete_waits_while_running(aws):
    ecs, _ = aws(describe=_task("RUNNING", containers=[]))
    assert index.is_complete(_event()) == {"IsComplete": False}
    assert ecs.names() == ["describe_tasks"]


def test_is_complete_succeeds_on_exit_zero(aws):
    ecs, _ = aws(describe=_task("STOPPED", containers=[{"name": "migrate", "exitCode": 0}]))
    assert index.is_complete(_event())["IsComplete"] is True
    assert ecs.calls == [("describe_tasks", {"cluster": PROPS["Cluster"], "tasks": [TASK_ARN]})]


@pytest.mark.parametrize(
    "fields",
    [
        {"containers": [{"name": "migrate", "exitCode": 1}]},
        {"stoppedReason": "CannotPullContainerError", "containers": [{"name": "migrate"}]},
    ],
)
def test_is_complete_fails_the_deploy_on_error(aws, fields):
    ecs, _ = aws(describe=_task("STOPPED", **fields))
    with pytest.raises(RuntimeError, match="migrate/migrate/0123456789abcdef"):
        index.is_complete(_event())
    assert "stop_task" not in ecs.names(), "a stopped task needs no stopping"


def test_is_complete_fails_when_task_vanished(aws):
    aws(describe={"tasks": [], "failures": [{"reason": "MISSING"}]})
    with pytest.raises(RuntimeError, match="not found"):
        index.is_complete(_event())


def test_a_task_past_the_timeout_is_stopped_and_the_deploy_fails(aws):
    started = NOW - datetime.timedelta(seconds=1771)
    ecs, _ = aws(describe=_task("RUNNING", created=started, containers=[]))
    with pytest.raises(RuntimeError, match="longer than 1770 s and was stopped"):
        index.is_complete(_event())
    assert ecs.names() == ["describe_tasks", "stop_task"]
    stop = ecs.calls[1][1]
    assert (stop["cluster"], stop["task"]) == (PROPS["Cluster"], TASK_ARN)
    assert "1770" in stop["reason"] and len(stop["reason"]) <= 255


def test_a_task_just_inside_the_timeout_keeps_running(aws):
    started = NOW - datetime.timedelta(seconds=1769)
    ecs, _ = aws(describe=_task("RUNNING", created=started, containers=[]))
    assert index.is_complete(_event()) == {"IsComplete": False}
    assert "stop_task" not in ecs.names()


def test_a_failing_stop_does_not_hide_the_timeout(aws):
    started = NOW - datetime.timedelta(hours=1)
    aws(describe=_task("PENDING", created=started), stop_fails=True)
    with pytest.raises(RuntimeError, match="was stopped"):
        index.is_complete(_event())


@pytest.mark.parametrize("code", ["ThrottlingException", "ServerException"])
def test_throttled_polls_poll_again_and_leave_the_task_alone(aws, code):
    ecs, _ = aws(describe=ClientError(code))
    assert index.is_complete(_event()) == {"IsComplete": False}
    assert ecs.names() == ["describe_tasks"]


def test_a_polling_failure_stops_the_task_before_failing_the_deploy(aws):
    ecs, _ = aws(describe=ClientError("AccessDeniedException"))
    with pytest.raises(ClientError):
        index.is_complete(_event())
    assert ecs.names() == ["describe_tasks", "stop_task"]
    assert ecs.calls[1][1]["task"] == TASK_ARN
