"""Conditional requests (RFC 9110 §8.8.3, §13): strong entity tags from a resource's id, version and representation,
`If-None-Match` on reads, `If-Match` on writes.

Every write of a versioned resource bumps its version (each UPDATE of queries/; a user's when its profile changes).
Some of a representation changes without a write of the resource itself: an issue's `votes` and the caller's `voted`,
the name of an embedded user. So the tag is `"<id>.<version>.<digest>"`, the digest a hash of the representation as
served: a strong validator (any change of the representation changes it). If-Match guards writes, which are
versioned: it compares the id and version (the digest covers no field a write of the resource could lose).

The request seam (exitus/request_scope.py) sets `ETag` on every response whose spec declares that header, and
answers an operation that declares the `If-None-Match` parameter with 304 when the tag matches (`not_modified`).

`If-Match` must be checked by the write itself, or two racing writers could both pass it: a handler passes
`if_match_versions(id)` to its UPDATE, whose WHERE then reads
`and (cast(:if_match as integer[]) is null or version = any(cast(:if_match as integer[])))` beside its
`version = :version`, and calls `refuse_write` when the UPDATE changed nothing and the resource exists.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any, NoReturn

from connexion.context import scope as asgi_scope

from exitus.errors import PreconditionFailed, VersionConflict

# Read responses that carry an ETag: clients may keep them, but must ask again (cheaply, If-None-Match) before use;
# shared caches must not keep them at all (they are one customer's).
READ_CACHE_CONTROL = "private, no-cache"
# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text (RFC 9110 §8.8.3). What is not an
# entity tag in a field value names nothing: If-None-Match then matches nothing (200), If-Match nothing (412).
_ENTITY_TAG = re.compile(r'(W/)?"([\x21\x23-\x7e\x80-\xff]*)"')
_VERSION = re.compile(r"([0-9]{1,9})(?:\.[0-9a-f]{16})?")  # the version column is an integer; then the digest


def etag(row: Mapping[str, Any]) -> str:
    """The strong entity tag of a versioned resource's current representation (`row`, as it will be served)."""
    served = json.dumps(row, sort_keys=True, separators=(",", ":"), default=str).encode()
    return f'"{row["id"]}.{row["version"]}.{hashlib.sha256(served).hexdigest()[:16]}"'


def request_header(name: bytes) -> str | None:
    """A request header's field value, its lines combined (RFC 9110 §5.3); None when it was not sent."""
    values = [value.decode("latin-1") for key, value in asgi_scope["headers"] if key == name]
    return ", ".join(values) if values else None


def parse_tags(value: str) -> list[tuple[bool, str]] | None:
    """The (weak, opaque-tag) members of an If-Match or If-None-Match field value; None for `*` (any)."""
    if value.strip() == "*":
        return None
    return [(bool(weak), opaque) for weak, opaque in _ENTITY_TAG.findall(value)]


def not_modified(current_etag: str) -> bool:
    """Whether the request's If-None-Match names the current representation (weak comparison, §13.1.2)."""
    value = request_header(b"if-none-match")
    if value is None:
        return False
    tags = parse_tags(value)
    return tags is None or any(f'"{opaque}"' == current_etag for _, opaque in tags)


def if_match_versions(resource_id: str) -> list[int] | None:
    """The versions of the resource the request's If-Match accepts (strong comparison, §13.1.1: weak tags never
    match), for the UPDATE's WHERE; None when any version will do (no If-Match, or `*`: the UPDATE needs the resource
    to exist anyway). An empty list matches nothing: the write answers 412."""
    value = request_header(b"if-match")
    if value is None:
        return None
    tags = parse_tags(value)
    if tags is None:
        return None
    prefix = f"{resource_id.lower()}."
    versions = (
        _VERSION.fullmatch(opaque[len(prefix) :]) for weak, opaque in tags if not weak and opaque.startswith(prefix)
    )
    return [int(version.group(1)) for version in versions if version]


def refuse_stale_tag(current: Mapping[str, Any], if_match: list[int] | None, what: str) -> None:
    """412 when If-Match was sent and names no current version of the resource."""
    if if_match is not None and current["version"] not in if_match:
        raise PreconditionFailed(
            f"If-Match names no current version of the {what}; nothing was changed", current_version=current["version"]
        )


def refuse_write(current: Mapping[str, Any], if_match: list[int] | None, body_version: int, what: str) -> NoReturn:
    """Why a conditional UPDATE of an existing resource changed nothing: If-Match first (412), then the body's
    `version` (409)."""
    refuse_stale_tag(current, if_match, what)
    raise VersionConflict(
        f"the {what} was changed since version {body_version}; read it again", current_version=current["version"]
    )
