"""Bearer-token verification with real signed JWTs, checked against the dev issuer's JWKS served over HTTP."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import json
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from jose import jws
from prometheus_client import REGISTRY

from exitus.app import create_app
from exitus.auth import MAX_TOKEN_BYTES, OIDCVerifier, ProviderUnavailable, scopes_of
from exitus.config import Config
from exitus.dev.issuer import DevIssuer, SigningKey, mint_token
from exitus.dev.postgres import free_port
from exitus.errors import Unauthorized
from tests.conftest import CLIENT_ID, RunningServer, assert_problem

READ = "exitus/project.read"
ME = "exitus/user.read"
DROP = object()  # an override that removes the claim


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: Any) -> str:
    return b64(json.dumps(value).encode())


def claims_for(issuer_url: str, customer: str | None = None, **overrides: Any) -> dict[str, Any]:
    """Valid Cognito-style access-token claims; `overrides` replace claims (DROP removes one)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer_url,
        "sub": f"user-{uuid.uuid4().hex}",
        "client_id": CLIENT_ID,
        "token_use": "access",
        "scope": f"{READ} {ME}",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
    }
    if customer:
        claims["customer_id"] = customer
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not DROP}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_invalid_token(response: httpx.Response, detail: str) -> dict[str, Any]:
    """401 problem+json with an RFC 6750 challenge saying the token is invalid."""
    body = assert_problem(response, 401, detail)
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer "), challenge
    assert 'error="invalid_token"' in challenge, challenge
    return body


def assert_token_required(response: httpx.Response) -> None:
    """401 for a request with no bearer token: a challenge without an error code (RFC 6750 section 3.1)."""
    assert_problem(response, 401, "a bearer token is required")
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer "), challenge
    assert "error=" not in challenge, challenge


@pytest.fixture(scope="module")
def foreign_key() -> SigningKey:
    """A key the issuer never published."""
    return SigningKey.generate()


@pytest.fixture
def own_issuer(tmp_path: Path) -> Iterator[DevIssuer]:
    """A private issuer, for tests that rotate keys or stop the provider (the session issuer must stay put)."""
    dev_issuer = DevIssuer(tmp_path / "issuer").start()
    yield dev_issuer
    dev_issuer.stop()


# --- rejected tokens -------------------------------------------------------------------------------------------


def test_unsigned_alg_none_token_is_rejected(http, issuer, tenant):
    header = {"alg": "none", "typ": "JWT", "kid": issuer.key.kid}
    token = f"{b64json(header)}.{b64json(claims_for(issuer.url, tenant.customer_id))}."
    assert_invalid_token(http.get("/v1/projects", headers=bearer(token)), "signing algorithm is not accepted")


def test_hs256_token_keyed_with_the_public_key_is_rejected(http, issuer, tenant):
    public_pem = issuer.key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{b64json({'alg': 'HS256', 'typ': 'JWT', 'kid': issuer.key.kid})}."
    signing_input += b64json(claims_for(issuer.url, tenant.customer_id))
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{b64(signature)}"
    assert_invalid_token(http.get("/v1/projects", headers=bearer(token)), "signing algorithm is not accepted")


def test_expired_token_is_rejected(http, issuer, tenant):
    now = int(time.time())
    token = issuer.key.sign(claims_for(issuer.url, tenant.customer_id, iat=now - 7200, nbf=now - 7200, exp=now - 3600))
    assert_invalid_token(http.get("/v1/projects", headers=bearer(token)), "the token has expired")


def test_token_not_valid_for_another_hour_is_rejected(http, issuer, tenant):
    now = int(time.time())
    token = issuer.key.sign(claims_for(issuer.url, tenant.customer_id, nbf=now + 3600, exp=now + 7200))
    assert_invalid_token(http.get("/v1/projects", headers=bearer(token)), "not valid yet")


def test_token_from_another_issuer_is_rejected(http, issuer, tenant):
    token = issuer.key.sign(claims_for("https://evil.example.com", tenant.customer_id))
    assert_invalid_token(http.get("/v1/projects", headers=bearer(token)), "issued by another provider")


