"""Issues of a project. The caller is the reporter; the assignee must be a user of the same customer."""

from exitus import audit, metrics
from exitus.api import audit as audit_api
from exitus.api import page, projects
from exitus.db import array, like_pattern
from exitus.errors import NotFound, VersionConflict
from exitus.request_scope import current


def list_issues(project_id, q=None, offset=0, limit=50):
    scope = current()
    rows = [
        *scope.queries.list_issues(
            customer_id=scope.tenant, project_id=project_id, pattern=like_pattern(q), offset=offset, limit=limit
        )
    ]
    if not rows:
        projects.get_project(project_id)  # an empty page of a project that does not exist is a 404
    return page("issues", rows, offset, limit)


def create_issue(project_id, body):
    scope = current()
    row = scope.queries.create_issue(
        customer_id=scope.tenant,
        project_id=project_id,
        subject=body["subject"],
        content=body["content"],
        severity=body["severity"],
        category=body["category"],
        labels=array(body["labels"]),
        reporter=scope.user_id,
        assignee=body.get("assignee"),
    )
    scope.after_commit(metrics.ISSUES_CREATED.inc)
    return row, 201, {"Location": f"/v1/projects/{project_id}/issues/{row['id']}"}


def get_issue(project_id, id):
    scope = current()
    row = scope.queries.get_issue(customer_id=scope.tenant, project_id=project_id, id=id)
    if row is None:
        raise NotFound("issue not found")
    return row


def update_issue(project_id, id, body):
    scope = current()
    row = scope.queries.update_issue(
        customer_id=scope.tenant,
        project_id=project_id,
        id=id,
        subject=body["subject"],
        content=body["content"],
        severity=body["severity"],
        category=body["category"],
        labels=array(body["labels"]),
        state=body.get("state"),  # None keeps the current state
        assignee=body.get("assignee"),
        version=body["version"],
    )
    if row is None:
        current_version = get_issue(project_id, id)["version"]  # 404 when it does not exist
        raise VersionConflict(
            "the issue was changed since version {}; read it again".format(body["version"]),
            current_version=current_version,
        )
    if row.pop("previous_state") != row["state"]:
        scope.after_commit(metrics.ISSUE_STATE_CHANGES.labels(state=row["state"]).inc)
    return row


def list_issue_history(project_id, id, cursor=None, limit=50):
    """The issue's audit events and its comments', oldest first, keyset-paged."""
    scope = current()
    rows = scope.queries.list_issue_history(
        customer_id=scope.tenant,
        project_id=project_id,
        issue_id=id,
        after=audit_api.parse_cursor(cursor) or 0,
        limit=limit,
    )
    if not rows:
        get_issue(project_id, id)  # an empty page of an issue that does not exist is a 404
    headers = {}
    if len(rows) == limit:
        query = {"limit": limit, "cursor": str(rows[-1]["sequence"])}
        headers["Link"] = audit_api.next_link(f"/v1/projects/{project_id}/issues/{id}/history", query)
    return {"events": [audit.event(row) for row in rows]}, 200, headers
