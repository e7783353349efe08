"""Comments on an issue. The caller is the author."""

from exitus import conditional, metrics, paging
from exitus.api import issues
from exitus.db import like_pattern
from exitus.errors import NotFound
from exitus.request_scope import current


def list_comments(
    project_id, issue_id, q=None, created_after=None, created_before=None, cursor=None, offset=0, limit=50, count=False
):
    scope = current()
    requested = {"q": q, "created_after": created_after, "created_before": created_before}
    listing = paging.Listing(f"/v1/projects/{project_id}/issues/{issue_id}/comments", scope.tenant, requested, limit)
    filters = {
        "customer_id": scope.tenant,
        "project_id": project_id,
        "issue_id": issue_id,
        "pattern": like_pattern(q),
        "created_after": created_after,
        "created_before": created_before,
    }
    rows = scope.queries.list_comments(**filters, **listing.position(cursor), offset=offset, limit=limit + 1)
    if not rows:
        issues.get_issue(project_id, issue_id)  # an empty page of an issue that does not exist is a 404
    total = scope.queries.count_comments(**filters) if count else None
    return listing.respond("comments", rows, offset, total)


def create_comment(project_id, issue_id, body):
    scope = current()
    created = scope.queries.create_comment(
        customer_id=scope.tenant,
        project_id=project_id,
        issue_id=issue_id,
        content=body["content"],
        author=scope.user_id,
    )
    scope.after_commit(metrics.COMMENTS_CREATED.inc)
    location = f"/v1/projects/{project_id}/issues/{issue_id}/comments/{created['id']}"
    return get_comment(project_id, issue_id, created["id"]), 201, {"Location": location}


def get_comment(project_id, issue_id, id):
    scope = current()
    row = scope.queries.get_comment(customer_id=scope.tenant, project_id=project_id, issue_id=issue_id, id=id)
    if row is None:
        raise NotFound("comment not found")
    return row


def update_comment(project_id, issue_id, id, body):
    scope = current()
    if_match = conditional.if_match_versions(id)
    row = scope.queries.update_comment(
        customer_id=scope.tenant,
        project_id=project_id,
        issue_id=issue_id,
        id=id,
        content=body["content"],
        version=body["version"],
        if_match=if_match,
    )
    if row is None:
        conditional.refuse_write(get_comment(project_id, issue_id, id), if_match, body["version"], "comment")
    return get_comment(project_id, issue_id, id)
