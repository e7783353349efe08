from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote
from uuid import UUID

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    project_id: UUID,
    id: UUID,
    *,
    if_match: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_match, Unset):
        headers["If-Match"] = if_match

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/v1/projects/{project_id}/issues/{id}/votes/me".format(
            project_id=quote(str(project_id), safe=""),
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | Problem:
    if response.status_code == 204:
        response_204 = cast(Any, None)
        return response_204

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

    if response.status_code == 412:
        response_412 = Problem.from_dict(response.json())

        return response_412

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | Problem]:
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
    if_match: str | Unset = UNSET,
) -> Response[Any | Problem]:
    """Vote for an issue

     Records the caller's vote for the issue; voting again changes nothing. 404 if the issue does not
    exist. With `If-Match`, only while the issue is at the version its tag names (412 otherwise),
    checked in the vote's transaction.

    Args:
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        if_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
    """

    kwargs = _get_kwargs(
        project_id=project_id,
        id=id,
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
    if_match: str | Unset = UNSET,
) -> Any | Problem | None:
    """Vote for an issue

     Records the caller's vote for the issue; voting again changes nothing. 404 if the issue does not
    exist. With `If-Match`, only while the issue is at the version its tag names (412 otherwise),
    checked in the vote's transaction.

    Args:
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        if_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
    """

    return sync_detailed(
        project_id=project_id,
        id=id,
        client=client,
        if_match=if_match,
    ).parsed


async def asyncio_detailed(
    project_id: UUID,
    id: UUID,
    *,
    client: AuthenticatedClient,
    if_match: str | Unset = UNSET,
) -> Response[Any | Problem]:
    """Vote for an issue

     Records the caller's vote for the issue; voting again changes nothing. 404 if the issue does not
    exist. With `If-Match`, only while the issue is at the version its tag names (412 otherwise),
    checked in the vote's transaction.

    Args:
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        if_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
    """

    kwargs = _get_kwargs(
        project_id=project_id,
        id=id,
        if_match=if_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    project_id: UUID,
    id: UUID,
    *,
    client: AuthenticatedClient,
    if_match: str | Unset = UNSET,
) -> Any | Problem | None:
    """Vote for an issue

     Records the caller's vote for the issue; voting again changes nothing. 404 if the issue does not
    exist. With `If-Match`, only while the issue is at the version its tag names (412 otherwise),
    checked in the vote's transaction.

    Args:
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        if_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
    """

    return (
        await asyncio_detailed(
            project_id=project_id,
            id=id,
            client=client,
            if_match=if_match,
        )
    ).parsed
