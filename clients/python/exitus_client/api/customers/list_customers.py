import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.customer_list import CustomerList
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
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
        "url": "/v1/customers",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> CustomerList | Problem:
    if response.status_code == 200:
        response_200 = CustomerList.from_dict(response.json())

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
) -> Response[CustomerList | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    q: str | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
    cursor: str | Unset = UNSET,
    offset: int | Unset = 0,
    limit: int | Unset = 50,
    count: bool | Unset = False,
) -> Response[CustomerList | Problem]:
    """List customers

     Administrators (`exitus/customer.admin`) see every customer; a tenant with `exitus/customer.read`
    sees only its own.

    Args:
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
        Response[CustomerList | Problem]
    """

    kwargs = _get_kwargs(
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
    *,
    client: AuthenticatedClient,
    q: str | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
    cursor: str | Unset = UNSET,
    offset: int | Unset = 0,
    limit: int | Unset = 50,
    count: bool | Unset = False,
) -> CustomerList | Problem | None:
    """List customers

     Administrators (`exitus/customer.admin`) see every customer; a tenant with `exitus/customer.read`
    sees only its own.

    Args:
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
        CustomerList | Problem
    """

    return sync_detailed(
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
    *,
    client: AuthenticatedClient,
    q: str | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
    cursor: str | Unset = UNSET,
    offset: int | Unset = 0,
    limit: int | Unset = 50,
    count: bool | Unset = False,
) -> Response[CustomerList | Problem]:
    """List customers

     Administrators (`exitus/customer.admin`) see every customer; a tenant with `exitus/customer.read`
    sees only its own.

    Args:
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
        Response[CustomerList | Problem]
    """

    kwargs = _get_kwargs(
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
    *,
    client: AuthenticatedClient,
    q: str | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
    cursor: str | Unset = UNSET,
    offset: int | Unset = 0,
    limit: int | Unset = 50,
    count: bool | Unset = False,
) -> CustomerList | Problem | None:
    """List customers

     Administrators (`exitus/customer.admin`) see every customer; a tenant with `exitus/customer.read`
    sees only its own.

    Args:
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
        CustomerList | Problem
    """

    return (
        await asyncio_detailed(
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
