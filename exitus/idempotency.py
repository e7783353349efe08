"""Idempotency keys (the IETF httpapi draft; Stripe's): a POST sent with an `Idempotency-Key` is done once per
customer and key, and a retry gets the first completed response again, marked `Idempotent-Replayed: true`.

The request seam (exitus/request_scope.py) does this for every operation whose spec declares the `Idempotency-Key`
header parameter, in the request's one transaction:

1. `claim`: a transaction-level advisory lock on (customer, key), taken without waiting, and the key's stored
   response read in the same statement. The lock is held by the first request until its transaction ends, so a
   retry meanwhile answers 409 with Retry-After at once (`idempotency-key-in-flight`) instead of queueing behind it.
   A stored response is replayed when the request has the same fingerprint (caller, method, path, body), else 422
   (`idempotency-key-reused`).
2. The handler runs; a 2xx response is stored (`Claim.store`) in the same transaction as the write, so either both
   commit or neither does. A failed request (an error raised: 4xx, 5xx) rolls back and stores nothing, so a
   corrected retry with the same key can succeed.

The key row's primary key (customer, key) is the last word: should a request slip between another's commit and its
own claim, storing finds the committed row and the whole request rolls back as in flight (409); its retry replays.
Keys expire after IDEMPOTENCY_KEY_TTL_SECONDS: an expired key is treated as absent and overwritten; each store removes
a few of the customer's expired keys (skipping locked ones, so it never waits), and `exitus prune-idempotency-keys`
removes the rest.

Keys are kept per customer: the token's customer (an administrator's too, for POST /v1/customers). A caller whose
token names no customer cannot use one (403): there is no one to keep it for.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

from connexion.context import scope as asgi_scope
from connexion.jsonifier import JSONEncoder

from exitus.conditional import request_header
from exitus.errors import Forbidden, IdempotencyKeyInFlight, IdempotencyKeyReused

REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_HEADERS = ("Location", "ETag")  # what a retry needs of the first response's headers, besides the body
PRUNE_PER_STORE = 10  # expired keys of the customer removed in passing by each store
RETRY_AFTER_SECONDS = 1


def fingerprint(subject: str, body: Any) -> str:
    """What makes two requests with one key the same request: the caller, method, path and query, and the body as
    parsed (so the JSON's spelling, whitespace and member order do not count)."""
    request = [subject, asgi_scope["method"], asgi_scope["path"], asgi_scope.get("query_string", b"").decode(), body]
    text = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=JSONEncoder)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Claim:
    """A key claimed by this request's transaction; `replay` is the stored response, when there is one."""

    queries: Any
    customer_id: str
    key: str
    fingerprint: str
    ttl_seconds: int
    replay: tuple[Any, int, dict[str, str]] | None = None

    def store(self, body: Any, status: int, headers: dict[str, str]) -> None:
        """Keeps the response for retries, in the request's transaction."""
        stored = self.queries.upsert_idempotency_key(
            customer_id=self.customer_id,
            key=self.key,
            fingerprint=self.fingerprint,
            status=status,
            headers=json.dumps({name: headers[name] for name in KEPT_HEADERS if name in headers}),
            body=json.dumps(body, cls=JSONEncoder),
            ttl_seconds=self.ttl_seconds,
            prune=PRUNE_PER_STORE,
        )
        if stored is None:  # another request with the key completed between the claim and now
            raise _in_flight()


def claim(queries: Any, identity: Any, body: Any, ttl_seconds: int) -> Claim | None:
    """The request's key claimed (None when it sent none). Raises when it must not run: 409 in flight, 422 reused."""
    key = request_header(b"idempotency-key")
    if key is None:
        return None
    if identity.customer_id is None:
        raise Forbidden("an Idempotency-Key is kept per customer, and the token names none")
    claimed = Claim(queries, identity.customer_id, key, fingerprint(identity.subject, body), ttl_seconds)
    found = queries.get_idempotency_key(customer_id=claimed.customer_id, key=key)
    if not found["claimed"]:
        raise _in_flight()
    if found["fingerprint"] is None:
        return claimed
    if found["fingerprint"] != claimed.fingerprint:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used with another request (method, path, body or caller); use a new key"
        )
    headers = {**found["headers"], REPLAYED_HEADER: "true"}
    return replace(claimed, replay=(found["body"], found["status"], headers))


def _in_flight() -> IdempotencyKeyInFlight:
    return IdempotencyKeyInFlight(
        "a request with this Idempotency-Key is still in progress; retry after Retry-After seconds",
        retry_after=RETRY_AFTER_SECONDS,
    )


PRUNE_BATCH = 1000


def prune_expired(database: Any) -> int:
    """Removes every customer's expired keys (`exitus prune-idempotency-keys`): per customer, in batches, each in a
    transaction bound to that customer as a request's is (row-level security), skipping keys a request holds.
    How many were removed."""
    from exitus.db import RequestContext

    removed, after = 0, None
    while customers := database.queries.list_customer_ids(after=after, limit=PRUNE_BATCH):
        for row in customers:
            customer_id = str(row["id"])
            while True:
                with database.transaction(context=RequestContext(customer_id=customer_id)) as queries:
                    count = queries.delete_expired_idempotency_keys(customer_id=customer_id, limit=PRUNE_BATCH)
                removed += count
                if count < PRUNE_BATCH:
                    break
        after = str(customers[-1]["id"])
    return removed
