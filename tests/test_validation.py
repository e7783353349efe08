"""exitus.validation: Connexion's parameter checks, with each parameter's validator built once."""

from __future__ import annotations

from connexion.validators.parameter import ParameterValidator

from exitus import validation
from exitus.errors import ValidationFailed
from exitus.validation import KeptParameterValidator

LIMIT = {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 100}}
ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
NOTE = {"name": "note", "in": "query", "schema": {"type": "string", "nullable": True}}


def ours(param, value) -> ValidationFailed | None:
    try:
        assert KeptParameterValidator.validate_parameter(param["in"], value, param) is None
    except ValidationFailed as failure:
        return failure
    return None


def test_answers_are_connexions_own_as_validation_problems_naming_the_parameter():
    for param, value in [(LIMIT, 5), (LIMIT, 500), (LIMIT, "x"), (LIMIT, None), (ID, None), (ID, "abc"), (NOTE, None)]:
        connexions = ParameterValidator.validate_parameter(param["in"], value, param)
        failure = ours(param, value)
        assert (failure is None) == (connexions is None), (param, value)
        if failure is not None:
            [error] = failure.extensions["errors"]
            assert error["parameter"] == param["name"]
            assert connexions.startswith(error["message"]) or error["message"] == "is required", (connexions, error)
    assert "500 is greater than the maximum of 100" in ours(LIMIT, 500).detail
    assert ours(ID, None).detail == "Missing path parameter 'id'"


def test_a_parameters_validator_is_built_once():
    param = {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}}
    KeptParameterValidator.validate_parameter("query", 1, param)
    built = validation._validators[id(param)][1]
    KeptParameterValidator.validate_parameter("query", 2, param)
    assert validation._validators[id(param)][1] is built


def test_the_served_api_validates_with_it(tenant):
    response = tenant.api().get("/v1/projects", params={"limit": 1000})
    assert response.status_code == 400
    assert "limit" in {param["name"] for param, _validator in validation._validators.values()}
