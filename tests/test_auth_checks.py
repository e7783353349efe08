"""Each check of exitus.auth.OIDCVerifier pinned at its edge: the value just accepted and the value just refused.

tests/test_auth.py shows each rejection over HTTP; these call the verifier itself (real tokens, the dev issuer's
JWKS over HTTP, no database), so they are fast enough to run against every mutant of exitus/auth.py
(`make mutate`), and they name the reason (the metrics label) rather than the wording.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jose import jwk, jwt

from exitus.auth import CLOCK_LEEWAY_SECONDS, OIDCVerifier, ProviderUnavailable
from exitus.errors import Unauthorized
from tests.conftest import CLIENT_ID
from tests.test_auth import DROP, claims_for, jwks_refreshes

OTHER_CLIENT = "another-client"


@pytest.fixture
def verifier(issuer) -> OIDCVerifier:
    return OIDCVerifier(
        issuer.url, [CLIENT_ID, OTHER_CLIENT], http_timeout=5, min_refresh_seconds=30, max_key_age_seconds=600
    )


def verify(verifier: OIDCVerifier, token: str) -> dict[str, Any]:
    return asyncio.run(verifier.verify(token))


# What a client reads in the 401's detail, for each reason: written out here, not taken from exitus.auth.
DETAILS = {
    "oversized": {"the token is too large"},
    "malformed": {"the token is not a well-formed JWT"},
    "invalid": {"the token is invalid", "the token has no usable subject"},
    "bad_algorithm": {"the token's signing algorithm is not accepted", "the token's algorithm does not match its key"},
    "crit": {"the token requires extensions this service does not understand"},
    "wrong_type": {"the token is not an access token"},
    "unknown_key": {"the token names no signing key (kid)", "the token is signed with an unknown key"},
    "provider_unavailable": {"the token's signing key cannot be checked now"},
    "expired": {"the token has expired", "the token has no valid expiry"},
    "bad_signature": {"the token's signature is invalid"},
    "wrong_issuer": {"the token was issued by another provider"},
    "not_yet_valid": {"the token is not valid yet"},
    "wrong_audience": {"the token was not issued for this service"},
    "invalid_claims": {
        "the token's claims are invalid",
        "the token has no valid expiry",
        "the token's 'aud' claim is not a string or a list of strings",
        *(f"the token's {name!r} claim is not a date" for name in ("nbf", "iat")),
        *(
            f"the token's {name!r} claim is not a Unicode string"
            for name in ("iss", "sub", "client_id", "azp", "token_use", "jti")
        ),
    },
}


def refused(verifier: OIDCVerifier, token: str) -> str:
    """The reason the verifier gives for refusing `token` (its detail checked against DETAILS)."""
    with pytest.raises(Unauthorized) as refusal:
        verify(verifier, token)
    assert refusal.value.status == 401
    assert refusal.value.detail in DETAILS[refusal.value.reason]
    return refusal.value.reason


def signed(issuer, headers: dict[str, Any] | None = None, **overrides: Any) -> str:
    return issuer.key.sign(claims_for(issuer.url, **overrides), headers)


def whole_second() -> int:
    """Now, in whole seconds, early in the second: a token minted now is checked before the clock reaches the
    next one, so edge values exactly at the leeway are not flaky."""
    while time.time() % 1 > 0.5:
        time.sleep(0.05)
    return int(time.time())


def test_a_valid_token_is_accepted(issuer, verifier):
    claims = verify(verifier, signed(issuer))
    assert claims["iss"] == issuer.url


# --- issuer ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["/", "x", "/other", "?"], ids=["slash", "longer", "path", "query"])
def test_an_issuer_that_merely_starts_like_ours_is_refused(issuer, verifier, suffix):
    assert refused(verifier, signed(issuer, iss=issuer.url + suffix)) == "wrong_issuer"


def test_an_issuer_that_is_a_prefix_of_ours_is_refused(issuer, verifier):
    assert refused(verifier, signed(issuer, iss=issuer.url[:-1])) == "wrong_issuer"


@pytest.mark.parametrize("iss", [DROP, "", None], ids=["missing", "empty", "null"])
def test_a_token_without_an_issuer_is_refused(issuer, verifier, iss):
    assert refused(verifier, signed(issuer, iss=iss)) in ("wrong_issuer", "invalid", "invalid_claims")


# --- audience (aud, client_id, azp) ------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["aud", "client_id", "azp"])
@pytest.mark.parametrize(
    "value",
    ["exitus", "exitus-tes", "xitus-test", "exitus-test ", "exitus-test-2", "EXITUS-TEST", "", "*", "another"],
)
def test_an_audience_that_is_not_exactly_a_configured_client_is_refused(issuer, verifier, field, value):
    token = signed(issuer, **{"client_id": DROP, field: value})
    assert refused(verifier, token) == "wrong_audience"


@pytest.mark.parametrize("aud", [[], [""], ["exitus", "test"], ["exitus-tes", "another-clien"]], ids=repr)
def test_an_audience_list_without_a_configured_client_is_refused(issuer, verifier, aud):
    assert refused(verifier, signed(issuer, client_id=DROP, aud=aud)) == "wrong_audience"


def test_a_null_audience_is_a_malformed_claim(issuer, verifier):
    assert refused(verifier, signed(issuer, client_id=DROP, aud=None)) == "invalid_claims"


@pytest.mark.parametrize(
    "issued_for",
    [
        {"aud": CLIENT_ID},
        {"aud": ["account", OTHER_CLIENT]},
        {"client_id": OTHER_CLIENT},
        {"azp": CLIENT_ID},
    ],
    ids=["aud", "aud-list", "client_id", "azp"],
)
def test_each_way_of_naming_a_configured_client_is_accepted(issuer, verifier, issued_for):
    verify(verifier, signed(issuer, **{"client_id": DROP, **issued_for}))


# --- algorithm ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["HS256", "HS512", "none", "None", "rs256", ""])
def test_an_algorithm_outside_the_allow_list_is_refused(issuer, verifier, alg):
    assert refused(verifier, signed(issuer, {"alg": alg})) == "bad_algorithm"


@pytest.mark.parametrize("alg", ["RS384", "RS512"])
def test_an_allowed_algorithm_other_than_the_keys_is_refused(issuer, verifier, alg):
    """The published key says RS256: the same key used with another allowed algorithm is not accepted."""
    token = jwt.encode(
        claims_for(issuer.url), issuer.key.pem().decode(), algorithm=alg, headers={"kid": issuer.key.kid}
    )
    assert refused(verifier, token) == "bad_algorithm"


@pytest.fixture(scope="module")
def every_algorithm_issuer() -> Iterator[tuple[str, dict[str, Any]]]:
    """A provider of its own over HTTP (discovery + JWKS), publishing one RSA key and one EC key per curve, each
    named by its algorithm: (issuer URL, alg -> private key in PEM)."""
    rsa_pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    private = {alg: rsa_pem for alg in ("RS256", "RS384", "RS512", "PS256")}
    for alg, curve in (("ES256", ec.SECP256R1()), ("ES384", ec.SECP384R1()), ("ES512", ec.SECP521R1())):
        private[alg] = ec.generate_private_key(curve).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    keys: list[Any] = [  # the RSA key once more, published for encryption only: never a token's signing key
        {**jwk.construct(rsa_pem, "RS256").public_key().to_dict(), "kid": "encryption", "use": "enc"},
        "not a key",  # entries that are no keys at all are passed over
        ["nor", "this"],
    ]
    for alg, pem in private.items():
        public = jwk.construct(pem, "RS256" if alg.startswith("PS") else alg).public_key().to_dict()
        public = {name: value for name, value in public.items() if name != "alg"}  # a key for any RSA algorithm
        # `use` is optional (RFC 7517 §4.2): the EC keys leave it out, and are signing keys all the same
        keys.append(
            {**public, "kid": alg}
            | ({} if alg.startswith("ES") else {"use": "sig"})
            | ({} if alg.startswith("PS") else {"alg": alg})
        )
    documents: dict[str, Any] = {}

    class Provider(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path in redirects:
                self.send_response(302)
                self.send_header("Location", redirects[self.path])
                self.end_headers()
                return
            body = json.dumps(documents[self.path]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    documents["/.well-known/openid-configuration"] = {"issuer": url, "jwks_uri": f"{url}/jwks"}
    documents["/jwks"] = {"keys": keys}
    # a provider whose discovery document moved: redirects are not followed (the issuer names its own URLs)
    redirects = {"/moved/.well-known/openid-configuration": f"{url}/elsewhere"}
    documents["/elsewhere"] = {"issuer": f"{url}/moved", "jwks_uri": f"{url}/jwks"}
    # a provider whose key set holds no list of keys
    documents["/keyless/.well-known/openid-configuration"] = {"issuer": f"{url}/keyless", "jwks_uri": f"{url}/none"}
    documents["/none"] = {"keys": {"kid": "a key, not a list of keys"}}
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield url, private
    server.shutdown()


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"])
def test_every_allowed_algorithm_is_verified(every_algorithm_issuer, alg):
    url, private = every_algorithm_issuer
    token = jwt.encode(claims_for(url), private[alg].decode(), algorithm=alg, headers={"kid": alg})
    assert (
        verify(OIDCVerifier(url, [CLIENT_ID], http_timeout=5, min_refresh_seconds=30, max_key_age_seconds=600), token)[
            "iss"
        ]
        == url
    )


@pytest.mark.parametrize("token", ["abc", "not.a.jwt", "a.b", "...."])
def test_a_token_that_is_no_jwt_is_malformed(verifier, token):
    assert refused(verifier, token) == "malformed"


def test_a_token_that_names_critical_extensions_is_refused(issuer, verifier):
    assert refused(verifier, signed(issuer, {"crit": ["exp"]})) == "crit"


@pytest.mark.parametrize("kid", [None, 7, ["k"]], ids=["null", "number", "list"])
def test_a_token_without_a_key_id_is_refused(issuer, verifier, kid):
    assert refused(verifier, signed(issuer, {"kid": kid})) == "unknown_key"


@pytest.mark.parametrize("payload", [b"not json", b"[1, 2]", b'"a string"'], ids=["text", "array", "string"])
def test_a_token_whose_claims_are_not_a_json_object_is_invalid(issuer, verifier, payload):
    header, _, signature = signed(issuer).split(".")
    claims = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    assert refused(verifier, f"{header}.{claims}.{signature}") == "invalid"


def test_a_key_published_for_encryption_never_verifies_a_token(every_algorithm_issuer):
    url, private = every_algorithm_issuer
    token = jwt.encode(claims_for(url), private["RS256"].decode(), algorithm="RS256", headers={"kid": "encryption"})
    verifier = OIDCVerifier(url, [CLIENT_ID], http_timeout=5, min_refresh_seconds=30, max_key_age_seconds=600)
    assert refused(verifier, token) == "unknown_key"


def test_a_successful_key_fetch_is_counted_and_logged(every_algorithm_issuer, caplog):
    url, _ = every_algorithm_issuer
    verifier = OIDCVerifier(url, [CLIENT_ID], http_timeout=5, min_refresh_seconds=30, max_key_age_seconds=600)
    before = jwks_refreshes("ok")
    with caplog.at_level(logging.INFO, logger="exitus.auth"):
        asyncio.run(verifier.refresh_keys(force=True))
    assert jwks_refreshes("ok") == before + 1
    # 7 signing keys: the RSA key under four kids and three EC keys; not the encryption key, nor the junk
    assert [r.getMessage() for r in caplog.records if r.name == "exitus.auth"] == [
        "fetched 7 signing keys from the OpenID provider"
    ]


def test_a_key_set_without_a_list_of_keys_is_provider_unavailable(every_algorithm_issuer):
    url, _ = every_algorithm_issuer
    verifier = OIDCVerifier(
        f"{url}/keyless", [CLIENT_ID], http_timeout=5, min_refresh_seconds=0, max_key_age_seconds=600
    )
    with pytest.raises(ProviderUnavailable, match=r"^the JWKS has no keys$"):
        asyncio.run(verifier.refresh_keys(force=True))


def test_a_discovery_document_behind_a_redirect_is_not_followed(every_algorithm_issuer):
    url, _ = every_algorithm_issuer
    verifier = OIDCVerifier(f"{url}/moved", [CLIENT_ID], http_timeout=5, min_refresh_seconds=0, max_key_age_seconds=600)
    with pytest.raises(ProviderUnavailable):
        asyncio.run(verifier.refresh_keys(force=True))


def test_an_rsassa_pss_token_is_refused_as_an_algorithm_not_accepted(every_algorithm_issuer):
    """python-jose cannot verify PS256: such a token must be named for what it is, not fail later as invalid."""
    url, _ = every_algorithm_issuer
    header = {"alg": "PS256", "kid": "PS256", "typ": "JWT"}
    token = ".".join(
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode() for part in (header, claims_for(url))
    )
    assert (
        refused(
            OIDCVerifier(url, [CLIENT_ID], http_timeout=5, min_refresh_seconds=30, max_key_age_seconds=600),
            token + ".c2lnbmF0dXJl",
        )
        == "bad_algorithm"
    )


# --- time: exp and nbf, with the leeway at both edges -------------------------------------------------------------


def test_the_leeway_is_thirty_seconds():
    assert CLOCK_LEEWAY_SECONDS == 30  # the edges below are written for it


@pytest.mark.parametrize("age", [29, 30])
def test_a_token_expired_within_the_leeway_is_accepted(issuer, verifier, age):
    now = whole_second()
    verify(verifier, signed(issuer, iat=now - 600, nbf=now - 600, exp=now - age))


@pytest.mark.parametrize("age", [31, 3600])
def test_a_token_expired_beyond_the_leeway_is_refused(issuer, verifier, age):
    now = whole_second()
    assert refused(verifier, signed(issuer, iat=now - 7200, nbf=now - 7200, exp=now - age)) == "expired"


@pytest.mark.parametrize("early", [29, 30])
def test_a_token_not_yet_valid_within_the_leeway_is_accepted(issuer, verifier, early):
    now = whole_second()
    verify(verifier, signed(issuer, iat=now + early, nbf=now + early))


@pytest.mark.parametrize("early", [31, 3600])
def test_a_token_not_yet_valid_beyond_the_leeway_is_refused(issuer, verifier, early):
    now = whole_second()
    assert refused(verifier, signed(issuer, iat=now, nbf=now + early, exp=now + 7200)) == "not_yet_valid"


@pytest.mark.parametrize("exp", [DROP, None, "soon", [1], {"a": 1}], ids=["missing", "null", "text", "list", "object"])
def test_a_token_without_a_usable_expiry_is_refused(issuer, verifier, exp):
    assert refused(verifier, signed(issuer, exp=exp)) in ("invalid", "expired", "invalid_claims")


@pytest.mark.parametrize("claim", ["nbf", "iat"])
@pytest.mark.parametrize("value", [None, "soon", [1], {"a": 1}], ids=["null", "text", "list", "object"])
def test_a_token_with_an_unusable_time_claim_is_refused(issuer, verifier, claim, value):
    """Was a 500: python-jose's int() of the claim raised TypeError through the verifier."""
    assert refused(verifier, signed(issuer, **{claim: value})) in ("invalid", "not_yet_valid", "invalid_claims")


