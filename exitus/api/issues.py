"""Issues of a project. The caller is the reporter; the assignee must be a user of the same customer. An issue's state
follows the workflow (migrations/0006: exitus_issue_next_states), whether moved by a transition or by an update."""

from exitus import audit, conditional, metrics
from exitus.api import audit as audit_api
from exitus.api import page, projects
from exitus.db import array, like_pattern
from exitus.errors import IllegalTransition, NotFound
from exitus.request_scope import current


def list_issues(project_id, q=None, offset=0, limit=50):
    scope = current()
    rows = [
        *scope.queries.list_issues(
            customer_id=scope.tenant,
            project_id=project_id,
            pattern=like_pattern(q),
            offset=offset,
            limit=limit,
            user_id=scope.user_id,
        )
    ]
    if not rows:
        projects.get_project(project_id)  # an empty page of a project that does not exist is a 404
    return page("issues", rows, offset, limit)


def create_issue(project_id, body):
    scope = current()
    created = scope.queries.create_issue(
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
    return get_issue(project_id, created["id"]), 201, {"Location": f"/v1/projects/{project_id}/issues/{created['id']}"}


def get_issue(project_id, id):
    scope = current()
    row = scope.queries.get_issue(customer_id=scope.tenant, project_id=project_id, id=id, user_id=scope.user_id)
    if row is None:
        raise NotFound("issue not found")
    return row


def get_issue_by_number(project_id, number):
    scope = current()
    id = scope.queries.get_issue_id_by_number(customer_id=scope.tenant, project_id=project_id, number=number)
    if id is None:
        raise NotFound(f"no issue #{number} in this project")
    return get_issue(project_id, id)


def update_issue(project_id, id, body):
    scope = current()
    if_match = conditional.if_match_versions(id)
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
        if_match=if_match,
    )
    if row is None:
        issue = get_issue(project_id, id)
        if issue["version"] != body["version"] or (if_match is not None and issue["version"] not in if_match):
            conditional.refuse_write(issue, if_match, body["version"], "issue")
        _refuse_move(issue["state"], body.get("state"))
    if row["previous_state"] != row["state"]:
        scope.after_commit(metrics.ISSUE_STATE_CHANGES.labels(state=row["state"]).inc)
    return get_issue(project_id, id)


def transition_issue(project_id, id, body):
    """Moves the issue to another state of the workflow and, with `comment`, comments on it: both or neither."""
    scope = current()
    row = scope.queries.update_issue_state(customer_id=scope.tenant, project_id=project_id, id=id, state=body["state"])
    if row is None:
        _refuse_move(get_issue(project_id, id)["state"], body["state"])
    if body.get("comment") is not None:
        scope.queries.create_comment(
            customer_id=scope.tenant, project_id=project_id, issue_id=id, content=body["comment"], author=scope.user_id
        )
        scope.after_commit(metrics.COMMENTS_CREATED.inc)
    scope.after_commit(metrics.ISSUE_STATE_CHANGES.labels(state=row["state"]).inc)
    return get_issue(project_id, id)


def _refuse_move(state, target):
    allowed = current().queries.list_next_states(state=state)
    raise IllegalTransition(
        f"an issue cannot move from {state} to {target}; from {state} it may move to: {', '.join(allowed)}",
        state=state,
        allowed=allowed,
    )


def vote_for_issue(project_id, id):
    """The caller's vote; voting again changes nothing."""
    scope = current()
    scope.queries.create_vote(customer_id=scope.tenant, project_id=project_id, issue_id=id, user_id=scope.user_id)
    return None, 204


def withdraw_vote(project_id, id):
    """Withdraws the caller's vote; withdrawing a vote that is not there changes nothing."""
    scope = current()
    votes = scope.queries.delete_vote(
        customer_id=scope.tenant, project_id=project_id, issue_id=id, user_id=scope.user_id
    )
    if votes is None:
        get_issue(project_id, id)  # no vote to withdraw, or no issue: a 404 for the latter
    return None, 204


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