@pytest.mark.parametrize(
    "audience",
    [
        {"client_id": "someone-else"},
        {"client_id": DROP, "aud": "someone-else"},
        {"client_id": DROP, "aud": ["someone-else", "account"], "azp": "someone-else"},
        {"client_id": DROP},
    ],
    ids=["client_id", "aud", "aud-list-and-azp", "none"],
)
def test_token_for_another_client_is_rejected(http, issuer, tenant, audience):
    token = issuer.key.sign(claims_for(issuer.url, tenant.customer_id, **audience))
    assert_invalid_token(http.get("/v1/projects", headers=bearer(token)), "not issued for this service")


def test_token_signed_with_an_unknown_key_is_rejected(http, issuer, tenant, foreign_key):
    token = foreign_key.sign(claims_for(issuer.url, tenant.customer_id))
    assert_invalid_token(http.get("/v1/projects", headers=bearer(token)), "unknown key")


def test_token_without_kid_is_rejected(http, issuer, tenant):
    token = issuer.key.sign(claims_for(issuer.url, tenant.customer_id), {"kid": None})
    assert_invalid_token(http.get("/v1/projects", headers=bearer(token)), "names no signing key")


def test_foreign_signature_claiming_a_published_kid_is_rejected(http, issuer, tenant, foreign_key):
    token = foreign_key.sign(claims_for(issuer.url, tenant.customer_id), {"kid": issuer.key.kid})
    assert_invalid_token(http.get("/v1/projects", headers=bearer(token)), "signature is invalid")


def test_tampered_payload_is_rejected(http, issuer, tenant, other_tenant):
    header, _payload, signature = issuer.key.sign(claims_for(issuer.url, tenant.customer_id)).split(".")
    forged = f"{header}.{b64json(claims_for(issuer.url, other_tenant.customer_id))}.{signature}"
    assert_invalid_token(http.get("/v1/projects", headers=bearer(forged)), "signature is invalid")


def test_token_without_expiry_is_rejected(http, issuer, tenant):
    token = issuer.key.sign(claims_for(issuer.url, tenant.customer_id, exp=DROP))
    assert_invalid_token(http.get("/v1/projects", headers=bearer(token)), "the token is invalid")


def test_token_with_a_malformed_expiry_is_rejected(http, issuer, tenant):
    token = issuer.key.sign(claims_for(issuer.url, tenant.customer_id, exp="tomorrow"))
    assert_invalid_token(http.get("/v1/projects", headers=bearer(token)), "no valid expiry")


def test_token_without_subject_is_rejected(http, issuer, tenant):
    token = issuer.key.sign(claims_for(issuer.url, tenant.customer_id, sub=DROP))
    assert_invalid_token(http.get("/v1/projects", headers=bearer(token)), "the token is invalid")


def test_token_with_crit_header_is_rejected(http, issuer, tenant):
    token = issuer.key.sign(claims_for(issuer.url, tenant.customer_id), {"crit": ["exp"]})
    assert_invalid_token(http.get("/v1/projects", headers=bearer(token)), "extensions")


@pytest.mark.parametrize(
    "garbage",
    [
        "not-a-jwt",
        "a.b.c",
        "!!!.???.***",
        f"{b64(b'{not json')}.{b64json({})}.sig",
        f"{b64json(['a', 'list'])}.{b64json({})}.sig",
        f"{b64json({'alg': 'RS256', 'kid': 'x'})}",
    ],
    ids=["no-dots", "not-base64-json", "not-base64", "header-not-json", "header-not-object", "header-only"],
)
def test_malformed_token_is_rejected(http, garbage):
    assert_invalid_token(http.get("/v1/projects", headers=bearer(garbage)), "not a well-formed JWT")


def test_signed_token_whose_payload_is_not_json_is_rejected(http, issuer):
    token = jws.sign(b"not json", issuer.key.pem().decode(), headers={"kid": issuer.key.kid}, algorithm="RS256")
    assert_invalid_token(http.get("/v1/projects", headers=bearer(token)), "the token is invalid")


def test_oversized_token_is_rejected(http, issuer, tenant):
    token = issuer.key.sign(claims_for(issuer.url, tenant.customer_id, padding="x" * MAX_TOKEN_BYTES))
    assert len(token) > MAX_TOKEN_BYTES
    assert_invalid_token(http.get("/v1/projects", headers=bearer(token)), "too large")


def test_id_token_is_not_an_access_token(http, issuer, tenant):
    id_token = issuer.key.sign(
        claims_for(issuer.url, tenant.customer_id, token_use="id", aud=CLIENT_ID, client_id=DROP, scope=DROP)
    )
    assert_invalid_token(http.get("/v1/projects", headers=bearer(id_token)), "not an access token")


