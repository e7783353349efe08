import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ...client import AuthenticatedClient, Client
from ...models.category import Category
from ...models.issue_list import IssueList
from ...models.list_issues_sort import ListIssuesSort
from ...models.list_issues_state_item import ListIssuesStateItem
from ...models.problem import Problem
from ...models.severity import Severity
from ...types import UNSET, Response, Unset


def _get_kwargs(
    project_id: UUID,
    *,
    q: str | Unset = UNSET,
    state: list[ListIssuesStateItem] | Unset = UNSET,
    severity: list[Severity] | Unset = UNSET,
    category: list[Category] | Unset = UNSET,
    labels: list[str] | Unset = UNSET,
    assignee: str | Unset = UNSET,
    reporter: UUID | Unset = UNSET,
    updated_after: datetime.datetime | Unset = UNSET,
    updated_before: datetime.datetime | Unset = UNSET,
    sort: ListIssuesSort | Unset = ListIssuesSort.CREATED,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
    cursor: str | Unset = UNSET,
    offset: int | Unset = 0,
    limit: int | Unset = 50,
    count: bool | Unset = False,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["q"] = q

    json_state: list[str] | Unset = UNSET
    if not isinstance(state, Unset):
        json_state = []
        for state_item_data in state:
            state_item = state_item_data.value
            json_state.append(state_item)

    params["state"] = json_state

    json_severity: list[str] | Unset = UNSET
    if not isinstance(severity, Unset):
        json_severity = []
        for severity_item_data in severity:
            severity_item = severity_item_data.value
            json_severity.append(severity_item)

    params["severity"] = json_severity

    json_category: list[str] | Unset = UNSET
    if not isinstance(category, Unset):
        json_category = []
        for category_item_data in category:
            category_item = category_item_data.value
            json_category.append(category_item)

    params["category"] = json_category

    json_labels: list[str] | Unset = UNSET
    if not isinstance(labels, Unset):
        json_labels = labels

    params["labels"] = json_labels

    params["assignee"] = assignee

    json_reporter: str | Unset = UNSET
    if not isinstance(reporter, Unset):
        json_reporter = str(reporter)
    params["reporter"] = json_reporter

    json_updated_after: str | Unset = UNSET
    if not isinstance(updated_after, Unset):
        json_updated_after = updated_after.isoformat()
    params["updated_after"] = json_updated_after

    json_updated_before: str | Unset = UNSET
    if not isinstance(updated_before, Unset):
        json_updated_before = updated_before.isoformat()
    params["updated_before"] = json_updated_before

    json_sort: str | Unset = UNSET
    if not isinstance(sort, Unset):
        json_sort = sort.value

    params["sort"] = json_sort

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
        "url": "/v1/projects/{project_id}/issues".format(
            project_id=quote(str(project_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> IssueList | Problem:
    if response.status_code == 200:
        response_200 = IssueList.from_dict(response.json())

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[IssueList | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    project_id: UUID,
    *,
    client: AuthenticatedClient,
    q: str | Unset = UNSET,
    state: list[ListIssuesStateItem] | Unset = UNSET,
    severity: list[Severity] | Unset = UNSET,
    category: list[Category] | Unset = UNSET,
    labels: list[str] | Unset = UNSET,
    assignee: str | Unset = UNSET,
    reporter: UUID | Unset = UNSET,
    updated_after: datetime.datetime | Unset = UNSET,
    updated_before: datetime.datetime | Unset = UNSET,
    sort: ListIssuesSort | Unset = ListIssuesSort.CREATED,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
    cursor: str | Unset = UNSET,
    offset: int | Unset = 0,
    limit: int | Unset = 50,
    count: bool | Unset = False,
) -> Response[IssueList | Problem]:
    """List a project's issues

     The project's issues, filtered (every filter given must hold; a repeated parameter is any of its
    values,
    `labels` all of them) and sorted (`sort`, default oldest first). Keyset-paged: a page with more
    after it
    carries `Link: <...>; rel="next"` (RFC 8288), absent on the last page; `offset` still skips items.
    `count=true` adds `X-Total-Count`. 404 if the project does not exist.

    Args:
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        q (str | Unset):
        state (list[ListIssuesStateItem] | Unset):
        severity (list[Severity] | Unset):
        category (list[Category] | Unset):
        labels (list[str] | Unset):
        assignee (str | Unset):
        reporter (UUID | Unset):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        updated_after (datetime.datetime | Unset):  Example: 2024-05-01T12:00:00Z.
        updated_before (datetime.datetime | Unset):  Example: 2024-05-01T12:00:00Z.
        sort (ListIssuesSort | Unset):  Default: ListIssuesSort.CREATED.
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
        Response[IssueList | Problem]
    """

    kwargs = _get_kwargs(
        project_id=project_id,
        q=q,
        state=state,
        severity=severity,
        category=category,
        labels=labels,
        assignee=assignee,
        reporter=reporter,
        updated_after=updated_after,
        updated_before=updated_before,
        sort=sort,
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
    *,
    client: AuthenticatedClient,
    q: str | Unset = UNSET,
    state: list[ListIssuesStateItem] | Unset = UNSET,
    severity: list[Severity] | Unset = UNSET,
    category: list[Category] | Unset = UNSET,
    labels: list[str] | Unset = UNSET,
    assignee: str | Unset = UNSET,
    reporter: UUID | Unset = UNSET,
    updated_after: datetime.datetime | Unset = UNSET,
    updated_before: datetime.datetime | Unset = UNSET,
    sort: ListIssuesSort | Unset = ListIssuesSort.CREATED,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
    cursor: str | Unset = UNSET,
    offset: int | Unset = 0,
    limit: int | Unset = 50,
    count: bool | Unset = False,
) -> IssueList | Problem | None:
    """List a project's issues

     The project's issues, filtered (every filter given must hold; a repeated parameter is any of its
    values,
    `labels` all of them) and sorted (`sort`, default oldest first). Keyset-paged: a page with more
    after it
    carries `Link: <...>; rel="next"` (RFC 8288), absent on the last page; `offset` still skips items.
    `count=true` adds `X-Total-Count`. 404 if the project does not exist.

    Args:
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        q (str | Unset):
        state (list[ListIssuesStateItem] | Unset):
        severity (list[Severity] | Unset):
        category (list[Category] | Unset):
        labels (list[str] | Unset):
        assignee (str | Unset):
        reporter (UUID | Unset):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        updated_after (datetime.datetime | Unset):  Example: 2024-05-01T12:00:00Z.
        updated_before (datetime.datetime | Unset):  Example: 2024-05-01T12:00:00Z.
        sort (ListIssuesSort | Unset):  Default: ListIssuesSort.CREATED.
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
        IssueList | Problem
    """

    return sync_detailed(
        project_id=project_id,
        client=client,
        q=q,
        state=state,
        severity=severity,
        category=category,
        labels=labels,
        assignee=assignee,
        reporter=reporter,
        updated_after=updated_after,
        updated_before=updated_before,
        sort=sort,
        created_after=created_after,
        created_before=created_before,
        cursor=cursor,
        offset=offset,
        limit=limit,
        count=count,
    ).parsed


async def asyncio_detailed(
    project_id: UUID,
    *,
    client: AuthenticatedClient,
    q: str | Unset = UNSET,
    state: list[ListIssuesStateItem] | Unset = UNSET,
    severity: list[Severity] | Unset = UNSET,
    category: list[Category] | Unset = UNSET,
    labels: list[str] | Unset = UNSET,
    assignee: str | Unset = UNSET,
    reporter: UUID | Unset = UNSET,
    updated_after: datetime.datetime | Unset = UNSET,
    updated_before: datetime.datetime | Unset = UNSET,
    sort: ListIssuesSort | Unset = ListIssuesSort.CREATED,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
    cursor: str | Unset = UNSET,
    offset: int | Unset = 0,
    limit: int | Unset = 50,
    count: bool | Unset = False,
) -> Response[IssueList | Problem]:
    """List a project's issues

     The project's issues, filtered (every filter given must hold; a repeated parameter is any of its
    values,
    `labels` all of them) and sorted (`sort`, default oldest first). Keyset-paged: a page with more
    after it
    carries `Link: <...>; rel="next"` (RFC 8288), absent on the last page; `offset` still skips items.
    `count=true` adds `X-Total-Count`. 404 if the project does not exist.

    Args:
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        q (str | Unset):
        state (list[ListIssuesStateItem] | Unset):
        severity (list[Severity] | Unset):
        category (list[Category] | Unset):
        labels (list[str] | Unset):
        assignee (str | Unset):
        reporter (UUID | Unset):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        updated_after (datetime.datetime | Unset):  Example: 2024-05-01T12:00:00Z.
        updated_before (datetime.datetime | Unset):  Example: 2024-05-01T12:00:00Z.
        sort (ListIssuesSort | Unset):  Default: ListIssuesSort.CREATED.
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
        Response[IssueList | Problem]
    """

    kwargs = _get_kwargs(
        project_id=project_id,
        q=q,
        state=state,
        severity=severity,
        category=category,
        labels=labels,
        assignee=assignee,
        reporter=reporter,
        updated_after=updated_after,
        updated_before=updated_before,
        sort=sort,
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
    *,
    client: AuthenticatedClient,
    q: str | Unset = UNSET,
    state: list[ListIssuesStateItem] | Unset = UNSET,
    severity: list[Severity] | Unset = UNSET,
    category: list[Category] | Unset = UNSET,
    labels: list[str] | Unset = UNSET,
    assignee: str | Unset = UNSET,
    reporter: UUID | Unset = UNSET,
    updated_after: datetime.datetime | Unset = UNSET,
    updated_before: datetime.datetime | Unset = UNSET,
    sort: ListIssuesSort | Unset = ListIssuesSort.CREATED,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
    cursor: str | Unset = UNSET,
    offset: int | Unset = 0,
    limit: int | Unset = 50,
    count: bool | Unset = False,
) -> IssueList | Problem | None:
    """List a project's issues

     The project's issues, filtered (every filter given must hold; a repeated parameter is any of its
    values,
    `labels` all of them) and sorted (`sort`, default oldest first). Keyset-paged: a page with more
    after it
    carries `Link: <...>; rel="next"` (RFC 8288), absent on the last page; `offset` still skips items.
    `count=true` adds `X-Total-Count`. 404 if the project does not exist.

    Args:
        project_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        q (str | Unset):
        state (list[ListIssuesStateItem] | Unset):
        severity (list[Severity] | Unset):
        category (list[Category] | Unset):
        labels (list[str] | Unset):
        assignee (str | Unset):
        reporter (UUID | Unset):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        updated_after (datetime.datetime | Unset):  Example: 2024-05-01T12:00:00Z.
        updated_before (datetime.datetime | Unset):  Example: 2024-05-01T12:00:00Z.
        sort (ListIssuesSort | Unset):  Default: ListIssuesSort.CREATED.
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
        IssueList | Problem
    """

    return (
        await asyncio_detailed(
            project_id=project_id,
            client=client,
            q=q,
            state=state,
            severity=severity,
            category=category,
            labels=labels,
            assignee=assignee,
            reporter=reporter,
            updated_after=updated_after,
            updated_before=updated_before,
            sort=sort,
            created_after=created_after,
            created_before=created_before,
            cursor=cursor,
            offset=offset,
            limit=limit,
            count=count,
        )
    ).parsed
