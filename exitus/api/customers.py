"""Customers (tenants). Administrators manage all of them; a tenant may read itself and update its description and
labels. Only administrators rename: names are unique across customers, so a tenant's rename would tell it whether
another customer has the name (409 or not), and would let it take a name before its owner signs up."""

from exitus import conditional, paging
from exitus.db import array, like_pattern
from exitus.errors import Forbidden, NotFound
from exitus.request_scope import current


def list_customers(q=None, created_after=None, created_before=None, cursor=None, offset=0, limit=50, count=False):
    scope = current()
    only_id = None if scope.identity.is_admin else scope.tenant
    requested = {"q": q, "created_after": created_after, "created_before": created_before}
    listing = paging.Listing("/v1/customers", only_id, requested, limit)
    filters = {
        "only_id": only_id,
        "pattern": like_pattern(q),
        "created_after": created_after,
        "created_before": created_before,
    }
    rows = scope.queries.list_customers(**filters, **listing.position(cursor), offset=offset, limit=limit + 1)
    total = scope.queries.count_customers(**filters) if count else None
    return listing.respond("customers", rows, offset, total)


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
    if_match = conditional.if_match_versions(id)
    row = scope.queries.update_customer(
        id=id,
        name=body["name"],
        description=body.get("description", ""),
        labels=array(body["labels"]),
        version=body["version"],
        if_match=if_match,
    )
    if row is None:
        conditional.refuse_write(_visible_customer(id), if_match, body["version"], "customer")
    return row


def _visible_customer(id):
    scope = current()
    if not scope.identity.is_admin and id.lower() != scope.tenant.lower():
        raise NotFound("customer not found")
    row = scope.queries.get_customer(id=id)
    if row is None:
        raise NotFound("customer not found")
    return row
