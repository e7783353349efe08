"""The migration custom resource handler, with a fake ECS client (no AWS)."""

import pytest
from exitus_infra.migration_handler import index

TASK_ARN = "arn:aws:ecs:ap-southeast-2:123456789012:task/exitus-dev/0123456789abcdef"
PROPS = {
    "Cluster": "arn:aws:ecs:ap-southeast-2:123456789012:cluster/exitus-dev",
    "TaskDefinition": "arn:aws:ecs:ap-southeast-2:123456789012:task-definition/exitus-dev-migrate:7",
    "ContainerName": "migrate",
    "Subnets": ["subnet-a", "subnet-b"],
    "SecurityGroups": ["sg-app"],
    "LogGroup": "/ecs/exitus-dev",
    "LogStreamPrefix": "migrate",
}


class FakeECS:
    def __init__(self, run=None, describe=None):
        self.calls = []
        self._run = run or {"tasks": [{"taskArn": TASK_ARN}], "failures": []}
        self._describe = describe

    def run_task(self, **kwargs):
        self.calls.append(("run_task", kwargs))
        return self._run

    def describe_tasks(self, **kwargs):
        self.calls.append(("describe_tasks", kwargs))
        return self._describe


@pytest.fixture
def ecs(monkeypatch):
    def install(**kwargs):
        fake = FakeECS(**kwargs)
        monkeypatch.setattr(index, "_ecs", lambda: fake)
        return fake

    return install


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_on_event_starts_the_task(ecs, request_type):
    fake = ecs()
    result = index.on_event({"RequestType": request_type, "ResourceProperties": PROPS, "PhysicalResourceId": "old"})
    assert result == {"PhysicalResourceId": TASK_ARN, "Data": {"TaskArn": TASK_ARN}}
    ((name, kwargs),) = fake.calls
    assert name == "run_task"
    assert kwargs["cluster"] == PROPS["Cluster"]
    assert kwargs["taskDefinition"] == PROPS["TaskDefinition"]
    assert kwargs["launchType"] == "FARGATE"
    assert kwargs["networkConfiguration"]["awsvpcConfiguration"] == {
        "subnets": ["subnet-a", "subnet-b"],
        "securityGroups": ["sg-app"],
        "assignPublicIp": "DISABLED",
    }


def test_on_event_delete_is_a_no_op(ecs):
    fake = ecs()
    assert index.on_event({"RequestType": "Delete", "ResourceProperties": PROPS, "PhysicalResourceId": TASK_ARN}) == {
        "PhysicalResourceId": TASK_ARN
    }
    assert index.is_complete(
        {"RequestType": "Delete", "ResourceProperties": PROPS, "PhysicalResourceId": TASK_ARN}
    ) == {"IsComplete": True}
    assert fake.calls == []


def test_on_event_fails_when_the_task_cannot_start(ecs):
    ecs(run={"tasks": [], "failures": [{"reason": "RESOURCE:ENI"}]})
    with pytest.raises(RuntimeError, match="RESOURCE:ENI"):
        index.on_event({"RequestType": "Create", "ResourceProperties": PROPS})


def _event():
    return {"RequestType": "Update", "ResourceProperties": PROPS, "PhysicalResourceId": TASK_ARN}


def test_is_complete_waits_while_running(ecs):
    ecs(describe={"tasks": [{"taskArn": TASK_ARN, "lastStatus": "RUNNING", "containers": []}]})
    assert index.is_complete(_event()) == {"IsComplete": False}


def test_is_complete_succeeds_on_exit_zero(ecs):
    fake = ecs(describe={"tasks": [{"lastStatus": "STOPPED", "containers": [{"name": "migrate", "exitCode": 0}]}]})
    assert index.is_complete(_event())["IsComplete"] is True
    assert fake.calls == [("describe_tasks", {"cluster": PROPS["Cluster"], "tasks": [TASK_ARN]})]


@pytest.mark.parametrize(
    "task",
    [
        {"lastStatus": "STOPPED", "containers": [{"name": "migrate", "exitCode": 1}]},
        {"lastStatus": "STOPPED", "stoppedReason": "CannotPullContainerError", "containers": [{"name": "migrate"}]},
    ],
)
def test_is_complete_fails_the_deploy_on_error(ecs, task):
    ecs(describe={"tasks": [task]})
    with pytest.raises(RuntimeError, match="migrate/migrate/0123456789abcdef"):
        index.is_complete(_event())


def test_is_complete_fails_when_task_vanished(ecs):
    ecs(describe={"tasks": [], "failures": [{"reason": "MISSING"}]})
    with pytest.raises(RuntimeError, match="not found"):
        index.is_complete(_event())
