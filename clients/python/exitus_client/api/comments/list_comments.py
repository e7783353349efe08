import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ...client import AuthenticatedClient, Client
from ...models.comment_list import CommentList
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    project_id: UUID,
    issue_id: UUID,
    *,
    q: str | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
    cursor: str | Unset = UNSET,
    offset: int | Unset = 0,
    limit: int | Unset = 50,
    count: bool | Unset = False,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["q"] = q

    json_created_after: str | Unset = UNSET
    if not isinstance(created_after, Unset):
        json_created_after = created_after.isoformat()
    params["created_after"] = json_created_after

    json_created_before: str | Unset = UNSET
    if not isinstance(created_before, Unset):
        json_created_before = created_before.isoformat()
    params["created_before"] = json_created_before

    params["cursor"] = cursor

    params["offset"] = offset

    params["limit"] = limit

    params["count"] = count

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/projects/{project_id}/issues/{issue_id}/comments".format(
            project_id=quote(str(project_id), safe=""),
            issue_id=quote(str(issue_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> CommentList | Problem:
    if response.status_code == 200:
        response_200 = CommentList.from_dict(response.json())

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

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[CommentList | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    project_id: UUID,
    issue_id: UUID,
    *,
    client: AuthenticatedClient,
    q: str | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
    cursor: str | Unset = UNSET,
    offset: int | Unset = 0,
    limit: int | Unset = 50,
    count: bool | Unset = False,
) -> Response[CommentList | Problem]:
    """List an issue's comments

     The issue's comments, oldest first, filtered by `q` (content substring). 404 if the issue does not
    exist.

    Args:
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        issue_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        q (str | Unset):
        created_after (datetime.datetime | Unset):  Example: 2024-05-01T12:00:00Z.
        created_before (datetime.datetime | Unset):  Example: 2024-05-01T12:00:00Z.
        cursor (str | Unset):
        offset (int | Unset):  Default: 0.
        limit (int | Unset):  Default: 50.
        count (bool | Unset):  Default: False.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CommentList | Problem]
    """

    kwargs = _get_kwargs(
        project_id=project_id,
        issue_id=issue_id,
        q=q,
        created_after=created_after,
        created_before=created_before,
        cursor=cursor,
        offset=offset,
        limit=limit,
        count=count,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    project_id: UUID,
    issue_id: UUID,
    *,
    client: AuthenticatedClient,
    q: str | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
    cursor: str | Unset = UNSET,
    offset: int | Unset = 0,
    limit: int | Unset = 50,
    count: bool | Unset = False,
) -> CommentList | Problem | None:
    """List an issue's comments

     The issue's comments, oldest first, filtered by `q` (content substring). 404 if the issue does not
    exist.

    Args:
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        issue_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        q (str | Unset):
        created_after (datetime.datetime | Unset):  Example: 2024-05-01T12:00:00Z.
        created_before (datetime.datetime | Unset):  Example: 2024-05-01T12:00:00Z.
        cursor (str | Unset):
        offset (int | Unset):  Default: 0.
        limit (int | Unset):  Default: 50.
        count (bool | Unset):  Default: False.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CommentList | Problem
    """

    return sync_detailed(
        project_id=project_id,
        issue_id=issue_id,
        client=client,
        q=q,
        created_after=created_after,
        created_before=created_before,
        cursor=cursor,
        offset=offset,
        limit=limit,
        count=count,
    ).parsed


async def asyncio_detailed(
    project_id: UUID,
    issue_id: UUID,
    *,
    client: AuthenticatedClient,
    q: str | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
    cursor: str | Unset = UNSET,
    offset: int | Unset = 0,
    limit: int | Unset = 50,
    count: bool | Unset = False,
) -> Response[CommentList | Problem]:
    """List an issue's comments

     The issue's comments, oldest first, filtered by `q` (content substring). 404 if the issue does not
    exist.

    Args:
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        issue_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        q (str | Unset):
        created_after (datetime.datetime | Unset):  Example: 2024-05-01T12:00:00Z.
        created_before (datetime.datetime | Unset):  Example: 2024-05-01T12:00:00Z.
        cursor (str | Unset):
        offset (int | Unset):  Default: 0.
        limit (int | Unset):  Default: 50.
        count (bool | Unset):  Default: False.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CommentList | Problem]
    """

    kwargs = _get_kwargs(
        project_id=project_id,
        issue_id=issue_id,
        q=q,
        created_after=created_after,
        created_before=created_before,
        cursor=cursor,
        offset=offset,
        limit=limit,
        count=count,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    project_id: UUID,
    issue_id: UUID,
    *,
    client: AuthenticatedClient,
    q: str | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
    cursor: str | Unset = UNSET,
    offset: int | Unset = 0,
    limit: int | Unset = 50,
    count: bool | Unset = False,
) -> CommentList | Problem | None:
    """List an issue's comments

     The issue's comments, oldest first, filtered by `q` (content substring). 404 if the issue does not
    exist.

    Args:
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        issue_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        q (str | Unset):
        created_after (datetime.datetime | Unset):  Example: 2024-05-01T12:00:00Z.
        created_before (datetime.datetime | Unset):  Example: 2024-05-01T12:00:00Z.
        cursor (str | Unset):
        offset (int | Unset):  Default: 0.
        limit (int | Unset):  Default: 50.
        count (bool | Unset):  Default: False.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CommentList | Problem
    """

    return (
        await asyncio_detailed(
            project_id=project_id,
            issue_id=issue_id,
            client=client,
            q=q,
            created_after=created_after,
            created_before=created_before,
            cursor=cursor,
            offset=offset,
            limit=limit,
            count=count,
        )
    ).parsed
