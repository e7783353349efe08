"""OIDC bearer-token verification, wired to the spec's `openIdConnect` and HTTP `bearer` security schemes.

The provider's discovery document is fetched once; its JWKS is cached and refetched when a token names an unknown
`kid` (at most once per `jwks_min_refresh_seconds`) or when the cached keys are older than `jwks_max_age_seconds`.
A verified token is remembered (by its SHA-256) until its `exp`, so a client's next request with it costs no
signature check; the memory is emptied whenever the key set changes. Fetches are async (httpx), because Connexion
calls the token-info function on the event loop. Checks: size cap, asymmetric algorithm allow-list, no `crit`,
signature, `iss` exactly, `exp` required, `nbf`, and that the token was issued for this service (`aud` contains, or
`client_id`/`azp` equals, a configured client id — Cognito access tokens carry no `aud`).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import cachetools
import httpx
from connexion.security import OAuthSecurityHandler
from jose import jwt
from jose.exceptions import ExpiredSignatureError, JWTClaimsError, JWTError

from exitus import metrics
from exitus.errors import Unauthorized
from exitus.logs import note_caller

log = logging.getLogger("exitus.auth")

# Asymmetric only, and only what python-jose can verify: it has no RSASSA-PSS (PS256...), so a PS token is refused
# as an algorithm we do not accept rather than failing later as "invalid".
ALLOWED_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"})
MAX_TOKEN_BYTES = 8192
CLOCK_LEEWAY_SECONDS = 30
ACCESS_TOKEN_TYPES = frozenset({"jwt", "at+jwt", "application/at+jwt"})
VERIFIED_TOKENS_KEPT = 10_000
TOKEN_CACHE_HITS = metrics.AUTH_TOKEN_CACHE.labels(outcome="hit")
TOKEN_CACHE_MISSES = metrics.AUTH_TOKEN_CACHE.labels(outcome="miss")
TOKEN_OUTCOMES_KEY = "exitus.token_outcomes"  # in the ASGI scope: this request's verified or refused tokens


class ProviderUnavailable(Exception):
    """The OpenID provider's discovery document or JWKS could not be fetched."""


