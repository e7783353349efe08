"""The application: the OpenAPI spec drives Connexion routing, validation and security; handlers are in exitus.api."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import yaml
from connexion import FlaskApp
from connexion.lifecycle import ConnexionResponse
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exitus.auth import OIDCVerifier, ProviderUnavailable, discovery_url, security_handler_for
from exitus.config import Config
from exitus.db import Database
from exitus.errors import problem_response, register_error_handlers, request_id_var
from exitus.request_scope import scoped_resolver
from exitus.resources import SPEC_FILE

log = logging.getLogger("exitus.app")
REQUEST_ID_HEADER = b"x-request-id"
# On every response, errors and rejections included (OWASP secure headers for APIs).
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
MAX_REQUEST_ID = 128


def load_spec(config: Config) -> dict[str, Any]:
    """The spec as served: the security scheme points at the configured provider's discovery document."""
    spec = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    if config.openid_provider_url:
        scheme = spec["components"]["securitySchemes"]["oidc"]
        scheme["openIdConnectUrl"] = discovery_url(config.openid_provider_url)
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
    app.add_middleware(EdgeMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION)
    app.app.config["DEBUG"] = config.debug
    app.database = database  # for tests and the CLI; handlers reach it through request_scope.current()
    return app


class EdgeMiddleware:
    """The outermost layer, before Connexion: gives every request an id (an incoming sane X-Request-ID, or a new
    one) that problem bodies and logs carry and the response echoes, and rejects what must not reach routing."""

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
                headers.extend(SECURITY_HEADERS)
                message = {**message, "headers": headers}
            await send(message)

        try:
            if _has_control_characters(scope.get("path", "")):
                # Connexion's and Flask's routers disagree on such paths; answer before either sees it.
                await _send_problem(send_with_id, problem_response(400, "the path contains control characters"))
                return
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


def _has_control_characters(path: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in path)


async def _send_problem(send: Send, response: ConnexionResponse) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": [
                (b"content-type", response.content_type.encode()),
                (b"content-length", str(len(response.body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": response.body.encode()})


def _incoming_request_id(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == REQUEST_ID_HEADER:
            text = value.decode("latin-1")
            if 0 < len(text) <= MAX_REQUEST_ID and all(c.isalnum() or c in "-_.:" for c in text):
                return text
            return None
    return None
