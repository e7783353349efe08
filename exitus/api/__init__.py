"""Handlers: one module per entity, one function per `operationId` (`exitus.api.<entity>.<verb>`)."""

from collections.abc import Iterable
from typing import Any


def page(key: str, rows: Iterable[dict[str, Any]], offset: int, limit: int) -> dict[str, Any]:
    """A list response, wrapped as in the seed: `{"projects": [...], "offset": 0, "limit": 50}`."""
    return {key: [*rows], "offset": offset, "limit": limit}
