"""Handlers: one module per entity, one function per `operationId`, named as the operationId (`list_issues` in
`exitus/api/issues.py`).

OperationIds are public names (generated SDKs name their methods after them), so the spec never says which module
holds a handler: `handler` finds it by name among this package's modules.
"""

import functools
import importlib
import pkgutil
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any


def handler(operation_id: str) -> Callable[..., Any]:
    """The function named `operation_id` in exactly one of this package's modules."""
    found = _handlers().get(operation_id)
    if found is None:
        raise LookupError(f"no handler for operationId {operation_id!r}: define it in exitus/api/<entity>.py")
    return found


@functools.cache
def _handlers() -> dict[str, Callable[..., Any]]:
    modules = [importlib.import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__)]
    return collect_handlers(modules)


def collect_handlers(modules: Iterable[ModuleType]) -> dict[str, Callable[..., Any]]:
    """Each module's own public functions by name; a name defined in two modules is refused."""
    handlers: dict[str, Callable[..., Any]] = {}
    for module in modules:
        for name, value in vars(module).items():
            if name.startswith("_") or not callable(value) or getattr(value, "__module__", None) != module.__name__:
                continue
            if name in handlers:
                raise LookupError(f"{name} is defined in two handler modules; operationIds must be unique")
            handlers[name] = value
    return handlers
