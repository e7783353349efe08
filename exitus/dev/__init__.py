"""Local development helpers: a project-local PostgreSQL and a dev OpenID issuer. Not used by `exitus serve`."""

from __future__ import annotations

from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[2]


def default_data_dir() -> Path:
    """Where `make run` keeps its PostgreSQL, issuer key and token: `.data/` at the top of the source checkout this
    package runs from (`make install` installs it editable), whatever the current directory, so `exitus dev-token`
    finds the keys `make run` uses. Installed from a wheel (no checkout): `.data/` in the current directory."""
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "exitus" / "dev").is_dir():
        return _CHECKOUT / ".data"
    return Path(".data").resolve()
