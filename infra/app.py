#!/usr/bin/env python3
"""CDK entry point (`npx aws-cdk synth` runs `python3 app.py`, see cdk.json)."""

import sys

from exitus_infra.build import build_app
from exitus_infra.config import ConfigError

try:
    app = build_app()
except ConfigError as err:
    sys.exit(f"exitus infra: {err}")
app.synth()