# --- subject -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sub",
    ["", "x" * 256, "a\x00b", 42, ["a"], None, DROP],
    ids=["empty", "256", "nul", "int", "list", "null", "missing"],
)
def test_a_token_without_a_usable_subject_is_refused(issuer, verifier, sub):
    assert refused(verifier, signed(issuer, sub=sub)) in ("invalid", "invalid_claims")


@pytest.mark.parametrize("sub", ["x", "x" * 255], ids=["1", "255"])
def test_a_subject_at_the_edges_of_its_length_is_accepted(issuer, verifier, sub):
    assert verify(verifier, signed(issuer, sub=sub))["sub"] == sub


# --- token type --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("typ", ["JWT", "jwt", "at+jwt", "AT+JWT", "application/at+jwt"])
def test_access_token_types_are_accepted(issuer, verifier, typ):
    verify(verifier, signed(issuer, {"typ": typ}))


@pytest.mark.parametrize("typ", ["id+jwt", "JWS", "", "at+jwt2", "logout+jwt"])
def test_other_token_types_are_refused(issuer, verifier, typ):
    assert refused(verifier, signed(issuer, {"typ": typ})) == "wrong_type"


@pytest.mark.parametrize("token_use", ["id", "refresh", "", "Access"])
def test_a_token_for_another_use_is_refused(issuer, verifier, token_use):
    assert refused(verifier, signed(issuer, token_use=token_use)) == "wrong_type"


def test_a_token_that_names_no_use_is_accepted(issuer, verifier):
    verify(verifier, signed(issuer, token_use=DROP))


# --- size --------------------------------------------------------------------------------------------------------


TOKEN_LIMIT = 8192  # bytes: the limit README's "Authentication" documents, written out here on purpose


def token_of_length(issuer, length: int) -> str:
    """A token exactly `length` long, grown by a padding claim and a padding header (a base64 segment can never be
    4n+1 long, but two segments together reach every total)."""
    for header_padding in range(4):
        padding = max(0, (length - len(signed(issuer, jti="j", padding=""))) * 3 // 4 - 32)
        while len(token := signed(issuer, {"pad": "x" * header_padding}, jti="j", padding="x" * padding)) < length:
            padding += 1
        if len(token) == length:
            return token
    raise AssertionError(f"no token of {length} bytes")


def test_a_token_at_the_size_limit_is_checked_and_one_byte_over_is_refused(issuer, verifier):
    verify(verifier, token_of_length(issuer, TOKEN_LIMIT))
    assert refused(verifier, token_of_length(issuer, TOKEN_LIMIT + 1)) == "oversized"
