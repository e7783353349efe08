from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.new_project import NewProject
from ...models.problem import Problem
from ...models.project import Project
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: NewProject,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/projects",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | Project:
    if response.status_code == 201:
        response_201 = Project.from_dict(response.json())

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | Project]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: NewProject,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | Project]:
    """Create a project

     Creates a project in the caller's customer. Names are unique per customer, case-insensitively
    (duplicate: 409).

    Args:
        idempotency_key (str | Unset):
        body (NewProject):  Example: {'name': 'Website redesign', 'description': "The public
            site's new look, launching in spring.", 'labels': ['web', 'q2']}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Project]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: NewProject,
    idempotency_key: str | Unset = UNSET,
) -> Problem | Project | None:
    """Create a project

     Creates a project in the caller's customer. Names are unique per customer, case-insensitively
    (duplicate: 409).

    Args:
        idempotency_key (str | Unset):
        body (NewProject):  Example: {'name': 'Website redesign', 'description': "The public
            site's new look, launching in spring.", 'labels': ['web', 'q2']}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Project
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: NewProject,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | Project]:
    """Create a project

     Creates a project in the caller's customer. Names are unique per customer, case-insensitively
    (duplicate: 409).

    Args:
        idempotency_key (str | Unset):
        body (NewProject):  Example: {'name': 'Website redesign', 'description': "The public
            site's new look, launching in spring.", 'labels': ['web', 'q2']}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Project]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: NewProject,
    idempotency_key: str | Unset = UNSET,
) -> Problem | Project | None:
    """Create a project

     Creates a project in the caller's customer. Names are unique per customer, case-insensitively
    (duplicate: 409).

    Args:
        idempotency_key (str | Unset):
        body (NewProject):  Example: {'name': 'Website redesign', 'description': "The public
            site's new look, launching in spring.", 'labels': ['web', 'q2']}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Project
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
