"""JSON request bodies: parsed once, strictly, by Connexion's validation, and handed to the handler as validated.

Connexion validates the body it parses itself, then passes the original bytes on for Flask to parse again; two
parsers that disagree (a declared charset, a byte-order mark) would let the handler see a document nobody
validated. Here the validated document is serialised again (UTF-8) and that is what Flask parses. Parsing is
strict and never a 500: UTF-8 only (RFC 8259; the edge refuses other charsets), no lone surrogate escapes (no
Unicode character, and no database can store one), no NaN or infinite numbers, no numbers too long to convert,
no nesting deeper than the parser's recursion allows — each a 400 problem.
"""

from __future__ import annotations

import json
import typing as t

from connexion.datastructures import MediaTypeDict
from connexion.json_schema import format_error_with_path
from connexion.validators import VALIDATOR_MAP as CONNEXION_VALIDATORS
from connexion.validators import JSONRequestBodyValidator
from starlette.datastructures import MutableHeaders
from starlette.types import Receive, Scope

from exitus.errors import MalformedBody, ValidationFailed, validation_errors


class StrictJSONBody(JSONRequestBodyValidator):
    MUTABLE_VALIDATION = True  # Connexion then replays `_insert_body`'s bytes, not the client's

    _serialised: bytes | None = None

    async def _parse(self, stream: t.AsyncGenerator[bytes, None], scope: Scope) -> t.Any:
        raw = b"".join([chunk async for chunk in stream])
        if not raw:
            return None
        try:
            text = raw.decode("utf-8")  # whatever was declared: the edge lets only UTF-8 through
        except UnicodeDecodeError:
            raise MalformedBody("the request body is not valid UTF-8") from None
        try:
            document = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
        except json.JSONDecodeError as error:
            raise MalformedBody(f"the request body is not valid JSON: {error}") from None
        except RecursionError:
            raise MalformedBody("the request body is nested too deeply") from None
        except ValueError as error:  # a number too long to convert, a non-finite one
            raise MalformedBody(f"the request body has a number out of range: {error}") from None
        self._serialised = _utf8(document)
        return document

    def _validate(self, body: t.Any) -> dict | None:
        """Connexion's check, reporting every invalid member (`errors`), not only the first."""
        if body is None:
            return super()._validate(body)  # Connexion's answer to a missing body
        try:
            errors = [*self._validator.iter_errors(body)]
        except RecursionError:  # the validator's own recursion, on a document just shallow enough to parse
            raise MalformedBody("the request body is nested too deeply") from None
        if errors:
            first = min(errors, key=lambda error: list(error.absolute_path))
            raise ValidationFailed(
                first.message + format_error_with_path(first), errors=validation_errors(errors, source="body")
            )
        return None

    def _insert_body(self, receive: Receive, *, body: t.Any, scope: Scope) -> tuple[Receive, Scope]:
        """The validated document as the body from now on (or, with no body sent, the schema's default)."""
        if body is None:
            return receive, scope
        data = self._serialised if self._serialised is not None else _utf8(body)
        new_scope = {**scope, "headers": list(scope["headers"])}
        MutableHeaders(scope=new_scope)["content-length"] = str(len(data))
        message = {"type": "http.request", "body": data, "more_body": False}
        return self._insert_messages(receive, messages=[message]), new_scope


def _utf8(document: t.Any) -> bytes:
    try:
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedBody(
            "the request body has a lone surrogate escape (\\ud800-\\udfff), which is no Unicode character"
        ) from None
    except RecursionError:
        raise MalformedBody("the request body is nested too deeply") from None


def _no_constant(name: str) -> t.NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:40]} is beyond a double's range")
    return value


# Connexion's validators, with JSON bodies validated as above (forms keep Connexion's own).
BODY_VALIDATORS = {"body": MediaTypeDict({**CONNEXION_VALIDATORS["body"], "*/*json": StrictJSONBody})}
