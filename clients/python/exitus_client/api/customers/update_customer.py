from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ...client import AuthenticatedClient, Client
from ...models.customer import Customer
from ...models.problem import Problem
from ...models.updated_customer import UpdatedCustomer
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: UUID,
    *,
    body: UpdatedCustomer,
    if_match: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_match, Unset):
        headers["If-Match"] = if_match

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/v1/customers/{id}".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Customer | Problem:
    if response.status_code == 200:
        response_200 = Customer.from_dict(response.json())

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Customer | Problem]:
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
    body: UpdatedCustomer,
    if_match: str | Unset = UNSET,
) -> Response[Customer | Problem]:
    """Update a customer

     Administrators update any customer. A tenant with `exitus/customer.write` updates only its own, and
    not its
    name: a changed `name` from a tenant answers 403 whether or not another customer has that name
    (names are
    unique across customers, so anything else would tell a tenant who else is a customer).
    Administrators rename.

    Args:
        id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        if_match (str | Unset):
        body (UpdatedCustomer):  Example: {'name': 'Acme Corporation Ltd', 'description':
            'Rockets, anvils and giant magnets.', 'labels': ['enterprise', 'emea'], 'version': 1}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Customer | Problem]
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
    body: UpdatedCustomer,
    if_match: str | Unset = UNSET,
) -> Customer | Problem | None:
    """Update a customer

     Administrators update any customer. A tenant with `exitus/customer.write` updates only its own, and
    not its
    name: a changed `name` from a tenant answers 403 whether or not another customer has that name
    (names are
    unique across customers, so anything else would tell a tenant who else is a customer).
    Administrators rename.

    Args:
        id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        if_match (str | Unset):
        body (UpdatedCustomer):  Example: {'name': 'Acme Corporation Ltd', 'description':
            'Rockets, anvils and giant magnets.', 'labels': ['enterprise', 'emea'], 'version': 1}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Customer | Problem
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
    body: UpdatedCustomer,
    if_match: str | Unset = UNSET,
) -> Response[Customer | Problem]:
    """Update a customer

     Administrators update any customer. A tenant with `exitus/customer.write` updates only its own, and
    not its
    name: a changed `name` from a tenant answers 403 whether or not another customer has that name
    (names are
    unique across customers, so anything else would tell a tenant who else is a customer).
    Administrators rename.

    Args:
        id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        if_match (str | Unset):
        body (UpdatedCustomer):  Example: {'name': 'Acme Corporation Ltd', 'description':
            'Rockets, anvils and giant magnets.', 'labels': ['enterprise', 'emea'], 'version': 1}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Customer | Problem]
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
    body: UpdatedCustomer,
    if_match: str | Unset = UNSET,
) -> Customer | Problem | None:
    """Update a customer

     Administrators update any customer. A tenant with `exitus/customer.write` updates only its own, and
    not its
    name: a changed `name` from a tenant answers 403 whether or not another customer has that name
    (names are
    unique across customers, so anything else would tell a tenant who else is a customer).
    Administrators rename.

    Args:
        id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        if_match (str | Unset):
        body (UpdatedCustomer):  Example: {'name': 'Acme Corporation Ltd', 'description':
            'Rockets, anvils and giant magnets.', 'labels': ['enterprise', 'emea'], 'version': 1}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Customer | Problem
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
            if_match=if_match,
        )
    ).parsed
