"""Issues of a project. The caller is the reporter; the assignee must be a user of the same customer. An issue's state
follows the workflow (migrations/0006: exitus_issue_next_states), whether moved by a transition or by an update."""

from exitus import audit, conditional, metrics, paging
from exitus.api import audit as audit_api
from exitus.api import projects
from exitus.db import array, like_pattern
from exitus.errors import IllegalTransition, NotFound
from exitus.request_scope import current

# The orders of `sort=` (each also descending, with `-`): a row's keyset position besides its id, as the CASEs of
# queries/issues.sql's list_issues take it. A new sort: a line here, its CASE branches there, and an index.
SORTS = paging.sorts(
    paging.Sort("created", {"after_time": paging.by("created_at")}),
    paging.Sort("updated", {"after_time": paging.by("updated_at")}),
    paging.Sort(
        "severity", {"after_rank": lambda row: SEVERITY_RANK[row["severity"]], "after_time": paging.by("created_at")}
    ),
    paging.Sort("number", {"after_rank": paging.by("number")}),  # unique in the project: no tie to break
    paging.Sort("votes", {"after_rank": paging.by("votes")}),
)
SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3, "critical": 4}  # exitus_severity_rank() (migrations/0007)
# A search first asks the search index for the matching ids (exitus_search_issues, migrations/0007 and 0010), up to
# this many: a term that matches more is frequent enough that walking the project in order and filtering finds a
# page's worth soon, while fetching and sorting every match would cost in proportion to their number
# (bench/README.md).
SEARCH_CAP = 200


def list_issues(
    project_id,
    q=None,
    state=None,
    severity=None,
    category=None,
    labels=None,
    assignee=None,
    reporter=None,
    created_after=None,
    created_before=None,
    updated_after=None,
    updated_before=None,
    sort="created",
    cursor=None,
    offset=0,
    limit=50,
    count=False,
):
    scope = current()
    requested = {
        "q": q,
        "state": state,
        "severity": severity,
        "category": category,
        "labels": labels,
        "assignee": assignee,
        "reporter": reporter,
        "created_after": created_after,
        "created_before": created_before,
        "updated_after": updated_after,
        "updated_before": updated_before,
    }
    listing = paging.Listing(
        f"/v1/projects/{project_id}/issues",
        scope.tenant,
        requested,
        limit,
        sort=SORTS[sort],
        sort_name=sort,
        keyset_parameters=("after_time", "after_rank", "after_id"),
    )
    position = listing.position(cursor)
    pattern = like_pattern(q)
    filters = {
        "customer_id": scope.tenant,
        "project_id": project_id,
        "states": state,
        "severities": severity,
        "categories": category,
        "labels": labels,
        "assignee": None if assignee in (None, "none") else assignee,
        "unassigned": assignee == "none",
        "reporter": reporter,
        "created_after": created_after,
        "created_before": created_before,
        "updated_after": updated_after,
        "updated_before": updated_before,
        "pattern": pattern,
        "ids": _search(scope, project_id, pattern),
    }
    rows = [
        _with_users(row)
        for row in scope.queries.list_issues(
            **filters, sort=sort, **position, offset=offset, limit=limit + 1, user_id=scope.user_id
        )
    ]
    if not rows:
        projects.get_project(project_id)  # an empty page of a project that does not exist is a 404
    total = scope.queries.count_issues(**filters) if count else None
    return listing.respond("issues", rows, offset, total)


def _search(scope, project_id, pattern):
    """The ids of the issues `pattern` matches, from the search index; None when there is no search or when the
    term is frequent (the list query then filters as it walks)."""
    if pattern is None:
        return None
    return scope.queries.search_issues(customer_id=scope.tenant, project_id=project_id, pattern=pattern, cap=SEARCH_CAP)


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
    return _with_users(row)


_EMBEDDED_USERS = frozenset(("reporter", "assignee"))


def _with_users(row):
    """An issue row as the API shows it: the query's `reporter_*` and `assignee_*` columns (id, name, email) as a
    user object each, where the reporter_id / assignee_id column stood; no assignee: null."""
    issue = {}
    for key, value in row.items():
        role, _, field = key.partition("_")
        if role not in _EMBEDDED_USERS:
            issue[key] = value
        elif field == "id":
            issue[role] = (
                None if value is None else {"id": value, "name": row[f"{role}_name"], "email": row[f"{role}_email"]}
            )
    return issue


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
    if_match = conditional.if_match_versions(id)
    row = scope.queries.update_issue_state(
        customer_id=scope.tenant, project_id=project_id, id=id, state=body["state"], if_match=if_match
    )
    if row is None:
        issue = get_issue(project_id, id)
        conditional.refuse_stale_tag(issue, if_match, "issue")
        _refuse_move(issue["state"], body["state"])
    if body.get("comment") is not None:
        scope.queries.create_comment(
            customer_id=scope.tenant, project_id=project_id, issue_id=id, content=body["comment"], author=scope.user_id
        )
        scope.after_commit(metrics.COMMENTS_CREATED.inc)
    scope.after_commit(metrics.ISSUE_STATE_CHANGES.labels(state=row["state"]).inc)
    return get_issue(project_id, id)


def _check_if_match(project_id, id):
    """A vote changes no version: If-Match (the issue's tag) is checked against the issue in this transaction."""
    if_match = conditional.if_match_versions(id)
    if if_match is not None:
        conditional.refuse_stale_tag(get_issue(project_id, id), if_match, "issue")


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
    _check_if_match(project_id, id)
    scope.queries.create_vote(customer_id=scope.tenant, project_id=project_id, issue_id=id, user_id=scope.user_id)
    return None, 204


def withdraw_vote(project_id, id):
    """Withdraws the caller's vote; withdrawing a vote that is not there changes nothing."""
    scope = current()
    _check_if_match(project_id, id)
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
        headers["Link"] = paging.next_link(f"/v1/projects/{project_id}/issues/{id}/history", query)
    return {"events": [audit.event(row) for row in rows]}, 200, headers
