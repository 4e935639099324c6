"""cfn-lint finds nothing, and every suppression is one of the reviewed, justified few.

``make infra-check`` also runs cfn-lint and checkov on the same templates; these tests keep the
exception list itself under review: adding a suppression means changing this file.
"""

from __future__ import annotations

from infra_helpers import Synth

REVIEWED_CHECKOV_SKIPS = {
    ("Archive/AccessLogs/Resource", "CKV_AWS_18"),
    ("Archive/AccessLogs/Resource", "CKV_AWS_21"),
    ("Archive/Raw/Resource", "CKV_AWS_21"),
    ("Archive/Processed/Resource", "CKV_AWS_21"),
    ("Analytics/QueryResults/Resource", "CKV_AWS_21"),
    ("Metadata/Table/Resource", "CKV_AWS_28"),
    ("UploadApi/UploadUrl/Resource", "CKV_AWS_116"),
    ("UploadApi/Api/DeploymentStage.v1/Resource", "CKV_AWS_120"),
    ("UploadApi/Api/DeploymentStage.v1/Resource", "CKV_AWS_73"),
}
REVIEWED_CFN_LINT_SKIPS = {
    ("UploadApi/UploadUrl/Resource", "W3005"),
    ("PurgeAudit/Function/Resource", "W3005"),
}


def test_cfn_lint_reports_nothing(synth: Synth) -> None:
    from cfnlint.api import lint_file

    assert [str(match) for match in lint_file(synth.path)] == []


def test_checkov_suppressions_are_the_reviewed_ones_with_reasons(synth: Synth) -> None:
    skips = {}
    for logical_id, resource in synth.template["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            skips[(synth.path_of(logical_id), skip["id"])] = skip["comment"]
    assert set(skips) == REVIEWED_CHECKOV_SKIPS
    for reason in skips.values():
        assert len(reason) >= 40, reason


def test_cfn_lint_suppressions_are_the_reviewed_ones_with_reasons(synth: Synth) -> None:
    skips = {}
    for logical_id, resource in synth.template["Resources"].items():
        metadata = resource.get("Metadata", {})
        for rule in metadata.get("cfn-lint", {}).get("config", {}).get("ignore_checks", []):
            skips[(synth.path_of(logical_id), rule)] = metadata["cfn-lint-reasons"][rule]
    assert set(skips) == REVIEWED_CFN_LINT_SKIPS
    for reason in skips.values():
        assert len(reason) >= 40, reason


def test_no_secret_material_in_templates(synth: Synth) -> None:
    text = synth.path.read_text()
    for marker in ("AKIA", "aws_secret_access_key", "BEGIN RSA PRIVATE KEY", "password="):
        assert marker not in text
    types = {r["Type"] for r in synth.template["Resources"].values()}
    assert "AWS::IAM::User" not in types
    assert "AWS::IAM::AccessKey" not in types