def test_token_typed_as_something_else_is_not_an_access_token(http, issuer, tenant):
    token = issuer.key.sign(claims_for(issuer.url, tenant.customer_id), {"typ": "id+jwt"})
    assert_invalid_token(http.get("/v1/projects", headers=bearer(token)), "not an access token")


def test_token_in_the_query_string_is_not_accepted(http, tenant):
    assert_token_required(http.get("/v1/projects", params={"access_token": tenant.token()}))


def test_no_token_at_all_is_rejected(http):
    assert_token_required(http.get("/v1/projects"))


def test_basic_auth_is_not_a_bearer_token(http):
    credentials = base64.b64encode(b"user:password").decode()
    assert_token_required(http.get("/v1/projects", headers={"Authorization": f"Basic {credentials}"}))


def test_empty_bearer_header_is_rejected(http):
    response = http.get("/v1/projects", headers={"Authorization": "Bearer"})
    assert_problem(response, 401, "Invalid authorization header")
    assert response.headers["www-authenticate"].startswith("Bearer ")


# --- accepted tokens -------------------------------------------------------------------------------------------


def me(http: httpx.Client, token: str) -> dict[str, Any]:
    response = http.get("/v1/users/me", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_cognito_style_access_token_is_accepted(http, issuer, tenant):
    token = mint_token(issuer.key, issuer.url, scopes=[READ, ME], customer=tenant.customer_id, client_id=CLIENT_ID)
    assert http.get("/v1/projects", headers=bearer(token)).status_code == 200
    assert me(http, token)["sub"] == json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))["sub"]


def test_keycloak_style_access_token_is_accepted(http, issuer, tenant):
    claims = claims_for(
        issuer.url,
        tenant.customer_id,
        client_id=DROP,
        token_use=DROP,
        aud=["account", CLIENT_ID],
        azp=CLIENT_ID,
        typ="Bearer",
        scope=f"openid profile email {READ} {ME}",
        preferred_username="ada",
        sub="keycloak-subject",
    )
    token = issuer.key.sign(claims, {"typ": "JWT"})
    assert http.get("/v1/projects", headers=bearer(token)).status_code == 200
    user = me(http, token)
    assert (user["sub"], user["name"]) == ("keycloak-subject", "ada")


def test_authorized_party_alone_identifies_the_client(http, issuer, tenant):
    claims = claims_for(issuer.url, tenant.customer_id, client_id=DROP, aud=["account"], azp=CLIENT_ID)
    assert http.get("/v1/projects", headers=bearer(issuer.key.sign(claims))).status_code == 200


def test_access_token_media_type_is_accepted(http, issuer, tenant):
    token = issuer.key.sign(claims_for(issuer.url, tenant.customer_id), {"typ": "at+jwt"})
    assert http.get("/v1/projects", headers=bearer(token)).status_code == 200


def test_scp_array_claim_grants_scopes(http, issuer, tenant):
    token = issuer.key.sign(claims_for(issuer.url, tenant.customer_id, scope=DROP, scp=[READ]))
    assert http.get("/v1/projects", headers=bearer(token)).status_code == 200


def test_second_configured_client_is_accepted(http, issuer, tenant):
    token = issuer.key.sign(claims_for(issuer.url, tenant.customer_id, client_id="another-client"))
    assert http.get("/v1/projects", headers=bearer(token)).status_code == 200


def test_small_clock_skew_is_tolerated(http, issuer, tenant):
    now = int(time.time())
    token = issuer.key.sign(claims_for(issuer.url, tenant.customer_id, iat=now + 10, nbf=now + 10))
    assert http.get("/v1/projects", headers=bearer(token)).status_code == 200


# --- scopes and the tenant claim -------------------------------------------------------------------------------


def test_missing_scope_is_403_naming_the_required_scope(http, issuer, tenant):
    token = issuer.key.sign(claims_for(issuer.url, tenant.customer_id, scope="exitus/issue.read"))
    response = http.get("/v1/projects", headers=bearer(token))
    body = assert_problem(response, 403)
    assert body["required_scopes"] == [READ]
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="insufficient_scope"' in challenge
    assert f'scope="{READ}"' in challenge


def test_token_without_customer_cannot_reach_tenant_resources(http, issuer):
    token = issuer.key.sign(claims_for(issuer.url))
    body = assert_problem(http.get("/v1/projects", headers=bearer(token)), 403, problem_type="tenant-required")
    assert body["detail"] == "the token names no customer (claim 'customer_id')"


