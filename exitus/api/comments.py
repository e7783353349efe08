"""Comments on an issue. The caller is the author."""

from exitus import metrics
from exitus.api import issues, page
from exitus.db import like_pattern
from exitus.errors import NotFound, VersionConflict
from exitus.request_scope import current


def list_comments(project_id, issue_id, q=None, offset=0, limit=50):
    scope = current()
    rows = [
        *scope.queries.list_comments(
            customer_id=scope.tenant,
            project_id=project_id,
            issue_id=issue_id,
            pattern=like_pattern(q),
            offset=offset,
            limit=limit,
        )
    ]
    if not rows:
        issues.get_issue(project_id, issue_id)  # an empty page of an issue that does not exist is a 404
    return page("comments", rows, offset, limit)


def create_comment(project_id, issue_id, body):
    scope = current()
    row = scope.queries.create_comment(
        customer_id=scope.tenant,
        project_id=project_id,
        issue_id=issue_id,
        content=body["content"],
        author=scope.user_id,
    )
    scope.after_commit(metrics.COMMENTS_CREATED.inc)
    return row, 201, {"Location": f"/v1/projects/{project_id}/issues/{issue_id}/comments/{row['id']}"}


def get_comment(project_id, issue_id, id):
    scope = current()
    row = scope.queries.get_comment(customer_id=scope.tenant, project_id=project_id, issue_id=issue_id, id=id)
    if row is None:
        raise NotFound("comment not found")
    return row


def update_comment(project_id, issue_id, id, body):
    scope = current()
    row = scope.queries.update_comment(
        customer_id=scope.tenant,
        project_id=project_id,
        issue_id=issue_id,
        id=id,
        content=body["content"],
        version=body["version"],
    )
    if row is None:
        current_version = get_comment(project_id, issue_id, id)["version"]  # 404 when it does not exist
        raise VersionConflict(
            "the comment was changed since version {}; read it again".format(body["version"]),
            current_version=current_version,
        )
    return row
