"""The seam every request passes through: who is calling, and the one transaction that serves the request.

Connexion resolves each `operationId` through `scoped_resolver`, which wraps the handler. For an authenticated
operation the wrapper opens a transaction, binds it to the caller's customer (`exitus.customer_id`, for row-level
security and auditing), records the caller as a user of that customer, and makes a `RequestScope` available to the
handler through `current()`. Handlers never thread identity or connections through their arguments; later concerns
(metrics, audit, tracing) attach here.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy.exc
from connexion.context import context as connexion_context
from connexion.utils import get_function_from_name

from exitus.db import Database
from exitus.errors import Forbidden, from_integrity_error, request_id_var
from exitus.logs import note_caller

ADMIN_SCOPE = "exitus/customer.admin"


@dataclass(frozen=True)
class Identity:
    """The verified caller of one request."""

    subject: str
    scopes: frozenset[str]
    customer_id: str | None  # None: the token names no customer, or one that does not exist
    user_id: str | None  # the caller's row in `users`, when it has a customer
    claims: Mapping[str, Any]
    customer_problem: str | None = None  # why customer_id is None, for the 403

    @property
    def is_admin(self) -> bool:
        return ADMIN_SCOPE in self.scopes


@dataclass(frozen=True)
class RequestScope:
    queries: Any  # the pugsql module; inside an authenticated request, bound to the request's transaction
    identity: Identity | None
    request_id: str | None
    _after_commit: list[Callable[[], None]] = field(default_factory=list)

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run `action` once the request's transaction has committed (counters must not count rolled-back work)."""
        self._after_commit.append(action)

    @property
    def tenant(self) -> str:
        """The caller's customer id; 403 when the token carries none (tenant resources need one)."""
        if self.identity is None or self.identity.customer_id is None:
            problem = self.identity.customer_problem if self.identity else None
            raise Forbidden(problem or "the token names no customer")
        return self.identity.customer_id

    @property
    def user_id(self) -> str:
        self.tenant  # noqa: B018 - raises 403 for callers without a customer
        assert self.identity is not None and self.identity.user_id is not None
        return self.identity.user_id


_current: ContextVar[RequestScope] = ContextVar("exitus_request_scope")


def current() -> RequestScope:
    return _current.get()


def scoped_resolver(database: Database, tenant_claim: str) -> Callable[[str], Callable]:
    """A Connexion function resolver: imports the handler named by `operationId` and wraps it in the scope."""

    def resolve(operation_id: str) -> Callable:
        handler = get_function_from_name(operation_id)

        @functools.wraps(handler)  # Connexion reads the handler's parameters through __wrapped__
        def in_scope(*args: Any, **kwargs: Any) -> Any:
            token_info = connexion_context.get("token_info")
            if token_info is None:  # a public operation (health): no identity, no transaction
                return _call(handler, RequestScope(database.queries, None, request_id_var.get()), args, kwargs)
            with database.queries.transaction():
                identity = _establish_identity(database.queries, token_info, tenant_claim)
                note_caller(customer_id=identity.customer_id)
                scope = RequestScope(database.queries, identity, request_id_var.get())
                result = _call(handler, scope, args, kwargs)
            for action in scope._after_commit:
                action()
            return result

        return in_scope

    return resolve


def _call(handler: Callable, scope: RequestScope, args: tuple, kwargs: dict) -> Any:
    token = _current.set(scope)
    try:
        return _as_json(handler(*args, **kwargs))
    except sqlalchemy.exc.IntegrityError as error:
        domain_error = from_integrity_error(error)
        if domain_error is None:
            raise
        raise domain_error from None
    finally:
        _current.reset(token)


def _as_json(result: Any) -> tuple[Any, int, dict[str, str]]:
    """Handlers return `body` or `(body, status[, headers])`. The spec declares problem+json for errors beside
    application/json for successes, so Connexion cannot guess: name the content type here, once (connexion #1956)."""
    body, status, headers = result if isinstance(result, tuple) and len(result) == 3 else (*_pair(result), {})
    return body, status, {**headers, "Content-Type": "application/json"}


def _pair(result: Any) -> tuple[Any, int]:
    return result if isinstance(result, tuple) else (result, 200)


def _establish_identity(queries: Any, token_info: Mapping[str, Any], tenant_claim: str) -> Identity:
    claims = token_info["claims"]
    scopes = frozenset(token_info["scope"])
    raw_customer = claims.get(tenant_claim)
    customer_id = user_id = problem = None
    if raw_customer is None:
        problem = f"the token names no customer (claim {tenant_claim!r})"
    elif not _is_uuid(raw_customer):
        problem = f"the token's {tenant_claim!r} claim is not a customer id"
    else:
        customer_id = str(raw_customer)
        queries.set_request_customer(customer_id=customer_id)
        user_id = queries.upsert_user(
            customer_id=customer_id,
            sub=claims["sub"],
            email=_short_text(claims.get("email"), 320),
            name=_short_text(claims.get("name") or claims.get("preferred_username") or claims.get("username"), 200),
        )
        if user_id is None:
            customer_id, problem = None, "the token's customer does not exist"
    return Identity(
        subject=claims["sub"],
        scopes=scopes,
        customer_id=customer_id,
        user_id=str(user_id) if user_id else None,
        claims=claims,
        customer_problem=problem,
    )


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def _short_text(value: Any, limit: int) -> str | None:
    """Optional profile claims, kept only when they are plain strings the users table accepts."""
    if not isinstance(value, str) or "\x00" in value:
        return None
    return value[:limit]
