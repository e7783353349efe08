"""Generates the Python client (`exitus_client`) from openapi/exitus.yaml: `make sdk` writes it to clients/python/.

`python clients/generate.py OUT` replaces OUT with a fresh generation by openapi-python-client (the version pinned in
pyproject.toml's dev extra), formatted by its post-hooks with the ruff beside this Python. tests/test_sdk.py
generates into a temporary directory and compares, so the committed client never drifts from the spec.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEC = HERE.parent / "openapi" / "exitus.yaml"


def generate(out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    tools = Path(sys.executable).parent  # openapi-python-client and the ruff its post-hooks call
    env = {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [
        str(tools / "openapi-python-client"),
        "generate",
        "--path", str(SPEC),
        "--meta", "setup",
        "--config", str(HERE / "openapi-python-client.yaml"),
        "--custom-template-path", str(HERE / "templates"),
        "--output-path", str(out),
        "--fail-on-warning",
    ]  # fmt: skip
    subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    shutil.rmtree(out / ".ruff_cache", ignore_errors=True)


if __name__ == "__main__":
    generate(Path(sys.argv[1]))
