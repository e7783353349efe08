from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.user_summary import UserSummary


T = TypeVar("T", bound="Comment")


@_attrs_define
class Comment:
    """
    Example:
        {'id': '7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b', 'issue_id': '5c0a7d2e-3f4b-4c5d-9e6f-7a8b9c0d1e2f', 'content': 'I
            see it too, on Safari 17.2 and 17.3.', 'author': {'id': '9b2e4f7a-1c3d-4e5f-8a9b-0c1d2e3f4a5b', 'name': 'Ada
            Lovelace', 'email': 'ada@example.com'}, 'version': 1, 'created_at': '2025-01-31T09:14:03.512044Z', 'updated_at':
            '2025-01-31T09:14:03.512044Z'}

    Attributes:
        id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        issue_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        content (str):
        author (UserSummary): A user as issues and comments name them (`GET /v1/users/{id}` has the rest).
        version (int):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
    """

    id: UUID
    issue_id: UUID
    content: str
    author: UserSummary
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        issue_id = str(self.issue_id)

        content = self.content

        author = self.author.to_dict()

        version = self.version

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "issue_id": issue_id,
                "content": content,
                "author": author,
                "version": version,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.user_summary import UserSummary  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        issue_id = UUID(d.pop("issue_id"))

        content = d.pop("content")

        author = UserSummary.from_dict(d.pop("author"))

        version = d.pop("version")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        comment = cls(
            id=id,
            issue_id=issue_id,
            content=content,
            author=author,
            version=version,
            created_at=created_at,
            updated_at=updated_at,
        )

        comment.additional_properties = d
        return comment

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
