"""Where the spec, queries and migrations are: inside the installed wheel, or at the top of a source checkout."""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The directory `openapi`, `queries` or `migrations`."""
    packaged = _PACKAGE / "_resources" / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / name


SPEC_FILE = resource_dir("openapi") / "exitus.yaml"
QUERIES_DIR = resource_dir("queries")
MIGRATIONS_DIR = resource_dir("migrations")
