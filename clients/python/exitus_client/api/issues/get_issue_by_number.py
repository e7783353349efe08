from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote
from uuid import UUID

import httpx

from ...client import AuthenticatedClient, Client
from ...models.issue import Issue
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    project_id: UUID,
    number: int,
    *,
    if_none_match: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_none_match, Unset):
        headers["If-None-Match"] = if_none_match

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/projects/{project_id}/issues/by-number/{number}".format(
            project_id=quote(str(project_id), safe=""),
            number=quote(str(number), safe=""),
        ),
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | Issue | Problem:
    if response.status_code == 200:
        response_200 = Issue.from_dict(response.json())

        return response_200

    if response.status_code == 304:
        response_304 = cast(Any, None)
        return response_304

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

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Any | Issue | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    project_id: UUID,
    number: int,
    *,
    client: AuthenticatedClient,
    if_none_match: str | Unset = UNSET,
) -> Response[Any | Issue | Problem]:
    """Get an issue by its number

     The issue of the project with this number; 404 if there is none.

    Args:
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        number (int):
        if_none_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Issue | Problem]
    """

    kwargs = _get_kwargs(
        project_id=project_id,
        number=number,
        if_none_match=if_none_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    project_id: UUID,
    number: int,
    *,
    client: AuthenticatedClient,
    if_none_match: str | Unset = UNSET,
) -> Any | Issue | Problem | None:
    """Get an issue by its number

     The issue of the project with this number; 404 if there is none.

    Args:
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        number (int):
        if_none_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Issue | Problem
    """

    return sync_detailed(
        project_id=project_id,
        number=number,
        client=client,
        if_none_match=if_none_match,
    ).parsed


async def asyncio_detailed(
    project_id: UUID,
    number: int,
    *,
    client: AuthenticatedClient,
    if_none_match: str | Unset = UNSET,
) -> Response[Any | Issue | Problem]:
    """Get an issue by its number

     The issue of the project with this number; 404 if there is none.

    Args:
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        number (int):
        if_none_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Issue | Problem]
    """

    kwargs = _get_kwargs(
        project_id=project_id,
        number=number,
        if_none_match=if_none_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    project_id: UUID,
    number: int,
    *,
    client: AuthenticatedClient,
    if_none_match: str | Unset = UNSET,
) -> Any | Issue | Problem | None:
    """Get an issue by its number

     The issue of the project with this number; 404 if there is none.

    Args:
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        number (int):
        if_none_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Issue | Problem
    """

    return (
        await asyncio_detailed(
            project_id=project_id,
            number=number,
            client=client,
            if_none_match=if_none_match,
        )
    ).parsed