def test_token_naming_a_customer_that_does_not_exist_is_forbidden(http, issuer):
    token = issuer.key.sign(claims_for(issuer.url, str(uuid.uuid4())))
    body = assert_problem(http.get("/v1/projects", headers=bearer(token)), 403, problem_type="tenant-required")
    assert body["detail"] == "the token's customer does not exist"


@pytest.mark.parametrize("customer", ["acme", "12345", "{00000000-0000-0000-0000-000000000000}", 42, ["a"]])
def test_customer_claim_that_is_not_a_uuid_is_forbidden(http, issuer, customer):
    token = issuer.key.sign(claims_for(issuer.url, customer_id=customer))
    body = assert_problem(http.get("/v1/projects", headers=bearer(token)), 403, problem_type="tenant-required")
    assert body["detail"] == "the token's 'customer_id' claim is not a customer id"


# --- key rotation ----------------------------------------------------------------------------------------------


def test_key_rotation_is_picked_up_on_the_first_token_with_the_new_kid(config, own_issuer, tenant):
    rotating = dataclasses.replace(config, openid_provider_url=own_issuer.url, jwks_min_refresh_seconds=0)
    server = RunningServer(create_app(rotating)).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            old_token = own_issuer.token(scopes=[READ], customer=tenant.customer_id, client_id=CLIENT_ID)
            assert client.get("/v1/projects", headers=bearer(old_token)).status_code == 200
            own_issuer.rotate()
            new_token = own_issuer.token(scopes=[READ], customer=tenant.customer_id, client_id=CLIENT_ID)
            assert client.get("/v1/projects", headers=bearer(new_token)).status_code == 200
            # the provider withdrew the old key, so its tokens stop working
            assert_invalid_token(client.get("/v1/projects", headers=bearer(old_token)), "unknown key")
    finally:
        server.stop()


def test_unknown_kids_refetch_the_jwks_at_most_once_per_interval(own_issuer):
    async def scenario() -> None:
        verifier = OIDCVerifier(
            own_issuer.url, [CLIENT_ID], min_refresh_seconds=3600, http_timeout=5, max_key_age_seconds=600
        )
        assert await verifier.refresh_keys() is True
        own_issuer.rotate()
        token = own_issuer.token(client_id=CLIENT_ID)
        with pytest.raises(Unauthorized) as caught:
            await verifier.verify(token)
        assert caught.value.reason == "unknown_key"
        assert await verifier.refresh_keys() is False  # still rate-limited
        assert await verifier.refresh_keys(force=True) is True
        assert (await verifier.verify(token))["iss"] == own_issuer.url

    asyncio.run(scenario())


def test_withdrawn_keys_stop_working_once_the_cache_is_older_than_its_maximum_age(own_issuer):
    """No token with a new kid needs to arrive: cached keys are refetched when older than JWKS_MAX_AGE_SECONDS."""

    async def scenario() -> None:
        verifier = OIDCVerifier(
            own_issuer.url, [CLIENT_ID], min_refresh_seconds=0, max_key_age_seconds=3600, http_timeout=5
        )
        old_token = own_issuer.token(client_id=CLIENT_ID)
        assert (await verifier.verify(old_token))["iss"] == own_issuer.url
        own_issuer.rotate()
        assert (await verifier.verify(old_token))["iss"] == own_issuer.url  # the cache is young: still trusted
        verifier.max_key_age_seconds = 0.001  # rather than sleeping: the cache is now older than its maximum age
        await asyncio.sleep(0.01)
        with pytest.raises(Unauthorized) as caught:
            await verifier.verify(old_token)
        assert caught.value.reason == "unknown_key"

    asyncio.run(scenario())


def test_an_old_cache_keeps_working_while_the_provider_is_down(own_issuer):
    async def scenario() -> None:
        verifier = OIDCVerifier(
            own_issuer.url, [CLIENT_ID], min_refresh_seconds=0, max_key_age_seconds=0.001, http_timeout=5
        )
        token = own_issuer.token(client_id=CLIENT_ID)
        assert (await verifier.verify(token))["iss"] == own_issuer.url
        own_issuer.stop()
        await asyncio.sleep(0.01)
        failures_before = jwks_refreshes("error")
        assert (await verifier.verify(token))["iss"] == own_issuer.url  # refetch failed: the cached key stays
        assert jwks_refreshes("error") == failures_before + 1  # and the failure is counted

    asyncio.run(scenario())


