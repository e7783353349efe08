"""Projects of the caller's customer."""

from exitus.api import page
from exitus.db import array, like_pattern
from exitus.errors import NotFound, VersionConflict
from exitus.request_scope import current


def list_projects(q=None, offset=0, limit=50):
    scope = current()
    rows = scope.queries.list_projects(customer_id=scope.tenant, pattern=like_pattern(q), offset=offset, limit=limit)
    return page("projects", rows, offset, limit)


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
    row = scope.queries.update_project(
        customer_id=scope.tenant,
        id=id,
        name=body["name"],
        description=body.get("description", ""),
        labels=array(body["labels"]),
        version=body["version"],
    )
    if row is None:
        current_version = get_project(id)["version"]  # 404 when it does not exist; otherwise the version was stale
        raise VersionConflict(
            "the project was changed since version {}; read it again".format(body["version"]),
            current_version=current_version,
        )
    return row
