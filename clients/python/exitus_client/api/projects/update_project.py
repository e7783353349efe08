from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.project import Project
from ...models.updated_project import UpdatedProject
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: UUID,
    *,
    body: UpdatedProject,
    if_match: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_match, Unset):
        headers["If-Match"] = if_match

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/v1/projects/{id}".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | Project:
    if response.status_code == 200:
        response_200 = Project.from_dict(response.json())

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

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | Project]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient,
    body: UpdatedProject,
    if_match: str | Unset = UNSET,
) -> Response[Problem | Project]:
    """Update a project

     Replaces the project's fields. Send the `version` you read; a stale version answers 409 and changes
    nothing.

    Args:
        id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        if_match (str | Unset):
        body (UpdatedProject):  Example: {'name': 'Website redesign 2.0', 'description': "The
            public site's new look, launching in spring.", 'labels': ['web', 'q2'], 'version': 1}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Project]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
        if_match=if_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: UUID,
    *,
    client: AuthenticatedClient,
    body: UpdatedProject,
    if_match: str | Unset = UNSET,
) -> Problem | Project | None:
    """Update a project

     Replaces the project's fields. Send the `version` you read; a stale version answers 409 and changes
    nothing.

    Args:
        id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        if_match (str | Unset):
        body (UpdatedProject):  Example: {'name': 'Website redesign 2.0', 'description': "The
            public site's new look, launching in spring.", 'labels': ['web', 'q2'], 'version': 1}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Project
    """

    return sync_detailed(
        id=id,
        client=client,
        body=body,
        if_match=if_match,
    ).parsed


async def asyncio_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient,
    body: UpdatedProject,
    if_match: str | Unset = UNSET,
) -> Response[Problem | Project]:
    """Update a project

     Replaces the project's fields. Send the `version` you read; a stale version answers 409 and changes
    nothing.

    Args:
        id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        if_match (str | Unset):
        body (UpdatedProject):  Example: {'name': 'Website redesign 2.0', 'description': "The
            public site's new look, launching in spring.", 'labels': ['web', 'q2'], 'version': 1}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Project]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
        if_match=if_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: UUID,
    *,
    client: AuthenticatedClient,
    body: UpdatedProject,
    if_match: str | Unset = UNSET,
) -> Problem | Project | None:
    """Update a project

     Replaces the project's fields. Send the `version` you read; a stale version answers 409 and changes
    nothing.

    Args:
        id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        if_match (str | Unset):
        body (UpdatedProject):  Example: {'name': 'Website redesign 2.0', 'description': "The
            public site's new look, launching in spring.", 'labels': ['web', 'q2'], 'version': 1}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Project
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
            if_match=if_match,
        )
    ).parsed
