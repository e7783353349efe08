"""Users: the token subjects seen by this service, per customer. Read-only: tokens create and refresh them."""

from exitus import paging
from exitus.db import like_pattern
from exitus.errors import NotFound
from exitus.request_scope import current


def list_users(q=None, created_after=None, created_before=None, cursor=None, offset=0, limit=50, count=False):
    scope = current()
    requested = {"q": q, "created_after": created_after, "created_before": created_before}
    listing = paging.Listing("/v1/users", scope.tenant, requested, limit)
    filters = {
        "customer_id": scope.tenant,
        "pattern": like_pattern(q),
        "created_after": created_after,
        "created_before": created_before,
    }
    rows = scope.queries.list_users(**filters, **listing.position(cursor), offset=offset, limit=limit + 1)
    total = scope.queries.count_users(**filters) if count else None
    return listing.respond("users", rows, offset, total)


def get_user(id):
    scope = current()
    row = scope.queries.get_user(customer_id=scope.tenant, id=id)
    if row is None:
        raise NotFound("user not found")
    return row


def get_current_user():
    return get_user(current().user_id)
