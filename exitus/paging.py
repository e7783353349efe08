"""Keyset (cursor) paging, shared by every list: sorts as a table, opaque cursors, the `Link: rel="next"` header and
`X-Total-Count`.

A list query takes the position of the last row of the previous page as `after_*` parameters (the sort's key
columns and the id, which breaks ties) and returns the rows strictly after it in the sort's order, so a page never
repeats or skips a row however many rows are inserted before or after it between requests. One extra row is read
to know whether a next page exists: the `Link` header is absent on the last page.

A cursor is that position with a fingerprint of what it was made for (the list's path, the caller's customer, the
sort and the filters), base64url-encoded JSON. It is validated, not signed (the service holds no key): a cursor that
does not decode, was made for another list, customer, sort or filters, or holds a value of the wrong type, is 400
`invalid-cursor`. A client that forges a well-formed cursor only chooses where its own list starts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from exitus.errors import BadRequest

Row = Mapping[str, Any]


def _integer(value: Any) -> int:
    if type(value) is not int:
        raise ValueError(f"not an integer: {value!r}")
    return value


# The keyset parameters of the list queries and how a cursor's JSON value becomes one (a wrong type: ValueError).
KEY_TYPES: dict[str, Callable[[Any], Any]] = {
    "after_time": datetime.fromisoformat,
    "after_rank": _integer,
    "after_id": uuid.UUID,
}
TOTAL_HEADER = "X-Total-Count"


class InvalidCursor(BadRequest):
    problem_type = "invalid-cursor"


@dataclass(frozen=True)
class Sort:
    """An order a list offers: its name in `sort=`, and the keyset parameters a row's position takes (parameter ->
    the row's value), besides `after_id`."""

    name: str
    keys: Mapping[str, Callable[[Row], Any]]


def by(column: str) -> Callable[[Row], Any]:
    return lambda row: row[column]


OLDEST_FIRST = Sort("created", {"after_time": by("created_at")})


def sorts(*table: Sort) -> dict[str, Sort]:
    """A list's sorts by their `sort=` value: each ascending, and descending with a `-` prefix."""
    return {f"{prefix}{entry.name}": entry for entry in table for prefix in ("", "-")}


@dataclass(frozen=True)
class Listing:
    """One list request: where it is (`path`), whose (`tenant`), in which order, with which filters (as the request
    gave them: they go into the `Link` and the fingerprint)."""

    path: str
    tenant: str | None
    filters: Mapping[str, Any]
    limit: int
    sort: Sort = OLDEST_FIRST
    sort_name: str = "created"  # as requested, `-` included
    keyset_parameters: tuple[str, ...] = ("after_time", "after_id")  # those the list query takes

    def fingerprint(self) -> str:
        kept = {key: value for key, value in sorted(self.filters.items()) if value not in (None, [], False)}
        made_for = json.dumps([self.path, self.tenant, self.sort_name, kept], sort_keys=True, default=str)
        return hashlib.sha256(made_for.encode()).hexdigest()[:24]

    def position(self, cursor: str | None) -> dict[str, Any]:
        """The keyset parameters of the page `cursor` starts (all None: the first page). 400 for a bad cursor."""
        position: dict[str, Any] = dict.fromkeys(self.keyset_parameters)
        if cursor is None:
            return position
        try:
            made_for, values = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4)))
            expected = {*self.sort.keys, "after_id"}
            if made_for != self.fingerprint():
                raise InvalidCursor("the cursor was made for another list, sort or filters; start again without it")
            if not isinstance(values, dict) or values.keys() != expected:
                raise ValueError("not this sort's position")
            position.update({key: KEY_TYPES[key](value) for key, value in values.items()})
        except InvalidCursor:
            raise
        except (ValueError, TypeError, AttributeError, UnicodeError, binascii.Error) as error:
            raise InvalidCursor("the cursor is not one this list gave out; take it from a `Link` header") from error
        return position

    def cursor_after(self, row: Row) -> str:
        values = {key: value(row) for key, value in self.sort.keys.items()}
        values["after_id"] = row["id"]
        encoded = json.dumps([self.fingerprint(), values], default=_json_value, separators=(",", ":"))
        return base64.urlsafe_b64encode(encoded.encode()).rstrip(b"=").decode("ascii")

    def respond(
        self, key: str, rows: list[Row], offset: int, total: int | None = None
    ) -> tuple[dict[str, Any], int, dict[str, str]]:
        """The list response from the rows the query returned (at most `limit` + 1: one more means a next page)."""
        headers = {}
        if len(rows) > self.limit:
            rows = rows[: self.limit]
            query = {**self.filters, "limit": self.limit, "cursor": self.cursor_after(rows[-1])}
            if self.sort_name != "created":
                query["sort"] = self.sort_name
            headers["Link"] = next_link(self.path, query)
        if total is not None:
            headers[TOTAL_HEADER] = str(total)
        # wrapped as in the seed: `{"projects": [...], "offset": 0, "limit": 50}`
        return {key: [*rows], "offset": offset, "limit": self.limit}, 200, headers


def _json_value(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)  # a UUID


def next_link(path: str, query: Mapping[str, Any]) -> str:
    """An RFC 8288 Link header value naming the next page (a relative reference, with every filter kept; a list
    value repeats its parameter)."""
    kept = {key: value for key, value in query.items() if value not in (None, [], False)}
    return f'<{path}?{urlencode(kept, doseq=True)}>; rel="next"'
