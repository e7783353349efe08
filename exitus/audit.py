"""The audit trail as clients see it: events rendered from their rows, and verification of a customer's chain.

Events are written by the database (migrations/0005.audit.sql: a trigger per audited table, in the transaction of
the change). Each event's `hash` is SHA-256 over the canonical serialisation of the event without its `hash`: JSON
with object keys sorted by code point, no insignificant whitespace, strings escaped only where JSON requires
(RFC 8785 for these values: strings, integers, null, arrays, objects). `prev_hash` is the previous event's `hash`
(64 zeros for sequence 1). `canonical` below is that rule, the same one the trigger applies in SQL
(exitus_canonical_json), so verification here checks the database's hashes independently of it.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Mapping
from typing import Any

GENESIS_HASH = "0" * 64
VERIFY_BATCH = 1000


def document(row: Mapping[str, Any]) -> dict[str, Any]:
    """The event as hashed: every field but `hash`."""
    return {
        "id": str(row["id"]),
        "customer_id": str(row["customer_id"]),
        "sequence": row["sequence"],
        "occurred_at": _timestamp(row["occurred_at"]),
        "actor": {"sub": row["actor_sub"], "user_id": _text(row["actor_user_id"])},
        "action": row["action"],
        "resource": {
            "type": row["resource_type"],
            "id": str(row["resource_id"]),
            "project_id": _text(row["project_id"]),
            "issue_id": _text(row["issue_id"]),
        },
        "changes": row["changes"],
        "request_id": row["request_id"],
        "trace_id": row["trace_id"],
        "client_ip": row["client_ip"],
        "user_agent": row["user_agent"],
        "prev_hash": row["prev_hash"],
    }


def event(row: Mapping[str, Any]) -> dict[str, Any]:
    """The event as served: its document and its hash."""
    return {**document(row), "hash": row["hash"]}


def canonical(doc: Mapping[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def event_hash(doc: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(doc)).hexdigest()


def verify(queries: Any, customer_id: str) -> dict[str, Any]:
    """Walks the customer's chain from sequence 1: each event must carry the next sequence, the previous event's
    hash, and the hash of its own content; and the chain must end where its head (kept beside it) says. The head is
    read before the walk (events up to it must all be there) and after it (nothing may lie beyond it: events are
    committed with their head, so a concurrent write cannot explain an event past a head read later)."""
    head_before = queries.get_audit_head()
    expected, previous, after = 1, GENESIS_HASH, 0
    while True:
        rows = queries.list_audit_chain(customer_id=customer_id, after=after, limit=VERIFY_BATCH)
        for row in rows:
            if row["sequence"] != expected or row["prev_hash"] != previous or row["hash"] != event_hash(document(row)):
                return _broken(expected - 1, expected, row["id"])
            previous, expected = row["hash"], expected + 1
        if len(rows) < VERIFY_BATCH:
            break
        after = rows[-1]["sequence"]
    verified = expected - 1
    if head_before is not None and verified < head_before["last_sequence"]:
        return _broken(verified, expected, None)  # events at the end of the chain are gone
    head_after = queries.get_audit_head()
    if verified and (head_after is None or head_after["last_sequence"] < verified):
        # events beyond the head: not written by the trigger; the first one past it is where the chain breaks
        first_forged = (head_after or {"last_sequence": 0})["last_sequence"] + 1
        forged = queries.list_audit_chain(customer_id=customer_id, after=first_forged - 1, limit=1)
        return _broken(first_forged - 1, first_forged, forged[0]["id"])
    return {"ok": True, "verified": verified, "last_hash": previous if verified else None}


def _broken(verified: int, sequence: int, event_id: Any) -> dict[str, Any]:
    return {"ok": False, "verified": verified, "first_broken": {"sequence": sequence, "id": _text(event_id)}}


def _timestamp(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
