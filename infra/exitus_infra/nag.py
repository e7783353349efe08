"""cdk-nag (AwsSolutions pack) on every stack, and the one way findings are acknowledged.

Every acknowledgement names the finding exactly (IAM5 findings per action or resource) and says why in one line,
next to the construct it is about. `cdk synth` fails on any finding that is not acknowledged.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

PACK = "AwsSolutions"


def add_checks(app: cdk.App) -> None:
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge `AwsSolutions-<rule>` (e.g. "IAM5[Resource::*]") on `construct` and everything under it."""
    if len(reason.split()) < 5:
        raise ValueError(f"{rule}: say why in a sentence a reviewer can check, not {reason!r}")
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=f"{PACK}::{PACK}-{rule}", reason=reason))
