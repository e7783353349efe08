"""Customers (tenants). Administrators manage all of them; a tenant may read itself and update its description and
labels. Only administrators rename: names are unique across customers, so a tenant's rename would tell it whether
another customer has the name (409 or not), and would let it take a name before its owner signs up."""

from exitus.api import page
from exitus.db import array, like_pattern
from exitus.errors import Forbidden, NotFound, VersionConflict
from exitus.request_scope import current


def list_customers(q=None, offset=0, limit=50):
    scope = current()
    only_id = None if scope.identity.is_admin else scope.tenant
    rows = scope.queries.list_customers(only_id=only_id, pattern=like_pattern(q), offset=offset, limit=limit)
    return page("customers", rows, offset, limit)


def create_customer(body):
    row = current().queries.create_customer(
        name=body["name"], description=body.get("description", ""), labels=array(body["labels"])
    )
    return row, 201, {"Location": f"/v1/customers/{row['id']}"}


def get_customer(id):
    return _visible_customer(id)


def update_customer(id, body):
    customer = _visible_customer(id)
    scope = current()
    if body["name"] != customer["name"] and not scope.identity.is_admin:
        raise Forbidden("only platform administrators may rename a customer")
    queries = scope.queries
    row = queries.update_customer(
        id=id,
        name=body["name"],
        description=body.get("description", ""),
        labels=array(body["labels"]),
        version=body["version"],
    )
    if row is None:
        raise VersionConflict(
            "the customer was changed since version {}; read it again".format(body["version"]),
            current_version=_visible_customer(id)["version"],
        )
    return row


def _visible_customer(id):
    scope = current()
    if not scope.identity.is_admin and id.lower() != scope.tenant.lower():
        raise NotFound("customer not found")
    row = scope.queries.get_customer(id=id)
    if row is None:
        raise NotFound("customer not found")
    return row