class OIDCVerifier:
    def __init__(
        self,
        issuer: str,
        client_ids: Iterable[str],
        *,
        http_timeout: float,  # the figures are config's (exitus/config.py), passed by create_app
        min_refresh_seconds: float,
        max_key_age_seconds: float,
    ):
        self.issuer = issuer  # compared exactly with `iss`
        self.client_ids = frozenset(client_ids)
        self.http_timeout = http_timeout
        self.min_refresh_seconds = min_refresh_seconds
        # Keys the provider withdrew must stop working even if no token with a new kid ever arrives.
        self.max_key_age_seconds = max_key_age_seconds
        self._jwks_uri: str | None = None
        self._keys: dict[str, dict[str, Any]] = {}
        self._last_fetch = float("-inf")
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()
        # SHA-256 of a verified token -> its claims, until its `exp` (wall clock, as `exp` is). Used from the event
        # loop only, like everything here: no lock.
        self._verified: cachetools.TLRUCache[bytes, dict[str, Any]] = cachetools.TLRUCache(
            maxsize=VERIFIED_TOKENS_KEPT, ttu=lambda _digest, claims, _now: claims["exp"], timer=time.time
        )

    async def refresh_keys(self, *, force: bool = False) -> bool:
        """Fetch the JWKS (and, the first time, the discovery document). Rate-limited unless forced.

        Returns whether a fetch happened. A failed fetch keeps the cached keys.
        """
        async with self._lock:
            now = time.monotonic()
            if not force and now - self._last_fetch < self.min_refresh_seconds:
                return False
            self._last_fetch = now
            try:
                keys = await self._fetch_keys()
            except Exception:
                metrics.JWKS_REFRESHES.labels(outcome="error").inc()
                raise
            metrics.JWKS_REFRESHES.labels(outcome="ok").inc()
            self._fetched_at = now
            signing_keys = {
                k["kid"]: k
                for k in keys
                if isinstance(k, dict) and isinstance(k.get("kid"), str) and k.get("use", "sig") == "sig"
            }
            if signing_keys != self._keys:
                self._verified.clear()  # a withdrawn key's tokens must be checked again, and fail
            self._keys = signing_keys
            log.info("fetched %d signing keys from the OpenID provider", len(self._keys))
            return True

    async def _fetch_keys(self) -> list[Any]:
        async with httpx.AsyncClient(timeout=self.http_timeout, follow_redirects=False) as client:
            if self._jwks_uri is None:
                discovery = await _get_json(client, discovery_url(self.issuer))
                if discovery.get("issuer") != self.issuer:
                    raise ProviderUnavailable("the discovery document names another issuer")
                if not isinstance(discovery.get("jwks_uri"), str):
                    raise ProviderUnavailable("the discovery document has no jwks_uri")
                self._jwks_uri = discovery["jwks_uri"]
            jwks = await _get_json(client, self._jwks_uri)
        keys = jwks.get("keys")
        if not isinstance(keys, list):
            raise ProviderUnavailable("the JWKS has no keys")
        return keys

    async def _key_for(self, kid: str) -> dict[str, Any]:
        key = self._keys.get(kid)
        if key is None or time.monotonic() - self._fetched_at > self.max_key_age_seconds:
            try:
                await self.refresh_keys()
            except (ProviderUnavailable, httpx.HTTPError) as error:
                # Cached keys keep working; a token with an unknown key cannot be checked now.
                log.warning("cannot refresh signing keys: %s", error)
                if key is None:
                    raise Unauthorized(
                        "the token's signing key cannot be checked now", reason="provider_unavailable"
                    ) from None
            else:
                key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("the token is signed with an unknown key", reason="unknown_key")
        return key

    async def verify(self, token: str) -> dict[str, Any]:
        """The verified claims of `token`, or Unauthorized saying why not."""
        if len(token) > MAX_TOKEN_BYTES:
            raise Unauthorized("the token is too large", reason="oversized")
        digest = hashlib.sha256(token.encode()).digest()
        claims = self._verified.get(digest)
        if claims is not None and time.monotonic() - self._fetched_at <= self.max_key_age_seconds:
            TOKEN_CACHE_HITS.inc()
            return claims
        TOKEN_CACHE_MISSES.inc()
        claims = await self._verify_signed(token)
        self._verified[digest] = claims
        return claims

    async def _verify_signed(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except (JWTError, RecursionError):
            raise Unauthorized("the token is not a well-formed JWT", reason="malformed") from None
        try:
            # Read before the signature is checked only to refuse ill-typed claims early (python-jose's own claim
            # checks fail with TypeError on some); nothing is accepted on this unverified copy.
            unverified_claims = jwt.get_unverified_claims(token)
        except (JWTError, RecursionError):
            raise Unauthorized("the token is invalid", reason="invalid") from None
        _check_claim_types(unverified_claims)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS:
            raise Unauthorized("the token's signing algorithm is not accepted", reason="bad_algorithm")
        if "crit" in header:
            raise Unauthorized("the token requires extensions this service does not understand", reason="crit")
        typ = header.get("typ")
        if typ is not None and str(typ).lower() not in ACCESS_TOKEN_TYPES:
            raise Unauthorized("the token is not an access token", reason="wrong_type")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Unauthorized("the token names no signing key (kid)", reason="unknown_key")
        key = await self._key_for(kid)
        if key.get("alg", alg) != alg:
            raise Unauthorized("the token's algorithm does not match its key", reason="bad_algorithm")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                issuer=self.issuer,
                options={
                    "verify_aud": False,  # checked below: Cognito access tokens have no aud
                    "require_exp": True,
                    "require_iss": True,
                    "require_sub": True,
                    "leeway": CLOCK_LEEWAY_SECONDS,
                },
            )
        except ExpiredSignatureError:
            raise Unauthorized("the token has expired", reason="expired") from None
        except JWTClaimsError as error:
            raise Unauthorized(_claims_problem(str(error)), reason=_claims_reason(str(error))) from None
        except JWTError as error:
            message = str(error).lower()
            if "signature" in message:
                raise Unauthorized("the token's signature is invalid", reason="bad_signature") from None
            raise Unauthorized("the token is invalid", reason="invalid") from None
        except (TypeError, ValueError):  # python-jose's int() of a time claim that is null, a list or an object
            raise Unauthorized("the token's claims are invalid", reason="invalid_claims") from None
        self._check_issued_for_us(claims)
        if claims.get("token_use", "access") != "access":
            raise Unauthorized("the token is not an access token", reason="wrong_type")
        subject = claims.get("sub")
        if not _is_text(subject) or not 0 < len(subject) <= 255 or "\x00" in subject:
            raise Unauthorized("the token has no usable subject", reason="invalid")
        return claims

    def _check_issued_for_us(self, claims: Mapping[str, Any]) -> None:
        audience = claims.get("aud")
        audiences = {audience} if isinstance(audience, str) else set(audience or ())
        if audiences & self.client_ids:
            return
        if claims.get("client_id") in self.client_ids or claims.get("azp") in self.client_ids:
            return
        raise Unauthorized("the token was not issued for this service", reason="wrong_audience")


