"""The audit trail: a customer's events (newest first, keyset-paged, or every one as NDJSON) and its verification."""

import json

from connexion.context import request

from exitus import audit
from exitus.errors import Forbidden
from exitus.paging import next_link
from exitus.request_scope import current

NDJSON = "application/x-ndjson"
EXPORT_BATCH = 1000  # events read per transaction
# Events sent per chunk: the server queues a few chunks per response (a2wsgi: 10) before the generator waits for the
# client, so small chunks keep what a slow reader makes the server hold small.
EXPORT_CHUNK = 100


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
    """Every matching event, newest first, one JSON document a line, streamed: the first batch is read in the
    request's transaction (so a failure there is still a problem response), each later one in a short transaction of
    its own, keyed below the last sequence sent, while the response is being sent. Memory holds one batch; no
    connection is held while the client reads. Sequences are given out in commit order (one customer's writers queue
    on its chain's head), so every event below the first batch's newest is already committed when that batch is
    read: the export is the trail as of its first batch, complete, in order, without duplicates; events appended
    after it are absent."""
    rows = queries.list_audit_events(customer_id=tenant, before=None, limit=EXPORT_BATCH, **filters)
    later_transaction = current().later_transactions(tenant)

    def lines(rows):
        while rows:
            for start in range(0, len(rows), EXPORT_CHUNK):
                yield "".join(_ndjson_line(row) for row in rows[start : start + EXPORT_CHUNK])
            if len(rows) < EXPORT_BATCH:
                return
            with later_transaction() as batch:
                rows = batch.list_audit_events(
                    customer_id=tenant, before=rows[-1]["sequence"], limit=EXPORT_BATCH, **filters
                )

    return lines(rows), 200, {"Content-Type": NDJSON}


def _ndjson_line(row):
    return json.dumps(audit.event(row), sort_keys=True, separators=(",", ":")) + "\n"


def _wants_ndjson():
    accept = request.headers.get("accept", "")
    return NDJSON in accept and "application/json" not in accept


def parse_cursor(value):
    """The keyset cursor (the spec's Cursor: digits): the sequence of the last event of the previous page."""
    return None if value is None else int(value)
