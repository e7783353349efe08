from http import HTTPStatus
from typing import Any
from uuid import UUID

import httpx

from ...client import AuthenticatedClient, Client
from ...models.audit_verification import AuditVerification
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    customer_id: UUID | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_customer_id: str | Unset = UNSET
    if not isinstance(customer_id, Unset):
        json_customer_id = str(customer_id)
    params["customer_id"] = json_customer_id

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/audit-events/verify",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> AuditVerification | Problem:
    if response.status_code == 200:
        response_200 = AuditVerification.from_dict(response.json())

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
) -> Response[AuditVerification | Problem]:
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
) -> Response[AuditVerification | Problem]:
    """Verify the audit chain

     Walks the customer's chain from sequence 1, recomputing each event's hash (see "Audit" above) and
    checking
    its sequence and `prev_hash`, and that the chain ends at its recorded head. An event altered,
    deleted or
    inserted behind the service's back breaks it: `first_broken` names the first sequence that does not
    verify
    and the event found in its place (null when there is none).

    Args:
        customer_id (UUID | Unset):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AuditVerification | Problem]
    """

    kwargs = _get_kwargs(
        customer_id=customer_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    customer_id: UUID | Unset = UNSET,
) -> AuditVerification | Problem | None:
    """Verify the audit chain

     Walks the customer's chain from sequence 1, recomputing each event's hash (see "Audit" above) and
    checking
    its sequence and `prev_hash`, and that the chain ends at its recorded head. An event altered,
    deleted or
    inserted behind the service's back breaks it: `first_broken` names the first sequence that does not
    verify
    and the event found in its place (null when there is none).

    Args:
        customer_id (UUID | Unset):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AuditVerification | Problem
    """

    return sync_detailed(
        client=client,
        customer_id=customer_id,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    customer_id: UUID | Unset = UNSET,
) -> Response[AuditVerification | Problem]:
    """Verify the audit chain

     Walks the customer's chain from sequence 1, recomputing each event's hash (see "Audit" above) and
    checking
    its sequence and `prev_hash`, and that the chain ends at its recorded head. An event altered,
    deleted or
    inserted behind the service's back breaks it: `first_broken` names the first sequence that does not
    verify
    and the event found in its place (null when there is none).

    Args:
        customer_id (UUID | Unset):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AuditVerification | Problem]
    """

    kwargs = _get_kwargs(
        customer_id=customer_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    customer_id: UUID | Unset = UNSET,
) -> AuditVerification | Problem | None:
    """Verify the audit chain

     Walks the customer's chain from sequence 1, recomputing each event's hash (see "Audit" above) and
    checking
    its sequence and `prev_hash`, and that the chain ends at its recorded head. An event altered,
    deleted or
    inserted behind the service's back breaks it: `first_broken` names the first sequence that does not
    verify
    and the event found in its place (null when there is none).

    Args:
        customer_id (UUID | Unset):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AuditVerification | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            customer_id=customer_id,
        )
    ).parsed
