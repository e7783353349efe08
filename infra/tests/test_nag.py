"""The checks: cdk-nag's AwsSolutions pack runs on every stack of every stage at synth, and each finding is either
fixed or acknowledged in code with a reason."""

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from exitus_infra.build import build_app, cdk_json_context
from exitus_infra.nag import acknowledge

from .support import make_config


def test_no_unacknowledged_findings_on_any_stack(every_variant):
    (report,) = every_variant.nag_report["pluginReports"]
    assert report["pluginName"] == "AwsSolutions"
    assert report["conclusion"] == "success", report["violations"]
    assert report["violations"] == []
    # The pack saw every stack: its acknowledged findings come from the service stack at least.
    paths = {c["constructPath"].split("/")[0] for v in report["suppressedViolations"] for c in v["violatingConstructs"]}
    assert every_variant.service_name in paths


def test_every_acknowledgement_says_why(every_variant):
    (report,) = every_variant.nag_report["pluginReports"]
    suppressed = report["suppressedViolations"]
    assert suppressed
    for violation in suppressed:
        assert len(violation["reason"].split()) >= 5, violation


def test_the_findings_the_issue_named_are_fixed_not_acknowledged(every_variant):
    (report,) = every_variant.nag_report["pluginReports"]
    acknowledged = {v["ruleName"].split("[")[0] for v in report["suppressedViolations"]}
    assert not {"AwsSolutions-ELB2", "AwsSolutions-VPC7"} & acknowledged
    if every_variant.config.service_db_secret == "app":
        assert "AwsSolutions-SMG4" not in acknowledged


def test_a_new_finding_fails_synthesis(tmp_path):
    app = cdk.App(outdir=str(tmp_path), context=cdk_json_context())
    build_app(app=app, config=make_config(STAGE="nagged"))
    service = app.node.find_child("exitus-nagged")
    s3.Bucket(service, "Careless")  # no access logs, no SSL-only policy
    with pytest.raises(Exception, match="ValidationFailed") as failure:
        app.synth()
    assert "exitus-nagged/Careless/Resource" in str(failure.value)
    report = json.loads((tmp_path / "validation-report.json").read_text())
    (plugin,) = report["pluginReports"]
    failing = {(v["ruleName"], c["constructPath"]) for v in plugin["violations"] for c in v["violatingConstructs"]}
    # Only the planted bucket: everything else stays fixed or acknowledged.
    assert failing == {
        ("AwsSolutions-S1", "exitus-nagged/Careless/Resource"),
        ("AwsSolutions-S10", "exitus-nagged/Careless/Resource"),
    }


def test_an_acknowledgement_needs_a_reason():
    with pytest.raises(ValueError, match="say why"):
        acknowledge(cdk.App(), "S1", "not needed")


def test_no_acknowledgement_is_stale(every_variant):
    """Each acknowledgement in the code matches a finding: none silences a rule that no longer fires."""
    (report,) = every_variant.nag_report["pluginReports"]
    used = {(v["acknowledgedAt"], v["acknowledgedId"]) for v in report["suppressedViolations"]}
    made = set()
    for construct in every_variant.app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:  # data: {rule id: reason}
                made |= {(construct.node.path, rule) for rule in entry.data if rule.startswith("AwsSolutions::")}
    assert made, "no acknowledgements found: the metadata layout changed"
    assert made - used == set()
