from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.state import State
from ..types import UNSET, Unset

T = TypeVar("T", bound="IssueTransition")


@_attrs_define
class IssueTransition:
    """
    Example:
        {'state': 'in_progress', 'comment': 'Looking into it.'}

    Attributes:
        state (State): The issue's place in the workflow: open → in_progress | closed; in_progress → resolved | open;
            resolved → closed | open; closed → open.
        comment (str | Unset):
    """

    state: State
    comment: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        state = self.state.value

        comment = self.comment

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "state": state,
            }
        )
        if comment is not UNSET:
            field_dict["comment"] = comment

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        state = State(d.pop("state"))

        comment = d.pop("comment", UNSET)

        issue_transition = cls(
            state=state,
            comment=comment,
        )

        return issue_transition
