"""Connexion's parameter validation, with each parameter's schema validator built once.

Connexion's ParameterValidator deep-copies a parameter's spec and builds a jsonschema validator for every value it
checks, on every request (about 20 µs a parameter, measured: bench/README.md). The spec does not change while the
process runs, so the validator of each parameter is built on first use and kept. What is checked, and the error
text, are Connexion's own.
"""

from __future__ import annotations

import json
from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.utils import is_null, is_nullable
from connexion.validators import VALIDATOR_MAP, JSONResponseBodyValidator
from connexion.validators.parameter import ParameterValidator, draft4_format_checker
from jsonschema import Draft4Validator

from exitus.errors import ValidationFailed, validation_errors

# id(parameter spec) -> (the spec, its validator); the spec is kept so that its id is never reused.
_validators: dict[int, tuple[dict[str, Any], Draft4Validator]] = {}


def _validator_for(param: dict[str, Any]) -> Draft4Validator:
    kept = _validators.get(id(param))
    if kept is None or kept[0] is not param:
        kept = _validators[id(param)] = (
            param,
            Draft4Validator(param.get("schema", param), format_checker=draft4_format_checker),
        )
    return kept[1]


UNKNOWN_PARAMETER = "is not a parameter of this operation"


class KeptParameterValidator(ParameterValidator):
    """Connexion's checks and messages; a failure is a `validation` problem naming the parameter (`errors`)."""

    def validate_request(self, request: Any) -> None:
        if self.strict_validation:
            extra = self.validate_query_parameter_list(request, security_params=self.security_query_params)
            if extra:
                raise ValidationFailed(
                    f"Extra query parameter(s) {','.join(extra)} not in spec",
                    errors=[{"parameter": name[:100], "message": UNKNOWN_PARAMETER} for name in extra],
                )
        super().validate_request(request)

    @staticmethod
    def validate_parameter(parameter_type: str, value: Any, param: dict[str, Any], param_name: str | None = None):
        if is_nullable(param) and is_null(value):
            return None
        if value is not None:
            errors = [*_validator_for(param).iter_errors(value)]
            if errors:
                raise ValidationFailed(
                    f"{parameter_type} parameter {param['name']!r}: {errors[0].message}",
                    errors=validation_errors(errors, source=param["name"]),
                )
            return None
        if param.get("required"):
            raise ValidationFailed(
                f"Missing {parameter_type} parameter '{param['name']}'",
                errors=[{"parameter": param["name"], "message": "is required"}],
            )
        return None


class NDJSONResponseBodyValidator(JSONResponseBodyValidator):
    """An NDJSON export (the spec: a string) is many JSON documents, not one: each line must parse."""

    def _parse(self, stream: Any) -> str:
        body = b"".join(stream).decode(self._encoding)
        for line in body.splitlines():
            json.loads(line)
        return body


VALIDATORS = {
    **VALIDATOR_MAP,
    "parameter": KeptParameterValidator,
    # Connexion's "*/*json" would read application/x-ndjson as one JSON document.
    "response": MediaTypeDict({"application/x-ndjson": NDJSONResponseBodyValidator, **VALIDATOR_MAP["response"]}),
}
