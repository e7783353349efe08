"""The application: the OpenAPI spec drives Connexion routing, validation and security; handlers are in exitus.api."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import yaml
from connexion import FlaskApp
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exitus.auth import OIDCVerifier, ProviderUnavailable, security_handler_for
from exitus.config import Config
from exitus.db import Database
from exitus.errors import register_error_handlers, request_id_var
from exitus.request_scope import scoped_resolver
from exitus.resources import SPEC_FILE

log = logging.getLogger("exitus.app")
REQUEST_ID_HEADER = b"x-request-id"
MAX_REQUEST_ID = 128


def load_spec(config: Config) -> dict[str, Any]:
    """The spec as served: the security scheme points at the configured provider's discovery document."""
    spec = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    if config.openid_provider_url:
        scheme = spec["components"]["securitySchemes"]["oidc"]
        scheme["openIdConnectUrl"] = f"{config.openid_provider_url}/.well-known/openid-configuration"
    return spec


def create_app(config: Config, *, validate_responses: bool = False) -> FlaskApp:
    database = Database(config)
    verifier = OIDCVerifier(
        config.openid_provider_url,
        config.oauth_client_ids,
        http_timeout=config.http_timeout_seconds,
        min_refresh_seconds=config.jwks_min_refresh_seconds,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        try:
            await verifier.refresh_keys(force=True)
        except ProviderUnavailable as error:
            # Not fatal: the keys are fetched again when the first token arrives.
            log.warning("OpenID provider not reachable at start: %s", error)
        yield
        database.close()

    app = FlaskApp(
        __name__,
        lifespan=lifespan,
        security_map={"openIdConnect": security_handler_for(verifier)},
        swagger_ui_options=SwaggerUIOptions(swagger_ui=config.swagger_ui, serve_spec=True),
    )
    app.add_api(
        load_spec(config),
        resolver=Resolver(function_resolver=scoped_resolver(database, config.tenant_claim)),
        strict_validation=True,
        validate_responses=validate_responses,
    )
    register_error_handlers(app)
    app.add_middleware(RequestIdMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION)
    app.app.config["DEBUG"] = config.debug
    app.database = database  # for tests and the CLI; handlers reach it through request_scope.current()
    return app


class RequestIdMiddleware:
    """Honours an incoming X-Request-ID (if sane) or makes one, exposes it to the request and echoes it back."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        token = request_id_var.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != REQUEST_ID_HEADER]
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


def _incoming_request_id(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == REQUEST_ID_HEADER:
            text = value.decode("latin-1")
            if 0 < len(text) <= MAX_REQUEST_ID and all(c.isalnum() or c in "-_.:" for c in text):
                return text
            return None
    return None
