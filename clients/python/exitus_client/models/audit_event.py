from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.audit_action import AuditAction

if TYPE_CHECKING:
    from ..models.audit_event_actor import AuditEventActor
    from ..models.audit_event_changes import AuditEventChanges
    from ..models.audit_event_resource import AuditEventResource


T = TypeVar("T", bound="AuditEvent")


@_attrs_define
class AuditEvent:
    """
    Attributes:
        id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        customer_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        sequence (int): Position in the customer's chain, from 1, without gaps.
        occurred_at (datetime.datetime): UTC, microseconds, `Z` (as hashed).
        actor (AuditEventActor): Who made the change: the token subject, and its user in this customer (null for an
            administrator who is
            none). Both null for a change made outside a request (e.g. by an operator in SQL).
        action (AuditAction): `<resource type>.<what happened>`. An issue update that changes its state is
            `issue.state_changed`; one
            that changes its assignee (and not its state) `issue.assignee_changed`; any other `issue.updated`. In each
            case `changes` lists every field the update changed. A vote is `issue.voted` and its withdrawal
            `issue.vote_withdrawn`, with the issue's `votes` before and after; the actor is the voter.
        resource (AuditEventResource): The changed resource, and its parents (`project_id` of an issue or comment,
            `issue_id` of a comment).
        changes (AuditEventChanges): Each changed field: `{"before": ..., "after": ...}` for updates (`version`
            included), `{"after": ...}`
            with every field for creations.
        request_id (None | str): The request's `X-Request-ID`.
        trace_id (None | str): The request's W3C trace id, when traced.
        client_ip (None | str): The socket's peer, or, when the peer is a trusted proxy (`TRUSTED_PROXIES`), the nearest
            untrusted
            `X-Forwarded-For` hop read from the right (the left-most one when all are trusted).
        user_agent (None | str):
        prev_hash (str):
        hash_ (str):
    """

    id: UUID
    customer_id: UUID
    sequence: int
    occurred_at: datetime.datetime
    actor: AuditEventActor
    action: AuditAction
    resource: AuditEventResource
    changes: AuditEventChanges
    request_id: None | str
    trace_id: None | str
    client_ip: None | str
    user_agent: None | str
    prev_hash: str
    hash_: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        customer_id = str(self.customer_id)

        sequence = self.sequence

        occurred_at = self.occurred_at.isoformat()

        actor = self.actor.to_dict()

        action = self.action.value

        resource = self.resource.to_dict()

        changes = self.changes.to_dict()

        request_id: None | str
        request_id = self.request_id

        trace_id: None | str
        trace_id = self.trace_id

        client_ip: None | str
        client_ip = self.client_ip

        user_agent: None | str
        user_agent = self.user_agent

        prev_hash = self.prev_hash

        hash_ = self.hash_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "customer_id": customer_id,
                "sequence": sequence,
                "occurred_at": occurred_at,
                "actor": actor,
                "action": action,
                "resource": resource,
                "changes": changes,
                "request_id": request_id,
                "trace_id": trace_id,
                "client_ip": client_ip,
                "user_agent": user_agent,
                "prev_hash": prev_hash,
                "hash": hash_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.audit_event_actor import AuditEventActor  # noqa: PLC0415
        from ..models.audit_event_changes import AuditEventChanges  # noqa: PLC0415
        from ..models.audit_event_resource import AuditEventResource  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        customer_id = UUID(d.pop("customer_id"))

        sequence = d.pop("sequence")

        occurred_at = datetime.datetime.fromisoformat(d.pop("occurred_at"))

        actor = AuditEventActor.from_dict(d.pop("actor"))

        action = AuditAction(d.pop("action"))

        resource = AuditEventResource.from_dict(d.pop("resource"))

        changes = AuditEventChanges.from_dict(d.pop("changes"))

        def _parse_request_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        request_id = _parse_request_id(d.pop("request_id"))

        def _parse_trace_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        trace_id = _parse_trace_id(d.pop("trace_id"))

        def _parse_client_ip(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        client_ip = _parse_client_ip(d.pop("client_ip"))

        def _parse_user_agent(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        user_agent = _parse_user_agent(d.pop("user_agent"))

        prev_hash = d.pop("prev_hash")

        hash_ = d.pop("hash")

        audit_event = cls(
            id=id,
            customer_id=customer_id,
            sequence=sequence,
            occurred_at=occurred_at,
            actor=actor,
            action=action,
            resource=resource,
            changes=changes,
            request_id=request_id,
            trace_id=trace_id,
            client_ip=client_ip,
            user_agent=user_agent,
            prev_hash=prev_hash,
            hash_=hash_,
        )

        audit_event.additional_properties = d
        return audit_event

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
