"""OperationIds are public names; each names exactly one handler function in exitus/api/."""

import types

import pytest
import yaml

import exitus.api
from exitus.resources import SPEC_FILE


def spec_operation_ids() -> list[str]:
    spec = yaml.safe_load(SPEC_FILE.read_text())
    return [op["operationId"] for item in spec["paths"].values() for op in item.values() if "operationId" in op]


def test_every_operation_id_is_a_public_name_with_a_handler_of_that_name():
    operation_ids = spec_operation_ids()
    assert "list_issues" in operation_ids and "create_issue" in operation_ids
    for operation_id in operation_ids:
        assert "." not in operation_id, f"{operation_id} leaks a module path into the public contract"
        assert exitus.api.handler(operation_id).__name__ == operation_id


def test_an_unknown_operation_id_fails_with_a_hint():
    with pytest.raises(LookupError, match="no handler for operationId 'delete_everything'"):
        exitus.api.handler("delete_everything")


def module(name: str, source: str) -> types.ModuleType:
    made = types.ModuleType(name)
    exec(source, made.__dict__)  # a handler module made up for the test
    return made


def test_a_name_defined_in_two_handler_modules_is_refused():
    first = module("exitus.api.first", "def get_issue():\n    pass\n")
    second = module("exitus.api.second", "def get_issue():\n    pass\n")
    with pytest.raises(LookupError, match="get_issue is defined in two handler modules"):
        exitus.api.collect_handlers([first, second])


def test_imported_names_and_private_helpers_are_not_handlers():
    made = module(
        "exitus.api.made", "from json import dumps\n\ndef _helper():\n    pass\n\ndef get_thing():\n    pass\n"
    )
    assert list(exitus.api.collect_handlers([made])) == ["get_thing"]
