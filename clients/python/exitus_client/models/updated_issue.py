from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.category import Category
from ..models.severity import Severity
from ..models.state import State
from ..types import UNSET, Unset

T = TypeVar("T", bound="UpdatedIssue")


@_attrs_define
class UpdatedIssue:
    """
    Example:
        {'subject': 'Login button does nothing on Safari', 'content': 'Steps to reproduce: open /login in Safari 17,
            click "Log in". Nothing happens; no request is sent.', 'severity': 'critical', 'category': 'bug', 'labels':
            ['frontend', 'safari'], 'assignee': None, 'state': 'closed', 'version': 1}

    Attributes:
        subject (str): A one-line summary. Must contain a non-space character.
        content (str):
        severity (Severity):
        category (Category):
        labels (list[str]):
        version (int): The version this update is based on (optimistic concurrency).
        assignee (None | Unset | UUID): A user id of the same customer (see /v1/users), or null; an id that names no
            user of the caller's customer
            answers 409. In an issue update, null or omitted unassigns.
        state (State | Unset): The issue's place in the workflow: open → in_progress | closed; in_progress → resolved |
            open;
            resolved → closed | open; closed → open.
    """

    subject: str
    content: str
    severity: Severity
    category: Category
    labels: list[str]
    version: int
    assignee: None | Unset | UUID = UNSET
    state: State | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        subject = self.subject

        content = self.content

        severity = self.severity.value

        category = self.category.value

        labels = self.labels

        version = self.version

        assignee: None | str | Unset
        if isinstance(self.assignee, Unset):
            assignee = UNSET
        elif isinstance(self.assignee, UUID):
            assignee = str(self.assignee)
        else:
            assignee = self.assignee

        state: str | Unset = UNSET
        if not isinstance(self.state, Unset):
            state = self.state.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "subject": subject,
                "content": content,
                "severity": severity,
                "category": category,
                "labels": labels,
                "version": version,
            }
        )
        if assignee is not UNSET:
            field_dict["assignee"] = assignee
        if state is not UNSET:
            field_dict["state"] = state

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        subject = d.pop("subject")

        content = d.pop("content")

        severity = Severity(d.pop("severity"))

        category = Category(d.pop("category"))

        labels = cast(list[str], d.pop("labels"))

        version = d.pop("version")

        def _parse_assignee(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                componentsschemas_nullable_uuid_type_0 = UUID(data)

                return componentsschemas_nullable_uuid_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        assignee = _parse_assignee(d.pop("assignee", UNSET))

        _state = d.pop("state", UNSET)
        state: State | Unset
        if isinstance(_state, Unset):
            state = UNSET
        else:
            state = State(_state)

        updated_issue = cls(
            subject=subject,
            content=content,
            severity=severity,
            category=category,
            labels=labels,
            version=version,
            assignee=assignee,
            state=state,
        )

        return updated_issue
