"""Custom resource that runs the database migration task and waits for it.

Used with the CDK provider framework (aws_cdk.custom_resources.Provider):

* ``on_event`` starts ``exitus migrate up`` as a one-off Fargate task on
  Create/Update and returns its task ARN as the physical resource id.
* ``is_complete`` is polled until the task has stopped. Exit code 0 completes
  the resource; anything else raises, which fails the CloudFormation
  deployment before the ECS service is updated (the service depends on this
  resource), so CloudFormation rolls the stack back.

Rollback is a no-op: an Update that CloudFormation sends while the stack is
rolling back (the old properties coming back) starts nothing, and Delete
never does anything. Migrations are never rolled back (or re-applied) by
infrastructure.

A task never outlives the deployment that started it: past ``TimeoutSeconds``
(set below the provider's total timeout, so this code still runs), or when
polling fails for a reason other than throttling, ``is_complete`` stops the
task before failing the resource.
"""

from __future__ import annotations

import datetime
import json
import logging

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

STARTED_BY = "cfn-migration"
# Stack states in which an Update carries the previous properties back.
ROLLBACK_STATES = frozenset({"UPDATE_ROLLBACK_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"})
# Polling errors worth another poll rather than a failed deployment.
TRANSIENT_ERRORS = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException", "ServerException"})
SKIPPED = "rollback"


def _ecs():
    import boto3  # provided by the Lambda Python runtime

    return boto3.client("ecs")


def _cloudformation():
    import boto3

    return boto3.client("cloudformation")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _props(event):
    return event["ResourceProperties"]


def _stack_rolling_back(stack_id: str) -> bool:
    (stack,) = _cloudformation().describe_stacks(StackName=stack_id)["Stacks"]
    return stack["StackStatus"] in ROLLBACK_STATES


def on_event(event, _context=None):
    LOG.info("event: %s", json.dumps({k: v for k, v in event.items() if k != "ResponseURL"}))
    request = event["RequestType"]
    if request == "Delete":
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    if request not in ("Create", "Update"):
        raise ValueError(f"unknown request type {request!r}")
    if request == "Update" and _stack_rolling_back(event["StackId"]):
        # The previous image's `migrate up` against the newer schema would at best do nothing.
        LOG.info("stack is rolling back: not running migrations")
        return {"PhysicalResourceId": event["PhysicalResourceId"], "Data": {"Skipped": SKIPPED}}

    props = _props(event)
    response = _ecs().run_task(
        cluster=props["Cluster"],
        taskDefinition=props["TaskDefinition"],
        launchType="FARGATE",
        count=1,
        startedBy=STARTED_BY,
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": list(props["Subnets"]),
                "securityGroups": list(props["SecurityGroups"]),
                "assignPublicIp": "DISABLED",
            }
        },
    )
    failures = response.get("failures") or []
    tasks = response.get("tasks") or []
    if failures or not tasks:
        raise RuntimeError(f"could not start the migration task: {failures}")
    task_arn = tasks[0]["taskArn"]
    LOG.info("started migration task %s", task_arn)
    return {"PhysicalResourceId": task_arn, "Data": {"TaskArn": task_arn}}


def _stop(ecs, cluster: str, task_arn: str, reason: str) -> None:
    try:
        ecs.stop_task(cluster=cluster, task=task_arn, reason=reason[:255])
        LOG.info("stopped migration task %s: %s", task_arn, reason)
    except Exception:  # the failure being reported matters more than this one
        LOG.exception("could not stop migration task %s", task_arn)


def _error_code(error: Exception) -> str | None:
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code")


def is_complete(event, _context=None):
    if event["RequestType"] == "Delete" or (event.get("Data") or {}).get("Skipped") == SKIPPED:
        return {"IsComplete": True}

    props = _props(event)
    cluster = props["Cluster"]
    task_arn = event["PhysicalResourceId"]
    ecs = _ecs()
    try:
        response = ecs.describe_tasks(cluster=cluster, tasks=[task_arn])
    except Exception as error:
        if _error_code(error) in TRANSIENT_ERRORS:
            LOG.warning("describe_tasks throttled, polling again: %s", error)
            return {"IsComplete": False}
        _stop(ecs, cluster, task_arn, f"deployment failed while waiting: {error}")
        raise
    tasks = response.get("tasks") or []
    if not tasks:
        raise RuntimeError(f"migration task {task_arn} not found: {response.get('failures')}")
    task = tasks[0]
    if task.get("lastStatus") != "STOPPED":
        timeout = int(props.get("TimeoutSeconds", 0))
        created = task.get("createdAt")
        if timeout and created is not None and (_now() - created).total_seconds() > timeout:
            _stop(ecs, cluster, task_arn, f"migration exceeded {timeout} s")
            raise RuntimeError(
                f"migration task {task_arn} ran longer than {timeout} s and was stopped; logs: {_logs(props, task_arn)}"
            )
        LOG.info("migration task %s is %s", task_arn, task.get("lastStatus"))
        return {"IsComplete": False}

    container_name = props["ContainerName"]
    container = next((c for c in task.get("containers", []) if c.get("name") == container_name), None)
    exit_code = container.get("exitCode") if container else None
    if exit_code == 0:
        LOG.info("migration task %s succeeded", task_arn)
        return {"IsComplete": True, "Data": {"TaskArn": task_arn, "ExitCode": "0"}}

    reason = (container or {}).get("reason") or task.get("stoppedReason") or "unknown"
    raise RuntimeError(
        f"migration task {task_arn} failed (exit code {exit_code}, reason: {reason}); logs: {_logs(props, task_arn)}"
    )


def _logs(props, task_arn: str) -> str:
    task_id = task_arn.rsplit("/", 1)[-1]
    return f"{props.get('LogGroup', '?')} stream {props.get('LogStreamPrefix', '?')}/{props['ContainerName']}/{task_id}"