# --- the verifier against an unavailable or inconsistent provider ----------------------------------------------


def test_provider_unreachable_at_first_use_is_401_provider_unavailable(foreign_key):
    async def scenario() -> None:
        nowhere = f"http://127.0.0.1:{free_port()}"
        verifier = OIDCVerifier(nowhere, [CLIENT_ID], http_timeout=2, min_refresh_seconds=30, max_key_age_seconds=600)
        with pytest.raises(Unauthorized) as caught:
            await verifier.verify(mint_token(foreign_key, nowhere, client_id=CLIENT_ID))
        assert caught.value.reason == "provider_unavailable"
        assert caught.value.status == 401
        with pytest.raises(ProviderUnavailable):
            await verifier.refresh_keys(force=True)

    asyncio.run(scenario())


def test_cached_keys_keep_working_after_the_provider_stops(tmp_path, foreign_key):
    stopped = DevIssuer(tmp_path / "issuer").start()
    token = stopped.token(client_id=CLIENT_ID, subject="still-me")

    async def scenario() -> None:
        verifier = OIDCVerifier(
            stopped.url, [CLIENT_ID], http_timeout=2, min_refresh_seconds=0, max_key_age_seconds=600
        )
        await verifier.refresh_keys(force=True)
        stopped.stop()
        assert (await verifier.verify(token))["sub"] == "still-me"
        # a token with a new kid cannot be checked while the provider is down...
        with pytest.raises(Unauthorized) as caught:
            await verifier.verify(mint_token(foreign_key, stopped.url, client_id=CLIENT_ID))
        assert caught.value.reason == "provider_unavailable"
        # ...and the failed refetch did not throw the cached keys away
        assert (await verifier.verify(token))["sub"] == "still-me"

    asyncio.run(scenario())


def test_a_provider_that_never_answers_is_given_up_on_after_the_http_timeout(foreign_key, caplog):
    """A provider that accepts the connection and then says nothing must not hold the token check (and the event
    loop's waiters) for ever: the verifier's HTTP timeout ends the wait."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"

    async def scenario() -> None:
        verifier = OIDCVerifier(url, [CLIENT_ID], http_timeout=0.5, min_refresh_seconds=0, max_key_age_seconds=600)
        with pytest.raises(Unauthorized) as caught:
            # the outer bound only turns a hang into a failure; the verifier must give up long before it
            await asyncio.wait_for(verifier.verify(mint_token(foreign_key, url, client_id=CLIENT_ID)), 30)
        assert caught.value.reason == "provider_unavailable"
        assert caught.value.detail == "the token's signing key cannot be checked now"

    try:
        asyncio.run(scenario())
    finally:
        silent.close()
    # operators filter on the logger's name
    discovery = f"{url}/.well-known/openid-configuration"
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records if r.name.startswith("exitus")] == [
        ("exitus.auth", "WARNING", f"cannot refresh signing keys: GET {discovery} failed: ReadTimeout")
    ]


def test_discovery_naming_another_issuer_is_provider_unavailable(own_issuer):
    own_issuer.discovery = lambda: {**DevIssuer.discovery(own_issuer), "issuer": "https://impostor.example.com"}

    async def scenario() -> None:
        verifier = OIDCVerifier(
            own_issuer.url, [CLIENT_ID], http_timeout=5, min_refresh_seconds=30, max_key_age_seconds=600
        )
        with pytest.raises(Unauthorized) as caught:
            await verifier.verify(own_issuer.token(client_id=CLIENT_ID))
        assert caught.value.reason == "provider_unavailable"
        with pytest.raises(ProviderUnavailable, match=r"^the discovery document names another issuer$"):
            await verifier.refresh_keys(force=True)

    asyncio.run(scenario())


def test_discovery_without_jwks_uri_is_provider_unavailable(own_issuer):
    own_issuer.discovery = lambda: {"issuer": own_issuer.url}

    async def scenario() -> None:
        with pytest.raises(ProviderUnavailable, match=r"^the discovery document has no jwks_uri$"):
            await OIDCVerifier(
                own_issuer.url, [CLIENT_ID], http_timeout=5, min_refresh_seconds=30, max_key_age_seconds=600
            ).refresh_keys(force=True)

    asyncio.run(scenario())


def test_issuer_identifier_with_a_trailing_slash_is_accepted(own_issuer):
    """BUG (reported): some providers' issuer identifier ends in "/" (Auth0: https://TENANT.auth0.com/), and their
    tokens carry exactly that `iss`. Config and OIDCVerifier strip the slash, then compare `iss` exactly, so no
    configuration accepts such a provider's tokens."""
    issuer_id = f"{own_issuer.url}/"
    own_issuer.discovery = lambda: {**DevIssuer.discovery(own_issuer), "issuer": issuer_id}
    config = Config.from_env(
        {"PGDATASOURCE": "postgresql://h/db", "OPENID_PROVIDER_URL": issuer_id, "OAUTH_CLIENT_ID": CLIENT_ID}
    )

    async def scenario() -> None:
        verifier = OIDCVerifier(
            config.openid_provider_url,
            config.oauth_client_ids,
            http_timeout=5,
            min_refresh_seconds=30,
            max_key_age_seconds=600,
        )
        claims = await verifier.verify(mint_token(own_issuer.key, issuer_id, client_id=CLIENT_ID, subject="auth0|1"))
        assert claims["sub"] == "auth0|1"

    asyncio.run(scenario())


