from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.category import Category
from ..models.severity import Severity
from ..models.state import State

T = TypeVar("T", bound="Issue")


@_attrs_define
class Issue:
    """
    Attributes:
        id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        subject (str):
        content (str):
        severity (Severity):
        category (Category):
        labels (list[str]):
        state (State):
        reporter (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        assignee (None | UUID): A user id of the same customer (see /v1/users), or null; an id that names no user of the
            caller's customer
            answers 409. In an issue update, null or omitted unassigns.
        version (int):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
    """

    id: UUID
    project_id: UUID
    subject: str
    content: str
    severity: Severity
    category: Category
    labels: list[str]
    state: State
    reporter: UUID
    assignee: None | UUID
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        project_id = str(self.project_id)

        subject = self.subject

        content = self.content

        severity = self.severity.value

        category = self.category.value

        labels = self.labels

        state = self.state.value

        reporter = str(self.reporter)

        assignee: None | str
        if isinstance(self.assignee, UUID):
            assignee = str(self.assignee)
        else:
            assignee = self.assignee

        version = self.version

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "project_id": project_id,
                "subject": subject,
                "content": content,
                "severity": severity,
                "category": category,
                "labels": labels,
                "state": state,
                "reporter": reporter,
                "assignee": assignee,
                "version": version,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        project_id = UUID(d.pop("project_id"))

        subject = d.pop("subject")

        content = d.pop("content")

        severity = Severity(d.pop("severity"))

        category = Category(d.pop("category"))

        labels = cast(list[str], d.pop("labels"))

        state = State(d.pop("state"))

        reporter = UUID(d.pop("reporter"))

        def _parse_assignee(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                componentsschemas_nullable_uuid_type_0 = UUID(data)

                return componentsschemas_nullable_uuid_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        assignee = _parse_assignee(d.pop("assignee"))

        version = d.pop("version")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        issue = cls(
            id=id,
            project_id=project_id,
            subject=subject,
            content=content,
            severity=severity,
            category=category,
            labels=labels,
            state=state,
            reporter=reporter,
            assignee=assignee,
            version=version,
            created_at=created_at,
            updated_at=updated_at,
        )

        issue.additional_properties = d
        return issue

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