NUMERIC_DATE_CLAIMS = ("exp", "nbf", "iat")
STRING_CLAIMS = ("iss", "sub", "client_id", "azp", "token_use", "jti")


def _check_claim_types(claims: Mapping[str, Any]) -> None:
    """The registered claims (RFC 7519 section 4.1) and the client claims have the types their checks rely on: dates
    are finite numbers, `aud` a string or a list of strings, the others strings; every string is Unicode (JSON
    allows lone surrogate escapes, which are not characters and which no database stores)."""
    for name in NUMERIC_DATE_CLAIMS:
        if name in claims and not _is_numeric_date(claims[name]):
            detail = "the token has no valid expiry" if name == "exp" else f"the token's {name!r} claim is not a date"
            raise Unauthorized(detail, reason="invalid_claims")
    for name in STRING_CLAIMS:
        if name in claims and not _is_text(claims[name]):
            raise Unauthorized(f"the token's {name!r} claim is not a Unicode string", reason="invalid_claims")
    audience = claims.get("aud")
    if "aud" in claims and not (
        _is_text(audience) or (isinstance(audience, list) and all(_is_text(a) for a in audience))
    ):
        raise Unauthorized("the token's 'aud' claim is not a string or a list of strings", reason="invalid_claims")


def _is_numeric_date(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _is_text(value: Any) -> bool:
    """A string of Unicode characters (no lone surrogate)."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def discovery_url(issuer: str) -> str:
    return f"{issuer.rstrip('/')}/.well-known/openid-configuration"


def scopes_of(claims: Mapping[str, Any]) -> list[str]:
    """Scopes from `scope` (space-separated, OAuth 2) or `scp` (array or string, Okta/Azure style)."""
    raw = claims.get("scope", claims.get("scp", ""))
    if isinstance(raw, str):
        return raw.split()
    if isinstance(raw, list):
        return [s for s in raw if isinstance(s, str)]
    return []


def security_handler_for(verifier: OIDCVerifier) -> type[OAuthSecurityHandler]:
    """A Connexion security handler class for the spec's `openIdConnect` and HTTP `bearer` schemes, bound to
    `verifier`. An OAuth handler for both: it checks each security requirement's scopes against the token's."""

    async def token_info(token: str, request: Any) -> dict[str, Any]:
        # An operation offers several security requirements (each scheme, each granting scope) and Connexion checks
        # them one by one, each with this function: the token is verified once per request, and a refused token is
        # refused again at once, without another signature check or key fetch.
        outcomes = request.scope.setdefault(TOKEN_OUTCOMES_KEY, {})
        outcome = outcomes.get(token)
        if outcome is None:
            try:
                claims = await verifier.verify(token)  # raises Unauthorized(reason), counted where it is rendered
            except Unauthorized as error:
                outcomes[token] = error
                raise
            metrics.AUTH_OUTCOMES.labels(outcome="accepted", reason="valid").inc()
            note_caller(sub=claims["sub"])
            outcome = outcomes[token] = {"sub": claims["sub"], "scope": scopes_of(claims), "claims": claims}
        if isinstance(outcome, Unauthorized):
            raise outcome
        return outcome

    class OIDCSecurityHandler(OAuthSecurityHandler):
        def get_tokeninfo_func(self, security_definition: dict):
            return token_info

        @staticmethod
        @functools.cache
        def _accepts_kwarg(func: Callable, keyword: str) -> bool:
            # Connexion asks this of the token-info function on every request, through inspect.signature (about
            # 90 µs a request, measured); the answer cannot change for one function.
            return OAuthSecurityHandler._accepts_kwarg(func, keyword)

    return OIDCSecurityHandler


async def _get_json(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    try:
        response = await client.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        data = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise ProviderUnavailable(f"GET {url} failed: {type(error).__name__}") from None
    if not isinstance(data, dict):
        raise ProviderUnavailable(f"GET {url} did not return a JSON object")
    return data


def _claims_reason(message: str) -> str:
    message = message.lower()
    if "issuer" in message:
        return "wrong_issuer"
    if "nbf" in message or "not yet valid" in message:
        return "not_yet_valid"
    if "exp" in message:
        return "expired"
    return "invalid_claims"


def _claims_problem(message: str) -> str:
    return {
        "wrong_issuer": "the token was issued by another provider",
        "not_yet_valid": "the token is not valid yet",
        "expired": "the token has no valid expiry",
    }.get(_claims_reason(message), "the token's claims are invalid")
