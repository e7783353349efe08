"""The seam every request passes through: who is calling, and the one transaction that serves the request.

Connexion resolves each `operationId` through `scoped_resolver`, which wraps the handler. For an authenticated
operation the wrapper runs the handler in one transaction (exitus.db.Database.run) bound to the caller's customer
(`exitus.customer_id`, for row-level security and auditing), records the caller as a user of that customer (once per
process for an unchanged caller: KnownCallers), and makes a `RequestScope` available to the handler through
`current()`. Handlers never thread identity or connections through their arguments; later concerns
(metrics, audit, tracing) attach here.

What the spec declares of an operation is done here for every operation that declares it (`OperationTraits`): an
`ETag` response header is set from the resource's id and version, an `If-None-Match` parameter answers 304 when it
matches (exitus/conditional.py), and an `Idempotency-Key` parameter makes a POST happen once per customer and key,
its response stored in the request's transaction and replayed to retries (exitus/idempotency.py).
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager as ContextManager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import cachetools
import psycopg.errors
from connexion.context import context as connexion_context
from connexion.context import scope as asgi_scope
from opentelemetry import trace

from exitus import conditional, idempotency
from exitus.api import handler as find_handler
from exitus.client import client_ip, user_agent
from exitus.db import Database, RequestContext
from exitus.errors import TenantRequired, from_integrity_error, request_id_var
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
    customer_problem: str | None  # why customer_id is None, for the 403

    @property
    def is_admin(self) -> bool:
        return ADMIN_SCOPE in self.scopes


@dataclass(frozen=True)
class RequestScope:
    queries: Any  # the pugsql module; inside an authenticated request, bound to the request's transaction
    identity: Identity | None
    request_id: str | None
    _after_commit: list[Callable[[], None]] = field(default_factory=list)
    _database: Database | None = None
    _context: RequestContext | None = None

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run `action` once the request's transaction has committed (counters must not count rolled-back work)."""
        self._after_commit.append(action)

    def later_transactions(self, customer_id: str) -> Callable[[], ContextManager[Any]]:
        """Opens transactions of their own, after the request's (a streamed response reads in them, each one short):
        each is bound as the request's was, but to `customer_id`, the customer the handler checked the caller may
        read. The returned function needs no request context: it may run in the response's iteration."""
        assert self._database is not None and self._context is not None, "an authenticated request's scope"
        database, context = self._database, dataclasses.replace(self._context, customer_id=customer_id)
        return lambda: database.transaction(context=context)

    @property
    def tenant(self) -> str:
        """The caller's customer id; 403 when the token carries none (tenant resources need one)."""
        assert self.identity is not None, "only an authenticated operation has a tenant"
        if self.identity.customer_id is None:
            raise TenantRequired(self.identity.customer_problem)
        return self.identity.customer_id

    @property
    def user_id(self) -> str:
        self.tenant  # noqa: B018 - raises 403 for callers without a customer
        assert self.identity is not None and self.identity.user_id is not None
        return self.identity.user_id


_current: ContextVar[RequestScope] = ContextVar("exitus_request_scope")


def current() -> RequestScope:
    return _current.get()


@dataclass(frozen=True)
class OperationTraits:
    """What the spec declares of one operation that the seam does for it."""

    etag_statuses: frozenset[int]  # responses that declare an ETag header
    conditional_read: bool  # declares the If-None-Match parameter
    idempotent: bool  # declares the Idempotency-Key parameter

    @classmethod
    def of_spec(cls, spec: Mapping[str, Any]) -> dict[str, OperationTraits]:
        """Every operation's traits, by operationId."""
        traits = {}
        for item in spec.get("paths", {}).values():
            for operation in item.values():
                if not isinstance(operation, dict) or "operationId" not in operation:
                    continue
                declared = [*item.get("parameters", []), *operation.get("parameters", [])]
                parameters = [_resolved(spec, parameter) for parameter in declared]
                headers = {p["name"].lower() for p in parameters if p.get("in") == "header"}
                etag_statuses = frozenset(
                    int(status)
                    for status, response in operation.get("responses", {}).items()
                    if status.isdigit() and "ETag" in _resolved(spec, response).get("headers", {})
                )
                traits[operation["operationId"]] = cls(
                    etag_statuses, "if-none-match" in headers, "idempotency-key" in headers
                )
        return traits


