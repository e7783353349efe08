"""The application: the OpenAPI spec drives Connexion routing, validation and security; handlers are in exitus.api."""

from __future__ import annotations

import contextlib
import gc
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import yaml
from connexion import FlaskApp
from connexion.jsonifier import Jsonifier
from connexion.middleware import MiddlewarePosition
from connexion.resolver import Resolver

from exitus import __version__
from exitus.auth import OIDCVerifier, ProviderUnavailable, discovery_url, security_handler_for
from exitus.bodies import BODY_VALIDATORS
from exitus.config import Config
from exitus.db import Database
from exitus.edge import AdmissionMiddleware, EdgeMiddleware, operation_routes
from exitus.errors import register_error_handlers
from exitus.metrics import serve_metrics
from exitus.request_scope import scoped_resolver
from exitus.resources import SPEC_FILE
from exitus.swagger_ui import middlewares, swagger_ui_options
from exitus.tracing import instrument_app
from exitus.validation import VALIDATORS

log = logging.getLogger("exitus.app")


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
        max_key_age_seconds=config.jwks_max_age_seconds,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        try:
            await verifier.refresh_keys(force=True)
        except ProviderUnavailable as error:
            # Not fatal: the keys are fetched again when the first token arrives.
            log.warning("OpenID provider not reachable at start: %s", error)
        # What start-up built (modules, the spec, Connexion's operations, the compiled queries) lives as long as the
        # process: out of the collector's generations, its full collections stop scanning it again and again
        # (shorter pauses: bench/README.md).
        gc.collect()
        gc.freeze()
        yield
        database.close()

    token_security = security_handler_for(verifier)
    app = FlaskApp(
        __name__,
        lifespan=lifespan,
        # Compact JSON: Connexion's FlaskApp default indents, which also forces json's pure-Python encoder (a page
        # of 50 issues took twice as long to serialise). Same keys in the same order, same value formats.
        jsonifier=Jsonifier(json, separators=(",", ":"), sort_keys=True),
        # Both schemes of the spec (`oidc`, `bearerAuth`) carry the same token, checked by the same code: the
        # required scopes of each security requirement are enforced for either.
        security_map={"openIdConnect": token_security, "bearer": token_security},
        swagger_ui_options=swagger_ui_options(config),
        middlewares=middlewares(),
    )
    spec = load_spec(config)
    app.add_api(
        spec,
        resolver=Resolver(
            function_resolver=scoped_resolver(
                database,
                config.tenant_claim,
                spec=spec,
                idempotency_key_ttl_seconds=config.idempotency_key_ttl_seconds,
            )
        ),
        strict_validation=True,
        validate_responses=validate_responses,
        validator_map={**VALIDATORS, **BODY_VALIDATORS},
    )
    register_error_handlers(app, spec)
    routes = operation_routes(spec)
    app.add_middleware(
        EdgeMiddleware,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        routes=routes,
        max_body_bytes=config.max_body_bytes,
        max_header_bytes=config.max_header_bytes,
        max_header_count=config.max_header_count,
    )
    app.add_middleware(
        AdmissionMiddleware,
        position=MiddlewarePosition.BEFORE_VALIDATION,  # after security: a token is checked before any body is read
        routes=routes,
        max_body_bytes=config.max_body_bytes,
        body_read_timeout_seconds=config.body_read_timeout_seconds,
        max_in_flight=config.max_concurrency,
    )
    serve_metrics(
        app.app, version=__version__, stage=config.stage, branch=config.branch, on_app=not config.metrics_addr
    )
    app.app.config["DEBUG"] = config.debug
    app.database = database  # for tests and the CLI; handlers reach it through request_scope.current()
    instrument_app(app, config)  # last: its server span goes outside every middleware added above
    return app
