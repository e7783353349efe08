from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="UpdatedCustomer")


@_attrs_define
class UpdatedCustomer:
    """
    Example:
        {'name': 'Acme Corporation Ltd', 'description': 'Rockets, anvils and giant magnets.', 'labels': ['enterprise',
            'emea'], 'version': 1}

    Attributes:
        name (str): Unique per customer, compared case-insensitively. Must contain a non-space character.
        labels (list[str]):
        version (int): The version this update is based on (optimistic concurrency).
        description (str | Unset):
    """

    name: str
    labels: list[str]
    version: int
    description: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        labels = self.labels

        version = self.version

        description = self.description

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "labels": labels,
                "version": version,
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

        version = d.pop("version")

        description = d.pop("description", UNSET)

        updated_customer = cls(
            name=name,
            labels=labels,
            version=version,
            description=description,
        )

        return updated_customer
