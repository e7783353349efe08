"""exitus: a multi-tenant issue-tracking REST API, schema-first, served from PostgreSQL."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("exitus")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without installing
    __version__ = "0.0.0"
