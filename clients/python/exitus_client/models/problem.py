from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.state import State
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.invalid_value import InvalidValue


T = TypeVar("T", bound="Problem")


@_attrs_define
class Problem:
    """RFC 9457 problem details. `type` tells failures apart; `title` is the same for every problem of a type; `detail`
    says what happened to this request (English, for people; do not parse it). Types may gain extension members, and new
    types may appear: treat an unknown one by its `status`.

        Attributes:
            type_ (str): A URI reference (RFC 9457 §3.1.1) identifying the problem type, resolved against the request's URL:
                `/problems/<slug>`, whose documentation `GET /problems/<slug>` serves (`about:blank` when only the status
                matters). The known types:

                | `type` | status | title: what a client should do |
                | --- | --- | --- |
                | `/problems/validation` | 400 | The request breaks the API's schema: A parameter or a body member is missing,
                of the wrong type or outside its limits. `errors` lists each (`pointer`: the body member as an RFC 6901 JSON
                pointer, or `parameter`: its name; `message`). Fix the request; do not retry it unchanged. Nothing was changed.
                |
                | `/problems/malformed-body` | 400 | The request body is not acceptable JSON: The body is not UTF-8, not valid
                JSON, nested too deeply, has a number out of range or a lone surrogate escape. Send well-formed UTF-8 JSON; do
                not retry unchanged. Nothing was changed. |
                | `/problems/malformed-request` | 400 | The request is malformed: The request itself is malformed (control
                characters in its path, more than one Content-Type, a broken head). Fix the client; do not retry unchanged. |
                | `/problems/invalid-cursor` | 400 | The page cursor is not valid: The `cursor` is not one this service handed
                out for this list (or no longer valid). Start again from the first page without a cursor. |
                | `/problems/missing-token` | 401 | A bearer token is required: The request carries no `Authorization: Bearer
                <token>`. Get an access token from the OpenID provider and send it. |
                | `/problems/invalid-token` | 401 | The bearer token is not valid: The token is expired, malformed, signed with
                an unknown key or not issued for this service (the `WWW-Authenticate` header says which). Get a new token, then
                retry. |
                | `/problems/insufficient-scope` | 403 | The token lacks a required scope: `required_scopes` lists the scopes
                this operation needs. Ask for a token with them; retrying with the same token fails again. |
                | `/problems/tenant-required` | 403 | The token names no customer: Tenant resources need a token whose tenant
                claim names the caller's customer. Use a token issued for a user of a customer. |
                | `/problems/forbidden` | 403 | The caller may not do this: The caller's role does not allow this change (e.g.
                only platform administrators rename a customer). Do not retry with the same token. |
                | `/problems/not-found` | 404 | No such resource: No such path, or no such resource for the caller's customer
                (other customers' ids also answer this). Check the ids; do not retry. |
                | `/problems/method-not-allowed` | 405 | The path does not allow this method: The `Allow` header lists the
                methods the path has. |
                | `/problems/request-timeout` | 408 | The request did not arrive in time: The request head or body did not
                arrive whole within the server's deadline; the connection was closed. Retry on a new connection, sending the
                request promptly. |
                | `/problems/version-conflict` | 409 | The resource was changed since the version sent: The `version` sent is
                stale: someone changed the resource since it was read. `current_version` is the version now. Read the resource
                again, reapply the change, and send it with the new version. Nothing was changed. |
                | `/problems/duplicate-name` | 409 | The name is taken: Another resource of the same kind already has this name
                (project names are unique per customer, customer names overall). Choose another name. Nothing was changed. |
                | `/problems/unknown-assignee` | 409 | The assignee is not a user of this customer: Users of a customer appear
                with their first request. Assign someone who has used the service (see `GET /v1/users`), or retry once the
                person has. Nothing was changed. |
                | `/problems/illegal-transition` | 409 | The issue cannot move to this state: The issue's workflow does not
                allow this transition from its current state; `allowed` lists the states it can move to. Choose one of them.
                Nothing was changed. |
                | `/problems/idempotency-key-in-flight` | 409 | A request with this idempotency key is still in progress:
                Another request with the same `Idempotency-Key` has not finished yet. Wait and retry with the same key to get
                its outcome. |
                | `/problems/precondition-failed` | 412 | The resource does not match If-Match: The resource changed since the
                ETag sent in `If-Match`. Read it again (for its new ETag), reapply the change, and retry. Nothing was changed. |
                | `/problems/payload-too-large` | 413 | The request body is too large: The body is larger than the server
                accepts (`MAX_BODY_BYTES`, 1 MiB by default); it was not read and the connection was closed. Send a smaller
                body. |
                | `/problems/unsupported-media-type` | 415 | The request body's media type is not accepted: Bodies are JSON in
                UTF-8: send `Content-Type: application/json` (without another charset). |
                | `/problems/idempotency-key-reused` | 422 | The idempotency key was used for another request: This
                `Idempotency-Key` was already used with a different request. Use a new key for a new request. |
                | `/problems/headers-too-large` | 431 | The request head is too large: The request head is larger, or has more
                fields, than the server accepts; the connection was closed. Send fewer or smaller headers (a token that is too
                large is refused the same way). |
                | `/problems/internal-error` | 500 | Internal server error: An unexpected error; it has been logged with the
                `request_id`. Retrying may help; report it with the `request_id` if it persists. |
                | `/problems/overloaded` | 503 | The server is at its concurrency limit: Too many requests are in progress on
                this server. Retry after the `Retry-After` seconds, with backoff. Nothing was changed. |
                | `/problems/unavailable` | 503 | The service is unavailable: The database is unreachable or its connections are
                all busy, the server is shutting down, or migrations are pending. Retry after the `Retry-After` seconds. Nothing
                was changed. | Example: /problems/version-conflict.
            title (str):
            status (int):
            detail (str | Unset):
            instance (str | Unset):
            request_id (str | Unset):
            current_version (int | Unset): `version-conflict`: the resource's version now (read it again to get its
                content).
            errors (list[InvalidValue] | Unset): `validation`: each invalid value (at most 20).
            required_scopes (list[str] | Unset): `insufficient-scope`: the scopes the operation needs.
            allowed (list[State] | Unset): For `/problems/illegal-transition`: the states the issue may move to from its
                current state.
            state (State | Unset): The issue's place in the workflow: open → in_progress | closed; in_progress → resolved |
                open;
                resolved → closed | open; closed → open.
    """

    type_: str
    title: str
    status: int
    detail: str | Unset = UNSET
    instance: str | Unset = UNSET
    request_id: str | Unset = UNSET
    current_version: int | Unset = UNSET
    errors: list[InvalidValue] | Unset = UNSET
    required_scopes: list[str] | Unset = UNSET
    allowed: list[State] | Unset = UNSET
    state: State | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        title = self.title

        status = self.status

        detail = self.detail

        instance = self.instance

        request_id = self.request_id

        current_version = self.current_version

        errors: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.errors, Unset):
            errors = []
            for errors_item_data in self.errors:
                errors_item = errors_item_data.to_dict()
                errors.append(errors_item)

        required_scopes: list[str] | Unset = UNSET
        if not isinstance(self.required_scopes, Unset):
            required_scopes = self.required_scopes

        allowed: list[str] | Unset = UNSET
        if not isinstance(self.allowed, Unset):
            allowed = []
            for allowed_item_data in self.allowed:
                allowed_item = allowed_item_data.value
                allowed.append(allowed_item)

        state: str | Unset = UNSET
        if not isinstance(self.state, Unset):
            state = self.state.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "title": title,
                "status": status,
            }
        )
        if detail is not UNSET:
            field_dict["detail"] = detail
        if instance is not UNSET:
            field_dict["instance"] = instance
        if request_id is not UNSET:
            field_dict["request_id"] = request_id
        if current_version is not UNSET:
            field_dict["current_version"] = current_version
        if errors is not UNSET:
            field_dict["errors"] = errors
        if required_scopes is not UNSET:
            field_dict["required_scopes"] = required_scopes
        if allowed is not UNSET:
            field_dict["allowed"] = allowed
        if state is not UNSET:
            field_dict["state"] = state

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.invalid_value import InvalidValue  # noqa: PLC0415

        d = dict(src_dict)
        type_ = d.pop("type")

        title = d.pop("title")

        status = d.pop("status")

        detail = d.pop("detail", UNSET)

        instance = d.pop("instance", UNSET)

        request_id = d.pop("request_id", UNSET)

        current_version = d.pop("current_version", UNSET)

        _errors = d.pop("errors", UNSET)
        errors: list[InvalidValue] | Unset = UNSET
        if _errors is not UNSET:
            errors = []
            for errors_item_data in _errors:
                errors_item = InvalidValue.from_dict(errors_item_data)

                errors.append(errors_item)

        required_scopes = cast(list[str], d.pop("required_scopes", UNSET))

        _allowed = d.pop("allowed", UNSET)
        allowed: list[State] | Unset = UNSET
        if _allowed is not UNSET:
            allowed = []
            for allowed_item_data in _allowed:
                allowed_item = State(allowed_item_data)

                allowed.append(allowed_item)

        _state = d.pop("state", UNSET)
        state: State | Unset
        if isinstance(_state, Unset):
            state = UNSET
        else:
            state = State(_state)

        problem = cls(
            type_=type_,
            title=title,
            status=status,
            detail=detail,
            instance=instance,
            request_id=request_id,
            current_version=current_version,
            errors=errors,
            required_scopes=required_scopes,
            allowed=allowed,
            state=state,
        )

        problem.additional_properties = d
        return problem

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
