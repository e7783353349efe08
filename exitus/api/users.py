"""Users: the token subjects seen by this service, per customer. Read-only: tokens create and refresh them."""

from exitus.api import page
from exitus.db import like_pattern
from exitus.errors import NotFound
from exitus.request_scope import current


def list_users(q=None, offset=0, limit=50):
    scope = current()
    rows = scope.queries.list_users(customer_id=scope.tenant, pattern=like_pattern(q), offset=offset, limit=limit)
    return page("users", rows, offset, limit)


def get_user(id):
    scope = current()
    row = scope.queries.get_user(customer_id=scope.tenant, id=id)
    if row is None:
        raise NotFound("user not found")
    return row


def get_current_user():
    return get_user(current().user_id)
