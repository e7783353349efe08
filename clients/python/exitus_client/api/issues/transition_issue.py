from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ...client import AuthenticatedClient, Client
from ...models.issue import Issue
from ...models.issue_transition import IssueTransition
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    project_id: UUID,
    id: UUID,
    *,
    body: IssueTransition,
    idempotency_key: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    if not isinstance(if_match, Unset):
        headers["If-Match"] = if_match

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/projects/{project_id}/issues/{id}/transitions".format(
            project_id=quote(str(project_id), safe=""),
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Issue | Problem:
    if response.status_code == 200:
        response_200 = Issue.from_dict(response.json())

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

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 412:
        response_412 = Problem.from_dict(response.json())

        return response_412

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Issue | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    project_id: UUID,
    id: UUID,
    *,
    client: AuthenticatedClient,
    body: IssueTransition,
    idempotency_key: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> Response[Issue | Problem]:
    """Move an issue along the workflow

     Moves the issue to `state` if the workflow allows it from the state the issue is in (see "Issues:
    numbers,
    workflow, votes" above), and with `comment` comments on it as the caller: both happen or neither. A
    move the
    workflow does not allow answers 409 (`type` `/problems/illegal-transition`, the allowed states in
    `allowed`).

    Args:
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        idempotency_key (str | Unset):
        if_match (str | Unset):
        body (IssueTransition):  Example: {'state': 'in_progress', 'comment': 'Looking into it.'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Issue | Problem]
    """

    kwargs = _get_kwargs(
        project_id=project_id,
        id=id,
        body=body,
        idempotency_key=idempotency_key,
        if_match=if_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    project_id: UUID,
    id: UUID,
    *,
    client: AuthenticatedClient,
    body: IssueTransition,
    idempotency_key: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> Issue | Problem | None:
    """Move an issue along the workflow

     Moves the issue to `state` if the workflow allows it from the state the issue is in (see "Issues:
    numbers,
    workflow, votes" above), and with `comment` comments on it as the caller: both happen or neither. A
    move the
    workflow does not allow answers 409 (`type` `/problems/illegal-transition`, the allowed states in
    `allowed`).

    Args:
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        idempotency_key (str | Unset):
        if_match (str | Unset):
        body (IssueTransition):  Example: {'state': 'in_progress', 'comment': 'Looking into it.'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Issue | Problem
    """

    return sync_detailed(
        project_id=project_id,
        id=id,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
        if_match=if_match,
    ).parsed


async def asyncio_detailed(
    project_id: UUID,
    id: UUID,
    *,
    client: AuthenticatedClient,
    body: IssueTransition,
    idempotency_key: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> Response[Issue | Problem]:
    """Move an issue along the workflow

     Moves the issue to `state` if the workflow allows it from the state the issue is in (see "Issues:
    numbers,
    workflow, votes" above), and with `comment` comments on it as the caller: both happen or neither. A
    move the
    workflow does not allow answers 409 (`type` `/problems/illegal-transition`, the allowed states in
    `allowed`).

    Args:
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        idempotency_key (str | Unset):
        if_match (str | Unset):
        body (IssueTransition):  Example: {'state': 'in_progress', 'comment': 'Looking into it.'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Issue | Problem]
    """

    kwargs = _get_kwargs(
        project_id=project_id,
        id=id,
        body=body,
        idempotency_key=idempotency_key,
        if_match=if_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    project_id: UUID,
    id: UUID,
    *,
    client: AuthenticatedClient,
    body: IssueTransition,
    idempotency_key: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> Issue | Problem | None:
    """Move an issue along the workflow

     Moves the issue to `state` if the workflow allows it from the state the issue is in (see "Issues:
    numbers,
    workflow, votes" above), and with `comment` comments on it as the caller: both happen or neither. A
    move the
    workflow does not allow answers 409 (`type` `/problems/illegal-transition`, the allowed states in
    `allowed`).

    Args:
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        idempotency_key (str | Unset):
        if_match (str | Unset):
        body (IssueTransition):  Example: {'state': 'in_progress', 'comment': 'Looking into it.'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Issue | Problem
    """

    return (
        await asyncio_detailed(
            project_id=project_id,
            id=id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
            if_match=if_match,
        )
    ).parsed
