from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.audit_verification_first_broken import AuditVerificationFirstBroken


T = TypeVar("T", bound="AuditVerification")


@_attrs_define
class AuditVerification:
    """
    Example:
        {'ok': True, 'verified': 7, 'last_hash': 'a37a473355fd5a5de2d0345b363418354e829c4e24a9e42c981497d9cae36b36'}

    Attributes:
        ok (bool):
        verified (int): How many events verified, from sequence 1.
        last_hash (None | str | Unset): The hash of the last event verified (when ok), to keep elsewhere.
        first_broken (AuditVerificationFirstBroken | Unset):
    """

    ok: bool
    verified: int
    last_hash: None | str | Unset = UNSET
    first_broken: AuditVerificationFirstBroken | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        ok = self.ok

        verified = self.verified

        last_hash: None | str | Unset
        if isinstance(self.last_hash, Unset):
            last_hash = UNSET
        else:
            last_hash = self.last_hash

        first_broken: dict[str, Any] | Unset = UNSET
        if not isinstance(self.first_broken, Unset):
            first_broken = self.first_broken.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "ok": ok,
                "verified": verified,
            }
        )
        if last_hash is not UNSET:
            field_dict["last_hash"] = last_hash
        if first_broken is not UNSET:
            field_dict["first_broken"] = first_broken

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.audit_verification_first_broken import AuditVerificationFirstBroken  # noqa: PLC0415

        d = dict(src_dict)
        ok = d.pop("ok")

        verified = d.pop("verified")

        def _parse_last_hash(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        last_hash = _parse_last_hash(d.pop("last_hash", UNSET))

        _first_broken = d.pop("first_broken", UNSET)
        first_broken: AuditVerificationFirstBroken | Unset
        if isinstance(_first_broken, Unset):
            first_broken = UNSET
        else:
            first_broken = AuditVerificationFirstBroken.from_dict(_first_broken)

        audit_verification = cls(
            ok=ok,
            verified=verified,
            last_hash=last_hash,
            first_broken=first_broken,
        )

        audit_verification.additional_properties = d
        return audit_verification

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
