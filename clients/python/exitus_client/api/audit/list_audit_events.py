import datetime
from http import HTTPStatus
from typing import Any
from uuid import UUID

import httpx

from ...client import AuthenticatedClient, Client
from ...models.audit_action import AuditAction
from ...models.audit_event_list import AuditEventList
from ...models.list_audit_events_resource_type import ListAuditEventsResourceType
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    customer_id: UUID | Unset = UNSET,
    resource_type: ListAuditEventsResourceType | Unset = UNSET,
    resource_id: UUID | Unset = UNSET,
    actor: str | Unset = UNSET,
    action: AuditAction | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    cursor: str | Unset = UNSET,
    limit: int | Unset = 50,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_customer_id: str | Unset = UNSET
    if not isinstance(customer_id, Unset):
        json_customer_id = str(customer_id)
    params["customer_id"] = json_customer_id

    json_resource_type: str | Unset = UNSET
    if not isinstance(resource_type, Unset):
        json_resource_type = resource_type.value

    params["resource_type"] = json_resource_type

    json_resource_id: str | Unset = UNSET
    if not isinstance(resource_id, Unset):
        json_resource_id = str(resource_id)
    params["resource_id"] = json_resource_id

    params["actor"] = actor

    json_action: str | Unset = UNSET
    if not isinstance(action, Unset):
        json_action = action.value

    params["action"] = json_action

    json_since: str | Unset = UNSET
    if not isinstance(since, Unset):
        json_since = since.isoformat()
    params["since"] = json_since

    json_until: str | Unset = UNSET
    if not isinstance(until, Unset):
        json_until = until.isoformat()
    params["until"] = json_until

    params["cursor"] = cursor

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/audit-events",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> AuditEventList | Problem:
    if response.status_code == 200:
        response_200 = AuditEventList.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[AuditEventList | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    customer_id: UUID | Unset = UNSET,
    resource_type: ListAuditEventsResourceType | Unset = UNSET,
    resource_id: UUID | Unset = UNSET,
    actor: str | Unset = UNSET,
    action: AuditAction | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    cursor: str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[AuditEventList | Problem]:
    """List audit events

     The audit events of the caller's customer, newest first, filtered, keyset-paged: a full page carries
    a
    `Link: <...>; rel="next"` header (RFC 8288) to the next one. With `Accept: application/x-ndjson`,
    every
    matching event (all pages), one JSON document a line, streamed (chunked, no `Content-Length`) in
    batches
    each read in a short transaction of its own. The export is the trail as of its first batch:
    complete, in
    order, each event once; events appended after the export began are absent (export again, or page
    with
    `since`, for those). A response cut short by a failure midway ends without its final chunk, so a
    client
    sees it as incomplete, never as a shorter export. Administrators (`exitus/customer.admin`) may name
    any
    customer with `customer_id`; others may name only their own (else 403).

    Args:
        customer_id (UUID | Unset):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        resource_type (ListAuditEventsResourceType | Unset):
        resource_id (UUID | Unset):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        actor (str | Unset):
        action (AuditAction | Unset): `<resource type>.<what happened>`. An issue update that
            changes its state is `issue.state_changed`; one
            that changes its assignee (and not its state) `issue.assignee_changed`; any other
            `issue.updated`. In each
            case `changes` lists every field the update changed. A vote is `issue.voted` and its
            withdrawal
            `issue.vote_withdrawn`, with the issue's `votes` before and after; the actor is the voter.
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):
        cursor (str | Unset):
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AuditEventList | Problem]
    """

    kwargs = _get_kwargs(
        customer_id=customer_id,
        resource_type=resource_type,
        resource_id=resource_id,
        actor=actor,
        action=action,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    customer_id: UUID | Unset = UNSET,
    resource_type: ListAuditEventsResourceType | Unset = UNSET,
    resource_id: UUID | Unset = UNSET,
    actor: str | Unset = UNSET,
    action: AuditAction | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    cursor: str | Unset = UNSET,
    limit: int | Unset = 50,
) -> AuditEventList | Problem | None:
    """List audit events

     The audit events of the caller's customer, newest first, filtered, keyset-paged: a full page carries
    a
    `Link: <...>; rel="next"` header (RFC 8288) to the next one. With `Accept: application/x-ndjson`,
    every
    matching event (all pages), one JSON document a line, streamed (chunked, no `Content-Length`) in
    batches
    each read in a short transaction of its own. The export is the trail as of its first batch:
    complete, in
    order, each event once; events appended after the export began are absent (export again, or page
    with
    `since`, for those). A response cut short by a failure midway ends without its final chunk, so a
    client
    sees it as incomplete, never as a shorter export. Administrators (`exitus/customer.admin`) may name
    any
    customer with `customer_id`; others may name only their own (else 403).

    Args:
        customer_id (UUID | Unset):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        resource_type (ListAuditEventsResourceType | Unset):
        resource_id (UUID | Unset):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        actor (str | Unset):
        action (AuditAction | Unset): `<resource type>.<what happened>`. An issue update that
            changes its state is `issue.state_changed`; one
            that changes its assignee (and not its state) `issue.assignee_changed`; any other
            `issue.updated`. In each
            case `changes` lists every field the update changed. A vote is `issue.voted` and its
            withdrawal
            `issue.vote_withdrawn`, with the issue's `votes` before and after; the actor is the voter.
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):
        cursor (str | Unset):
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AuditEventList | Problem
    """

    return sync_detailed(
        client=client,
        customer_id=customer_id,
        resource_type=resource_type,
        resource_id=resource_id,
        actor=actor,
        action=action,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    customer_id: UUID | Unset = UNSET,
    resource_type: ListAuditEventsResourceType | Unset = UNSET,
    resource_id: UUID | Unset = UNSET,
    actor: str | Unset = UNSET,
    action: AuditAction | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    cursor: str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[AuditEventList | Problem]:
    """List audit events

     The audit events of the caller's customer, newest first, filtered, keyset-paged: a full page carries
    a
    `Link: <...>; rel="next"` header (RFC 8288) to the next one. With `Accept: application/x-ndjson`,
    every
    matching event (all pages), one JSON document a line, streamed (chunked, no `Content-Length`) in
    batches
    each read in a short transaction of its own. The export is the trail as of its first batch:
    complete, in
    order, each event once; events appended after the export began are absent (export again, or page
    with
    `since`, for those). A response cut short by a failure midway ends without its final chunk, so a
    client
    sees it as incomplete, never as a shorter export. Administrators (`exitus/customer.admin`) may name
    any
    customer with `customer_id`; others may name only their own (else 403).

    Args:
        customer_id (UUID | Unset):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        resource_type (ListAuditEventsResourceType | Unset):
        resource_id (UUID | Unset):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        actor (str | Unset):
        action (AuditAction | Unset): `<resource type>.<what happened>`. An issue update that
            changes its state is `issue.state_changed`; one
            that changes its assignee (and not its state) `issue.assignee_changed`; any other
            `issue.updated`. In each
            case `changes` lists every field the update changed. A vote is `issue.voted` and its
            withdrawal
            `issue.vote_withdrawn`, with the issue's `votes` before and after; the actor is the voter.
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):
        cursor (str | Unset):
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AuditEventList | Problem]
    """

    kwargs = _get_kwargs(
        customer_id=customer_id,
        resource_type=resource_type,
        resource_id=resource_id,
        actor=actor,
        action=action,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    customer_id: UUID | Unset = UNSET,
    resource_type: ListAuditEventsResourceType | Unset = UNSET,
    resource_id: UUID | Unset = UNSET,
    actor: str | Unset = UNSET,
    action: AuditAction | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    cursor: str | Unset = UNSET,
    limit: int | Unset = 50,
) -> AuditEventList | Problem | None:
    """List audit events

     The audit events of the caller's customer, newest first, filtered, keyset-paged: a full page carries
    a
    `Link: <...>; rel="next"` header (RFC 8288) to the next one. With `Accept: application/x-ndjson`,
    every
    matching event (all pages), one JSON document a line, streamed (chunked, no `Content-Length`) in
    batches
    each read in a short transaction of its own. The export is the trail as of its first batch:
    complete, in
    order, each event once; events appended after the export began are absent (export again, or page
    with
    `since`, for those). A response cut short by a failure midway ends without its final chunk, so a
    client
    sees it as incomplete, never as a shorter export. Administrators (`exitus/customer.admin`) may name
    any
    customer with `customer_id`; others may name only their own (else 403).

    Args:
        customer_id (UUID | Unset):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        resource_type (ListAuditEventsResourceType | Unset):
        resource_id (UUID | Unset):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        actor (str | Unset):
        action (AuditAction | Unset): `<resource type>.<what happened>`. An issue update that
            changes its state is `issue.state_changed`; one
            that changes its assignee (and not its state) `issue.assignee_changed`; any other
            `issue.updated`. In each
            case `changes` lists every field the update changed. A vote is `issue.voted` and its
            withdrawal
            `issue.vote_withdrawn`, with the issue's `votes` before and after; the actor is the voter.
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):
        cursor (str | Unset):
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AuditEventList | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            customer_id=customer_id,
            resource_type=resource_type,
            resource_id=resource_id,
            actor=actor,
            action=action,
            since=since,
            until=until,
            cursor=cursor,
            limit=limit,
        )
    ).parsed
