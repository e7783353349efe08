"""Swagger UI at /ui/ and the served spec (/openapi.json, /openapi.yaml): Connexion's, with two changes.

- The served spec's `servers` names this server. Connexion replaces the spec's `servers` with the request's root
  path, which is `""` at the root: Swagger UI's Servers list then shows one empty entry. Served instead: the root
  path with a trailing slash (`/`, or `/prefix/` behind a path-prefixing proxy), relative to the page, so it is
  right wherever the service is reached from, locally or deployed.
- The Authorize dialog's OAuth login uses the authorization-code grant with PKCE (a public client, no secret) with
  SWAGGER_UI_CLIENT_ID. Its redirect page is Swagger UI's own `oauth2-redirect.html`, served beside the UI; Swagger
  UI's default redirect URL is that page's address as the browser sees it, so it needs no configuration.
"""

from __future__ import annotations

import copy
from typing import Any

from connexion.middleware.main import ConnexionMiddleware
from connexion.middleware.swagger_ui import SwaggerUIAPI, SwaggerUIMiddleware
from connexion.options import SwaggerUIOptions

from exitus.config import Config

UI_PATH = "/ui"


def swagger_ui_options(config: Config) -> SwaggerUIOptions:
    init_oauth: dict[str, Any] = {"usePkceWithAuthorizationCodeGrant": True}
    if config.swagger_ui_client_id:
        init_oauth["clientId"] = config.swagger_ui_client_id
    return SwaggerUIOptions(
        swagger_ui=config.swagger_ui,
        swagger_ui_path=UI_PATH,
        serve_spec=True,
        # Read by Connexion's index.j2: `ui.initOAuth(...)` once the UI is built.
        swagger_ui_template_arguments={"initOAuth": init_oauth},
    )


def middlewares() -> list[Any]:
    """Connexion's middleware stack, with the Swagger UI middleware that serves `servers` as described above."""
    stack = copy.copy(ConnexionMiddleware.default_middlewares)
    stack[stack.index(SwaggerUIMiddleware)] = ServersNamingSwaggerUIMiddleware
    return stack


class ServersNamingSwaggerUIAPI(SwaggerUIAPI):
    def _spec_for_prefix(self, request: Any) -> dict[str, Any]:
        spec = super()._spec_for_prefix(request)  # a fresh copy for this request
        spec["servers"] = [{"url": self._base_path_for_prefix(request) + "/", "description": "this server"}]
        return spec


class ServersNamingSwaggerUIMiddleware(SwaggerUIMiddleware):
    def add_api(self, specification: Any, base_path: str | None = None, arguments: dict | None = None, **kwargs: Any):
        # As SwaggerUIMiddleware.add_api, with the API class above.
        api = ServersNamingSwaggerUIAPI(
            specification, base_path=base_path, arguments=arguments, default=self.default_fn, **kwargs
        )
        self.router.mount(api.base_path, app=api.router)
