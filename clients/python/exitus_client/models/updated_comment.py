from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="UpdatedComment")


@_attrs_define
class UpdatedComment:
    """
    Example:
        {'content': 'I see it too, on Safari 17.2 and 17.3 (not on 16).', 'version': 1}

    Attributes:
        content (str):
        version (int): The version this update is based on (optimistic concurrency).
    """

    content: str
    version: int

    def to_dict(self) -> dict[str, Any]:
        content = self.content

        version = self.version

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "content": content,
                "version": version,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        content = d.pop("content")

        version = d.pop("version")

        updated_comment = cls(
            content=content,
            version=version,
        )

        return updated_comment
