from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ...client import AuthenticatedClient, Client
from ...models.comment import Comment
from ...models.new_comment import NewComment
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    project_id: UUID,
    issue_id: UUID,
    *,
    body: NewComment,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/projects/{project_id}/issues/{issue_id}/comments".format(
            project_id=quote(str(project_id), safe=""),
            issue_id=quote(str(issue_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Comment | Problem:
    if response.status_code == 201:
        response_201 = Comment.from_dict(response.json())

        return response_201

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Comment | Problem]:
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
    body: NewComment,
    idempotency_key: str | Unset = UNSET,
) -> Response[Comment | Problem]:
    """Comment on an issue

     The caller becomes the comment's `author`.

    Args:
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        issue_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        idempotency_key (str | Unset):
        body (NewComment):  Example: {'content': 'I see it too, on Safari 17.2 and 17.3.'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Comment | Problem]
    """

    kwargs = _get_kwargs(
        project_id=project_id,
        issue_id=issue_id,
        body=body,
        idempotency_key=idempotency_key,
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
    body: NewComment,
    idempotency_key: str | Unset = UNSET,
) -> Comment | Problem | None:
    """Comment on an issue

     The caller becomes the comment's `author`.

    Args:
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        issue_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        idempotency_key (str | Unset):
        body (NewComment):  Example: {'content': 'I see it too, on Safari 17.2 and 17.3.'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Comment | Problem
    """

    return sync_detailed(
        project_id=project_id,
        issue_id=issue_id,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    project_id: UUID,
    issue_id: UUID,
    *,
    client: AuthenticatedClient,
    body: NewComment,
    idempotency_key: str | Unset = UNSET,
) -> Response[Comment | Problem]:
    """Comment on an issue

     The caller becomes the comment's `author`.

    Args:
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        issue_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        idempotency_key (str | Unset):
        body (NewComment):  Example: {'content': 'I see it too, on Safari 17.2 and 17.3.'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Comment | Problem]
    """

    kwargs = _get_kwargs(
        project_id=project_id,
        issue_id=issue_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    project_id: UUID,
    issue_id: UUID,
    *,
    client: AuthenticatedClient,
    body: NewComment,
    idempotency_key: str | Unset = UNSET,
) -> Comment | Problem | None:
    """Comment on an issue

     The caller becomes the comment's `author`.

    Args:
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        issue_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        idempotency_key (str | Unset):
        body (NewComment):  Example: {'content': 'I see it too, on Safari 17.2 and 17.3.'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Comment | Problem
    """

    return (
        await asyncio_detailed(
            project_id=project_id,
            issue_id=issue_id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