# --- scopes_of -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "scopes"),
    [
        ({"scope": "a b  c"}, ["a", "b", "c"]),
        ({"scp": ["a", "b"]}, ["a", "b"]),
        ({"scp": "a b"}, ["a", "b"]),
        ({"scp": ["a", 1, None, "b"]}, ["a", "b"]),
        ({"scope": "a", "scp": ["b"]}, ["a"]),
        ({"scope": ""}, []),
        ({"scope": 42}, []),
        ({"scope": None}, []),
        ({}, []),
    ],
)
def test_scopes_of(claims, scopes):
    assert scopes_of(claims) == scopes


def jwks_refreshes(outcome: str) -> float:
    return REGISTRY.get_sample_value("exitus_jwks_refreshes_total", {"outcome": outcome}) or 0.0


# --- remembered tokens ------------------------------------------------------------------------------------------


def token_cache(outcome: str) -> float:
    return REGISTRY.get_sample_value("exitus_auth_token_cache_total", {"outcome": outcome}) or 0.0


def test_a_token_is_checked_in_full_once_then_remembered(http, tenant):
    token = tenant.token(subject=f"remembered-{uuid.uuid4().hex}")
    hits, misses = token_cache("hit"), token_cache("miss")
    for _ in range(3):
        assert http.get("/v1/projects", headers=bearer(token)).status_code == 200
    assert (token_cache("miss") - misses, token_cache("hit") - hits) == (1, 2)


def test_one_request_checks_its_token_once_whatever_the_alternatives(http, issuer, tenant, foreign_key):
    """GET /v1/customers offers four security requirements (two schemes, two granting scopes each), which Connexion
    tries in turn: the token is still checked once, and a refused one is not checked again (nor are keys refetched)."""
    requirements = http.get("/openapi.json").json()["paths"]["/v1/customers"]["get"]["security"]
    assert len(requirements) == 4
    lacking_scope = tenant.token(scopes=["exitus/project.read"], subject=f"once-{uuid.uuid4().hex}")
    forged = foreign_key.sign(claims_for(issuer.url, tenant.customer_id))
    for token, status in ((lacking_scope, 403), (forged, 401)):
        hits, misses = token_cache("hit"), token_cache("miss")
        assert http.get("/v1/customers", headers=bearer(token)).status_code == status
        assert (token_cache("miss") - misses, token_cache("hit") - hits) == (1, 0)


def test_a_remembered_token_is_checked_in_full_again_once_it_expires(own_issuer):
    """Remembered until `exp`, never longer: past it the full check decides (here: accepted within the clock leeway,
    so only the counters tell a remembered answer from a checked one)."""

    async def scenario() -> None:
        verifier = OIDCVerifier(
            own_issuer.url, [CLIENT_ID], http_timeout=5, min_refresh_seconds=30, max_key_age_seconds=600
        )
        # Keys first, and `exp` at least 2 s ahead: with `int(now) + 1` the token could expire (in as little as a few
        # ms) while the first check still fetched the keys on a busy machine, and was then not remembered at all.
        await verifier.refresh_keys(force=True)
        expires = int(time.time()) + 3
        token = own_issuer.key.sign(claims_for(own_issuer.url, exp=expires))
        misses = token_cache("miss")
        await verifier.verify(token)
        await verifier.verify(token)
        assert token_cache("miss") - misses == 1
        await asyncio.sleep(max(0.0, expires - time.time()) + 0.2)
        await verifier.verify(token)
        assert token_cache("miss") - misses == 2

    asyncio.run(scenario())


