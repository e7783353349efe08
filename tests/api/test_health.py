"""Probes, the served spec and the generic error surface."""

from exitus.app import create_app
from tests.conftest import assert_problem


def test_liveness(http):
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_when_migrated(http):
    assert http.get("/readyz").json() == {"status": "ok"}


def test_request_ids_are_returned_and_honoured(http):
    assert len(http.get("/healthz").headers["x-request-id"]) == 32
    assert http.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    # unsafe incoming ids are replaced, never echoed
    assert http.get("/healthz", headers={"X-Request-ID": "a b<script>"}).headers["x-request-id"] != "a b<script>"
    body = assert_problem(http.get("/v1/projects", headers={"X-Request-ID": "req-1"}), 401)
    assert body["request_id"] == "req-1"


def test_unknown_route_and_method_are_problems(http):
    assert_problem(http.get("/v1/nothing-here"), 404)
    assert_problem(http.delete("/healthz"), 405)


def test_served_spec_points_at_the_configured_provider(http, issuer):
    spec = http.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["oidc"]["openIdConnectUrl"] == (
        f"{issuer.url}/.well-known/openid-configuration"
    )
    assert http.get("/ui/").status_code == 200


def test_control_characters_in_the_path_are_400(tenant):
    response = tenant.api().get("/v1/projects/abc%0A")
    body = assert_problem(response, 400, "control characters")
    assert body["request_id"] == response.headers["x-request-id"]


def test_security_headers_on_every_response(http):
    for response in (http.get("/healthz"), http.get("/v1/projects"), http.get("/v1/projects/abc%0A")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"


def test_swagger_ui_can_be_disabled(config):
    import dataclasses

    import httpx

    from tests.conftest import RunningServer

    server = RunningServer(create_app(dataclasses.replace(config, swagger_ui=False))).start()
    try:
        assert httpx.get(f"{server.url}/ui/").status_code == 404
        assert httpx.get(f"{server.url}/healthz").status_code == 200
    finally:
        server.stop()


def test_readiness_fails_while_shutting_down_and_liveness_holds(http, monkeypatch):
    import threading

    from exitus import lifecycle

    monkeypatch.setattr(lifecycle, "_shutting_down", threading.Event())  # restored afterwards: the server lives on
    lifecycle.begin_shutdown()
    response = http.get("/readyz")
    assert_problem(response, 503, "shutting down")
    assert response.headers["retry-after"]
    assert http.get("/healthz").json() == {"status": "ok"}
