"""Custom resource that runs the database migration task and waits for it.

Used with the CDK provider framework (aws_cdk.custom_resources.Provider):

* ``on_event`` starts ``exitus migrate up`` as a one-off Fargate task on
  Create/Update and returns its task ARN as the physical resource id.
* ``is_complete`` is polled until the task has stopped. Exit code 0 completes
  the resource; anything else raises, which fails the CloudFormation
  deployment before the ECS service is updated (the service depends on this
  resource), so CloudFormation rolls the stack back.

Delete is a no-op: migrations are never rolled back by infrastructure.
"""

from __future__ import annotations

import json
import logging

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

STARTED_BY = "cfn-migration"


def _ecs():
    import boto3  # provided by the Lambda Python runtime

    return boto3.client("ecs")


def _props(event):
    return event["ResourceProperties"]


def on_event(event, _context=None):
    LOG.info("event: %s", json.dumps({k: v for k, v in event.items() if k != "ResponseURL"}))
    request = event["RequestType"]
    if request == "Delete":
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    if request not in ("Create", "Update"):
        raise ValueError(f"unknown request type {request!r}")

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


def is_complete(event, _context=None):
    if event["RequestType"] == "Delete":
        return {"IsComplete": True}

    props = _props(event)
    task_arn = event["PhysicalResourceId"]
    response = _ecs().describe_tasks(cluster=props["Cluster"], tasks=[task_arn])
    tasks = response.get("tasks") or []
    if not tasks:
        raise RuntimeError(f"migration task {task_arn} not found: {response.get('failures')}")
    task = tasks[0]
    if task.get("lastStatus") != "STOPPED":
        LOG.info("migration task %s is %s", task_arn, task.get("lastStatus"))
        return {"IsComplete": False}

    container_name = props["ContainerName"]
    container = next((c for c in task.get("containers", []) if c.get("name") == container_name), None)
    exit_code = container.get("exitCode") if container else None
    if exit_code == 0:
        LOG.info("migration task %s succeeded", task_arn)
        return {"IsComplete": True, "Data": {"TaskArn": task_arn, "ExitCode": "0"}}

    reason = (container or {}).get("reason") or task.get("stoppedReason") or "unknown"
    task_id = task_arn.rsplit("/", 1)[-1]
    logs = f"{props.get('LogGroup', '?')} stream {props.get('LogStreamPrefix', '?')}/{container_name}/{task_id}"
    raise RuntimeError(f"migration task {task_arn} failed (exit code {exit_code}, reason: {reason}); logs: {logs}")
