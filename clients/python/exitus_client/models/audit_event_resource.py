from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.audit_event_resource_type import AuditEventResourceType

T = TypeVar("T", bound="AuditEventResource")


@_attrs_define
class AuditEventResource:
    """The changed resource, and its parents (`project_id` of an issue or comment, `issue_id` of a comment).

    Attributes:
        type_ (AuditEventResourceType):
        id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        project_id (None | UUID): An id, or null.
        issue_id (None | UUID): An id, or null.
    """

    type_: AuditEventResourceType
    id: UUID
    project_id: None | UUID
    issue_id: None | UUID
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_.value

        id = str(self.id)

        project_id: None | str
        if isinstance(self.project_id, UUID):
            project_id = str(self.project_id)
        else:
            project_id = self.project_id

        issue_id: None | str
        if isinstance(self.issue_id, UUID):
            issue_id = str(self.issue_id)
        else:
            issue_id = self.issue_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "id": id,
                "project_id": project_id,
                "issue_id": issue_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        type_ = AuditEventResourceType(d.pop("type"))

        id = UUID(d.pop("id"))

        def _parse_project_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                componentsschemas_nullable_id_type_0 = UUID(data)

                return componentsschemas_nullable_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        project_id = _parse_project_id(d.pop("project_id"))

        def _parse_issue_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                componentsschemas_nullable_id_type_0 = UUID(data)

                return componentsschemas_nullable_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        issue_id = _parse_issue_id(d.pop("issue_id"))

        audit_event_resource = cls(
            type_=type_,
            id=id,
            project_id=project_id,
            issue_id=issue_id,
        )

        audit_event_resource.additional_properties = d
        return audit_event_resource

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
