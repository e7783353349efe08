from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.category import Category
from ..models.severity import Severity
from ..models.state import State

if TYPE_CHECKING:
    from ..models.nullable_user_summary_type_0 import NullableUserSummaryType0
    from ..models.user_summary import UserSummary


T = TypeVar("T", bound="Issue")


@_attrs_define
class Issue:
    """
    Example:
        {'id': '5c0a7d2e-3f4b-4c5d-9e6f-7a8b9c0d1e2f', 'project_id': '1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a', 'number':
            42, 'subject': 'Login button does nothing on Safari', 'content': 'Steps to reproduce: open /login in Safari 17,
            click "Log in". Nothing happens; no request is sent.', 'severity': 'high', 'category': 'bug', 'labels':
            ['frontend', 'safari'], 'state': 'open', 'reporter': {'id': '9b2e4f7a-1c3d-4e5f-8a9b-0c1d2e3f4a5b', 'name': 'Ada
            Lovelace', 'email': 'ada@example.com'}, 'assignee': None, 'votes': 3, 'voted': False, 'version': 1,
            'created_at': '2025-01-31T09:14:03.512044Z', 'updated_at': '2025-01-31T09:14:03.512044Z'}

    Attributes:
        id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        number (int): The issue's number in its project, counted from 1 as issues are created, without gaps or repeats.
        subject (str):
        content (str):
        severity (Severity):
        category (Category):
        labels (list[str]):
        state (State): The issue's place in the workflow: open → in_progress | closed; in_progress → resolved | open;
            resolved → closed | open; closed → open.
        reporter (UserSummary): A user as issues and comments name them (`GET /v1/users/{id}` has the rest).
        assignee (None | NullableUserSummaryType0): A user as issues name them, or null (an unassigned issue).
        votes (int): How many users voted for the issue.
        voted (bool): Whether the caller voted for the issue.
        version (int):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
    """

    id: UUID
    project_id: UUID
    number: int
    subject: str
    content: str
    severity: Severity
    category: Category
    labels: list[str]
    state: State
    reporter: UserSummary
    assignee: None | NullableUserSummaryType0
    votes: int
    voted: bool
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.nullable_user_summary_type_0 import NullableUserSummaryType0  # noqa: PLC0415

        id = str(self.id)

        project_id = str(self.project_id)

        number = self.number

        subject = self.subject

        content = self.content

        severity = self.severity.value

        category = self.category.value

        labels = self.labels

        state = self.state.value

        reporter = self.reporter.to_dict()

        assignee: dict[str, Any] | None
        if isinstance(self.assignee, NullableUserSummaryType0):
            assignee = self.assignee.to_dict()
        else:
            assignee = self.assignee

        votes = self.votes

        voted = self.voted

        version = self.version

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "project_id": project_id,
                "number": number,
                "subject": subject,
                "content": content,
                "severity": severity,
                "category": category,
                "labels": labels,
                "state": state,
                "reporter": reporter,
                "assignee": assignee,
                "votes": votes,
                "voted": voted,
                "version": version,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.nullable_user_summary_type_0 import NullableUserSummaryType0  # noqa: PLC0415
        from ..models.user_summary import UserSummary  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        project_id = UUID(d.pop("project_id"))

        number = d.pop("number")

        subject = d.pop("subject")

        content = d.pop("content")

        severity = Severity(d.pop("severity"))

        category = Category(d.pop("category"))

        labels = cast(list[str], d.pop("labels"))

        state = State(d.pop("state"))

        reporter = UserSummary.from_dict(d.pop("reporter"))

        def _parse_assignee(data: object) -> None | NullableUserSummaryType0:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_nullable_user_summary_type_0 = NullableUserSummaryType0.from_dict(data)

                return componentsschemas_nullable_user_summary_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | NullableUserSummaryType0, data)

        assignee = _parse_assignee(d.pop("assignee"))

        votes = d.pop("votes")

        voted = d.pop("voted")

        version = d.pop("version")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        issue = cls(
            id=id,
            project_id=project_id,
            number=number,
            subject=subject,
            content=content,
            severity=severity,
            category=category,
            labels=labels,
            state=state,
            reporter=reporter,
            assignee=assignee,
            votes=votes,
            voted=voted,
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
