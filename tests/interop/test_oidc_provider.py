"""exitus against a real, certified OpenID provider (oidc-provider), not our own dev issuer.

The rest of the suite mints tokens with exitus's dev issuer, whose tokens are shaped by the same people who wrote
the verifier. Here the tokens come from an independent implementation by the client-credentials grant (RFC 9068
JWT access tokens: `typ: at+jwt`, `aud` = the resource indicator, `client_id`, `scope`), and the keys are rotated
and withdrawn the way a provider does it: exitus must follow the published JWKS without a restart, and survive the
provider being down.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest
import yaml
from jose import jwt

from exitus.auth import OIDCVerifier
from exitus.errors import Unauthorized
from exitus.resources import SPEC_FILE
from tests.conftest import assert_problem
from tests.interop.conftest import CLIENT_ID, RESOURCE, Interop, OidcProvider

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def spec_scopes() -> set[str]:
    """Every scope any operation of openapi/exitus.yaml (or its global default) requires."""
    spec = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    requirements = list(spec.get("security", []))
    for path_item in spec["paths"].values():
        for method, operation in path_item.items():
            if method in HTTP_METHODS:
                requirements.extend(operation.get("security", []))
    return {scope for requirement in requirements for scopes in requirement.values() for scope in scopes}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_provider_issues_rfc9068_tokens_with_every_spec_scope_by_default(provider: OidcProvider, interop: Interop):
    scopes = spec_scopes()
    assert scopes, "the spec declares no scopes"
    token = provider.token(sorted(scopes))

    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"
    claims = jwt.get_unverified_claims(token)
    assert set(claims["scope"].split()) == scopes  # provider.mjs's default list matches the spec
    assert claims["iss"] == provider.issuer
    assert claims["aud"] == RESOURCE
    assert claims["client_id"] == CLIENT_ID
    assert claims["customer_id"] == interop.customer_id
    assert scopes <= set(provider.discovery["scopes_supported"])


def test_client_credentials_token_reads_and_writes_its_customer(provider: OidcProvider, interop: Interop):
    token = provider.token(["exitus/project.read", "exitus/project.write"])
    name = f"interop project {uuid.uuid4().hex[:8]}"

    created = interop.http.post("/v1/projects", json={"name": name, "labels": []}, headers=bearer(token))
    assert created.status_code == 201, created.text

    listed = interop.http.get("/v1/projects", params={"q": name}, headers=bearer(token))
    assert listed.status_code == 200, listed.text
    assert [project["id"] for project in listed.json()["projects"]] == [created.json()["id"]]


def test_token_with_too_few_scopes_is_forbidden_naming_the_missing_one(provider: OidcProvider, interop: Interop):
    token = provider.token(["exitus/project.read"], resource=None)  # the provider defaults the resource to exitus
    assert interop.http.get("/v1/projects", headers=bearer(token)).status_code == 200

    response = interop.http.post("/v1/projects", json={"name": "not allowed", "labels": []}, headers=bearer(token))
    body = assert_problem(response, 403)
    assert body["required_scopes"] == ["exitus/project.write"]


def test_provider_refuses_a_client_with_a_wrong_secret(provider: OidcProvider):
    provider.client_secret, secret = "not-the-secret", provider.client_secret
    try:
        response = provider.token_response(["exitus/project.read"])
    finally:
        provider.client_secret = secret
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("accepted_client_ids", "accepted"),
    [
        ([CLIENT_ID], True),  # by the token's client_id claim
        ([RESOURCE], True),  # by its aud: OAUTH_CLIENT_ID may name the resource instead
        (["another-client", "urn:another-resource"], False),
    ],
)
def test_token_is_accepted_only_for_its_client_or_resource(provider: OidcProvider, accepted_client_ids, accepted):
    token = provider.token(["exitus/project.read"])
    verifier = OIDCVerifier(
        provider.issuer, accepted_client_ids, http_timeout=5, min_refresh_seconds=30, max_key_age_seconds=600
    )
    if accepted:
        assert asyncio.run(verifier.verify(token))["sub"] == CLIENT_ID
    else:
        with pytest.raises(Unauthorized) as raised:
            asyncio.run(verifier.verify(token))
        assert raised.value.reason == "wrong_audience"


def test_key_rotation_is_followed_without_restart_and_an_outage_is_survived(
    provider: OidcProvider, interop: Interop, caplog: pytest.LogCaptureFixture
):
    scopes = ["exitus/project.read"]
    http = interop.http
    before_rotation = provider.token(scopes)
    assert http.get("/v1/projects", headers=bearer(before_rotation)).status_code == 200

    rotated_kid = provider.rotate()
    after_rotation = provider.token(scopes)
    assert jwt.get_unverified_header(after_rotation)["kid"] == rotated_kid
    # An unknown kid makes the same running exitus refetch the JWKS.
    assert http.get("/v1/projects", headers=bearer(after_rotation)).status_code == 200
    # The refetched JWKS no longer has the old key: its tokens are refused, as a problem.
    response = http.get("/v1/projects", headers=bearer(before_rotation))
    assert_problem(response, 401, "unknown key")
    assert response.headers["www-authenticate"].startswith("Bearer ")

    provider.rotate()
    never_fetched = provider.token(scopes)  # signed with a key exitus has not seen
    provider.stop()
    with caplog.at_level(logging.WARNING, logger="exitus.auth"):
        # The cached key keeps working while the provider is down...
        assert http.get("/v1/projects", headers=bearer(after_rotation)).status_code == 200
        # ...and a token with a new key cannot be checked: 401, not a server error.
        response = http.get("/v1/projects", headers=bearer(never_fetched))
        assert_problem(response, 401, "cannot be checked now")
    failures = [r for r in caplog.records if r.name == "exitus.auth" and r.levelno == logging.WARNING]
    assert len(failures) == 1, [r.getMessage() for r in caplog.records]
    message = failures[0].getMessage()
    assert "cannot refresh signing keys" in message
    assert never_fetched not in message and never_fetched.split(".")[1] not in message
