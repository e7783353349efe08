"""exitus.validation: Connexion's parameter checks, with each parameter's validator built once."""

from __future__ import annotations

from connexion.validators.parameter import ParameterValidator

from exitus import validation
from exitus.validation import KeptParameterValidator

LIMIT = {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 100}}
ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
NOTE = {"name": "note", "in": "query", "schema": {"type": "string", "nullable": True}}


def test_answers_are_connexions_own():
    for param, value in [(LIMIT, 5), (LIMIT, 500), (LIMIT, "x"), (LIMIT, None), (ID, None), (ID, "abc"), (NOTE, None)]:
        ours = KeptParameterValidator.validate_parameter(param["in"], value, param)
        assert ours == ParameterValidator.validate_parameter(param["in"], value, param), (param, value)
    assert "500 is greater than the maximum of 100" in KeptParameterValidator.validate_parameter("query", 500, LIMIT)
    assert KeptParameterValidator.validate_parameter("path", None, ID) == "Missing path parameter 'id'"


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
