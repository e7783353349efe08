from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ProblemType")


@_attrs_define
class ProblemType:
    """A problem type's documentation, from the catalogue.

    Example:
        {'type': '/problems/version-conflict', 'title': 'The resource was changed since the version sent', 'status':
            409, 'description': 'The `version` sent is stale: someone changed the resource since it was read.
            `current_version` is the version now. Read the resource again, reapply the change, and send it with the new
            version. Nothing was changed.'}

    Attributes:
        type_ (str): The `type` of problems of this kind. Example: /problems/version-conflict.
        title (str):  Example: The resource was changed since the version sent.
        status (int): The HTTP status problems of this type have. Example: 409.
        description (str): When it happens and what a client should do.
    """

    type_: str
    title: str
    status: int
    description: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        title = self.title

        status = self.status

        description = self.description

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "title": title,
                "status": status,
                "description": description,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        type_ = d.pop("type")

        title = d.pop("title")

        status = d.pop("status")

        description = d.pop("description")

        problem_type = cls(
            type_=type_,
            title=title,
            status=status,
            description=description,
        )

        problem_type.additional_properties = d
        return problem_type

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
