"""The audit trail: a customer's events (newest first, keyset-paged, or every one as NDJSON) and its verification."""

import json

from connexion.context import request

from exitus import audit
from exitus.errors import Forbidden
from exitus.paging import next_link
from exitus.request_scope import current

NDJSON = "application/x-ndjson"
EXPORT_BATCH = 1000


def list_audit_events(
    customer_id=None,
    resource_type=None,
    resource_id=None,
    actor=None,
    action=None,
    since=None,
    until=None,
    cursor=None,
    limit=50,
):
    tenant = _audited_customer(customer_id)
    filters = {
        "resource_type": resource_type,
        "resource_id": resource_id,
        "actor": actor,
        "action": action,
        "since": since,
        "until": until,
    }
    queries = current().queries
    if _wants_ndjson():
        return _export(queries, tenant, filters)
    rows = queries.list_audit_events(customer_id=tenant, before=parse_cursor(cursor), limit=limit, **filters)
    headers = {}
    if len(rows) == limit:
        query = {**filters, "customer_id": customer_id, "limit": limit, "cursor": str(rows[-1]["sequence"])}
        headers["Link"] = next_link("/v1/audit-events", query)
    return {"events": [audit.event(row) for row in rows]}, 200, headers


def verify_audit_events(customer_id=None):
    tenant = _audited_customer(customer_id)
    return audit.verify(current().queries, tenant)


def _audited_customer(customer_id):
    """The caller's customer; an administrator may name another one (the transaction is bound to it, so row-level
    security shows that customer's events and no other's)."""
    scope = current()
    if customer_id is None:
        return scope.tenant
    if not scope.identity.is_admin:
        if scope.identity.customer_id is not None and customer_id.lower() == scope.identity.customer_id.lower():
            return scope.tenant
        raise Forbidden("only administrators (exitus/customer.admin) may name another customer")
    scope.queries.set_audited_customer(customer_id=customer_id)
    return customer_id


def _export(queries, tenant, filters):
    """Every matching event, newest first, one JSON document a line (read in batches inside the transaction)."""
    lines, before = [], None
    while True:
        rows = queries.list_audit_events(customer_id=tenant, before=before, limit=EXPORT_BATCH, **filters)
        lines.extend(json.dumps(audit.event(row), sort_keys=True, separators=(",", ":")) + "\n" for row in rows)
        if len(rows) < EXPORT_BATCH:
            return "".join(lines), 200, {"Content-Type": NDJSON}
        before = rows[-1]["sequence"]


def _wants_ndjson():
    accept = request.headers.get("accept", "")
    return NDJSON in accept and "application/json" not in accept


def parse_cursor(value):
    """The keyset cursor (the spec's Cursor: digits): the sequence of the last event of the previous page."""
    return None if value is None else int(value)