def _resolved(spec: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """A spec object, its local `$ref` followed."""
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def scoped_resolver(
    database: Database,
    tenant_claim: str,
    *,
    spec: Mapping[str, Any],
    idempotency_key_ttl_seconds: int,
) -> Callable[[str], Callable]:
    """A Connexion function resolver: finds the handler named by `operationId` and wraps it in the scope. `spec`:
    the spec as served, for what the seam does per operation (OperationTraits)."""
    known_callers = KnownCallers()
    all_traits = OperationTraits.of_spec(spec)

    def resolve(operation_id: str) -> Callable:
        handler = find_handler(operation_id)
        traits = all_traits[operation_id]  # Connexion resolves only the spec's operations

        @functools.wraps(handler)  # Connexion reads the handler's parameters through __wrapped__
        def in_scope(*args: Any, **kwargs: Any) -> Any:
            token_info = connexion_context.get("token_info")
            if token_info is None:  # a public operation (health): no identity, no transaction
                scope = RequestScope(database.queries, None, request_id_var.get())
                return _as_json(_call(handler, scope, args, kwargs))
            caller = Caller.from_token(token_info, tenant_claim)

            context = caller.context(request_id_var.get())

            def serve(queries: Any) -> tuple[Any, RequestScope]:
                identity = caller.identify(queries, known_callers)
                note_caller(customer_id=identity.customer_id)
                scope = RequestScope(queries, identity, request_id_var.get(), _database=database, _context=context)
                if identity.user_id is not None:
                    scope.after_commit(functools.partial(known_callers.remember, caller, identity.user_id))
                claim = None
                if traits.idempotent:
                    claim = idempotency.claim(queries, identity, kwargs.get("body"), idempotency_key_ttl_seconds)
                    if claim is not None and claim.replay is not None:
                        return claim.replay, scope
                result = _conditional(traits, _call(handler, scope, args, kwargs))
                if claim is not None and 200 <= result[1] < 300:
                    claim.store(*result)
                return result, scope

            result, scope = database.run(serve, context=context)
            for action in scope._after_commit:
                action()
            return _as_json(result)

        return in_scope

    return resolve


def _call(handler: Callable, scope: RequestScope, args: tuple, kwargs: dict) -> tuple[Any, int, dict[str, str]]:
    """The handler's answer as `(body, status, headers)`: handlers return `body` or `(body, status[, headers])`."""
    token = _current.set(scope)
    try:
        result = handler(*args, **kwargs)
    except psycopg.errors.IntegrityError as error:
        domain_error = from_integrity_error(error)
        if domain_error is None:
            raise
        raise domain_error from None
    finally:
        _current.reset(token)
    return result if isinstance(result, tuple) and len(result) == 3 else (*_pair(result), {})


def _conditional(traits: OperationTraits, result: tuple[Any, int, dict[str, str]]) -> tuple[Any, int, dict[str, str]]:
    """The resource's ETag where the spec declares one; 304 Not Modified (no body) when If-None-Match names it."""
    body, status, headers = result
    if status not in traits.etag_statuses:
        return result
    tag = conditional.etag(body)
    headers = {**headers, "ETag": tag}
    if traits.conditional_read:
        headers["Cache-Control"] = conditional.READ_CACHE_CONTROL
        if status == 200 and conditional.not_modified(tag):
            return None, 304, headers  # the same validator and cache headers as the 200 (RFC 9110 §15.4.5)
    return body, status, headers


def _as_json(result: tuple[Any, int, dict[str, str]]) -> tuple[Any, int, dict[str, str]]:
    """The spec declares problem+json for errors beside application/json for successes, so Connexion cannot guess:
    name the content type here, once (connexion #1956), unless the handler named another (an export). (A 304 has
    none: werkzeug drops it with the other content headers; a 204 has no content, so no content type either.)"""
    body, status, headers = result
    if status == 204:
        return body, status, headers
    return body, status, {"Content-Type": "application/json", **headers}


def _pair(result: Any) -> tuple[Any, int]:
    return result if isinstance(result, tuple) else (result, 200)


@dataclass(frozen=True)
class Caller:
    """What a verified token says about its bearer, before the database is asked: the customer (when the tenant
    claim holds a customer id) and the profile recorded in `users`."""

    subject: str
    scopes: frozenset[str]
    claims: Mapping[str, Any]
    customer_id: str | None
    email: str | None
    name: str | None
    customer_problem: str | None  # why customer_id is None

    @classmethod
    def from_token(cls, token_info: Mapping[str, Any], tenant_claim: str) -> Caller:
        claims = token_info["claims"]
        raw_customer = claims.get(tenant_claim)
        customer_id = problem = None
        if raw_customer is None:
            problem = f"the token names no customer (claim {tenant_claim!r})"
        elif not _is_uuid(raw_customer):
            problem = f"the token's {tenant_claim!r} claim is not a customer id"
        else:
            customer_id = str(raw_customer)
        return cls(
            subject=claims["sub"],
            scopes=frozenset(token_info["scope"]),
            claims=claims,
            customer_id=customer_id,
            email=_short_text(claims.get("email"), 320),
            name=_short_text(claims.get("name") or claims.get("preferred_username") or claims.get("username"), 200),
            customer_problem=problem,
        )

    def context(self, request_id: str | None) -> RequestContext:
        """The request's binding: the caller's customer, and what the audit trail records with each change."""
        span_context = trace.get_current_span().get_span_context()
        return RequestContext(
            customer_id=self.customer_id,
            actor_sub=self.subject,
            request_id=request_id,
            trace_id=format(span_context.trace_id, "032x") if span_context.is_valid else None,
            client_ip=client_ip(asgi_scope),
            user_agent=user_agent(asgi_scope),
        )

    @property
    def profile(self) -> tuple[str | None, str, str | None, str | None]:
        return self.customer_id, self.subject, self.email, self.name

    def identify(self, queries: Any, known: KnownCallers) -> Identity:
        """The caller as a user of its customer: recorded (or its profile refreshed) in `users`, unless this process
        has already seen it with the same profile committed."""
        customer_id, user_id, problem = self.customer_id, None, self.customer_problem
        if customer_id is not None:
            user_id = known.user_id(self)
            if user_id is None:
                found = queries.upsert_user(customer_id=customer_id, sub=self.subject, email=self.email, name=self.name)
                if found is None:
                    customer_id, problem = None, "the token's customer does not exist"
                else:
                    user_id = str(found)
        return Identity(
            subject=self.subject,
            scopes=self.scopes,
            customer_id=customer_id,
            user_id=user_id,
            claims=self.claims,
            customer_problem=problem,
        )


class KnownCallers:
    """Callers whose `users` row this process has seen committed with their current profile: (customer, sub, email,
    name) -> user id. A known caller costs no upsert, so a read is one statement. Bounded in size and age; an entry
    is added only after the transaction that read or wrote the row has committed (a rolled-back first request must
    not leave a user id behind that does not exist). Rows of `users` are never deleted; if that changes, so must
    this."""

    def __init__(self, maxsize: int = 10_000, ttl_seconds: float = 600.0):
        self._cache: cachetools.TTLCache[tuple, str] = cachetools.TTLCache(maxsize=maxsize, ttl=ttl_seconds)
        self._lock = threading.Lock()  # cachetools caches are not thread-safe; Flask runs in a2wsgi's threads

    def user_id(self, caller: Caller) -> str | None:
        with self._lock:
            return self._cache.get(caller.profile)

    def remember(self, caller: Caller, user_id: str) -> None:
        with self._lock:
            self._cache[caller.profile] = user_id


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def _short_text(value: Any, limit: int) -> str | None:
    """Optional profile claims, kept only when they are plain strings the users table accepts: identity providers
    often let users edit their name and email, and a value the database refuses (a NUL, a lone surrogate) must
    cost the user that claim, not every request."""
    if not isinstance(value, str) or "\x00" in value:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value[:limit]
