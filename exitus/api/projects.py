"""Projects of the caller's customer."""

from exitus import conditional, paging
from exitus.db import array, like_pattern
from exitus.errors import NotFound
from exitus.request_scope import current


def list_projects(q=None, created_after=None, created_before=None, cursor=None, offset=0, limit=50, count=False):
    scope = current()
    requested = {"q": q, "created_after": created_after, "created_before": created_before}
    listing = paging.Listing("/v1/projects", scope.tenant, requested, limit)
    filters = {
        "customer_id": scope.tenant,
        "pattern": like_pattern(q),
        "created_after": created_after,
        "created_before": created_before,
    }
    rows = scope.queries.list_projects(**filters, **listing.position(cursor), offset=offset, limit=limit + 1)
    total = scope.queries.count_projects(**filters) if count else None
    return listing.respond("projects", rows, offset, total)


def create_project(body):
    scope = current()
    row = scope.queries.create_project(
        customer_id=scope.tenant,
        name=body["name"],
        description=body.get("description", ""),
        labels=array(body["labels"]),
    )
    return row, 201, {"Location": f"/v1/projects/{row['id']}"}


def get_project(id):
    scope = current()
    row = scope.queries.get_project(customer_id=scope.tenant, id=id)
    if row is None:
        raise NotFound("project not found")
    return row


def update_project(id, body):
    scope = current()
    if_match = conditional.if_match_versions(id)
    row = scope.queries.update_project(
        customer_id=scope.tenant,
        id=id,
        name=body["name"],
        description=body.get("description", ""),
        labels=array(body["labels"]),
        version=body["version"],
        if_match=if_match,
    )
    if row is None:  # 404 when it does not exist; otherwise a version was stale
        conditional.refuse_write(get_project(id), if_match, body["version"], "project")
    return row
