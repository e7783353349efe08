from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="NewProject")


@_attrs_define
class NewProject:
    """
    Example:
        {'name': 'Website redesign', 'description': "The public site's new look, launching in spring.", 'labels':
            ['web', 'q2']}

    Attributes:
        name (str): Unique per customer, compared case-insensitively. Must contain a non-space character.
        labels (list[str]):
        description (str | Unset):
    """

    name: str
    labels: list[str]
    description: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        labels = self.labels

        description = self.description

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "labels": labels,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        labels = cast(list[str], d.pop("labels"))

        description = d.pop("description", UNSET)

        new_project = cls(
            name=name,
            labels=labels,
            description=description,
        )

        return new_project