# --- odd claims: generated, never a 500 -----------------------------------------------------------------------------

# Any JSON value python-jose can carry, lone surrogates and non-finite numbers included (JSON allows the escapes;
# python's json reads NaN and Infinity too).
ANY_TEXT = st.text(st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=30)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=6,
)
NUMERIC_DATES = ("exp", "nbf", "iat")
STRINGS = ("iss", "sub", "client_id", "azp", "token_use", "jti")


def unicode_text(value: Any) -> bool:
    return isinstance(value, str) and not any(0xD800 <= ord(c) <= 0xDFFF for c in value)


def well_typed(claim: str, value: Any) -> bool:
    """RFC 7519's types for the registered claims (and the client claims): what a verifier may rely on."""
    if claim in NUMERIC_DATES:
        return not isinstance(value, bool) and (
            isinstance(value, int) or (isinstance(value, float) and value == value and abs(value) != float("inf"))
        )
    if claim in STRINGS:
        return unicode_text(value)
    assert claim == "aud"
    return unicode_text(value) or (isinstance(value, list) and all(unicode_text(v) for v in value))


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(claim=st.sampled_from([*NUMERIC_DATES, *STRINGS, "aud"]), value=JSON_VALUES)
@example(claim="aud", value=5)
@example(claim="client_id", value=[CLIENT_ID])
@example(claim="sub", value="user-\ud800")
def test_a_registered_claim_of_the_wrong_type_is_401_never_500(http, issuer, tenant, no_tracebacks, claim, value):
    token = issuer.key.sign(claims_for(issuer.url, tenant.customer_id, **{claim: value}))
    response = http.get("/v1/users/me", headers=bearer(token))
    if not well_typed(claim, value):
        assert response.status_code == 401, (claim, value)
        assert_invalid_token(response, "")
    else:  # well typed, but maybe expired, from another issuer, for another client...
        assert response.status_code in (200, 401, 403), response.text


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(header=st.sampled_from(["alg", "kid", "typ", "crit", "cty"]), value=JSON_VALUES)
@example(header="alg", value=["RS256"])
def test_an_odd_token_header_is_401_never_500(http, issuer, tenant, no_tracebacks, header, value):
    token = issuer.key.sign(claims_for(issuer.url, tenant.customer_id), {header: value})
    response = http.get("/v1/users/me", headers=bearer(token))
    assert response.status_code in (200, 401), response.text
    if response.status_code == 401:
        assert_invalid_token(response, "")


def stored_profile(value: Any, limit: int) -> str | None:
    return value[:limit] if unicode_text(value) and "\x00" not in value else None


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=JSON_VALUES | ANY_TEXT, email=JSON_VALUES | ANY_TEXT)
@example(name="\ud800", email="ada\udfff@example.com")
def test_profile_claims_the_database_cannot_hold_are_dropped_and_the_user_served(
    http, issuer, tenant, no_tracebacks, name, email
):
    """Identity providers often let users edit their name and email: a lone surrogate there gave that user a 500 on
    every request. The claim is dropped instead (a NUL too); anything else is kept, cut to the column's length."""
    token = issuer.key.sign(claims_for(issuer.url, tenant.customer_id, name=name, email=email))
    user = me(http, token)
    assert user["name"] == (stored_profile(name, 200) or None)  # an empty name falls back to none
    assert user["email"] == stored_profile(email, 320)


def test_a_token_nested_too_deeply_is_401(http):
    deep = "[" * 2500 + "]" * 2500  # deeper than python's recursion limit, smaller than MAX_TOKEN_BYTES
    header = b64(json.dumps({"alg": "RS256", "kid": "k", "x": "PLACEHOLDER"}).replace('"PLACEHOLDER"', deep).encode())
    assert_invalid_token(http.get("/v1/projects", headers=bearer(f"{header}.{b64json({})}.sig")), "not a well-formed")
    payload = b64(deep.encode())
    token = f"{b64json({'alg': 'RS256', 'kid': 'k'})}.{payload}.sig"
    assert_invalid_token(http.get("/v1/projects", headers=bearer(token)), "the token is invalid")
