"""Helpers that keep every compliance exception next to the resource it excuses.

checkov and cfn-lint read suppressions from a resource's CloudFormation ``Metadata``; writing
them through these functions forces a reason string, which the tests require to be non-trivial.
"""

from __future__ import annotations

from aws_cdk import CfnResource, Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
}


def _cfn(construct: Construct) -> CfnResource:
    """The L1 resource behind an L2 construct (or the construct itself when it is an L1)."""
    if isinstance(construct, CfnResource):
        return construct
    child = construct.node.default_child
    if not isinstance(child, CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource to annotate")
    return child


def skip_checkov(construct: Construct, reasons: dict[str, str]) -> None:
    """Suppress checkov checks on one resource, each with the reason it does not apply."""
    resource = _cfn(construct)
    existing = resource.get_metadata("checkov") or {"skip": []}
    for check_id, reason in reasons.items():
        existing["skip"].append({"id": check_id, "comment": reason})
    resource.add_metadata("checkov", existing)


def skip_cfn_lint(construct: Construct, reasons: dict[str, str]) -> None:
    """Suppress cfn-lint rules on one resource; the reasons are kept in the template too."""
    resource = _cfn(construct)
    existing = resource.get_metadata("cfn-lint") or {"config": {"ignore_checks": []}}
    existing["config"]["ignore_checks"].extend(reasons)
    resource.add_metadata("cfn-lint", existing)
    justified = resource.get_metadata("cfn-lint-reasons") or {}
    resource.add_metadata("cfn-lint-reasons", {**justified, **reasons})


def retention(days: int) -> logs.RetentionDays:
    """CloudWatch Logs retention for a day count; only short windows are allowed here."""
    try:
        return _RETENTION[days]
    except KeyError:
        allowed = ", ".join(str(d) for d in sorted(_RETENTION))
        raise ValueError(f"log retention must be one of {allowed} days, got {days}") from None


def log_group(
    scope: Construct, construct_id: str, *, key: kms.IKey, days: int, removal: RemovalPolicy
) -> logs.LogGroup:
    """A KMS-encrypted log group that forgets after ``days`` (logs may hold personal metadata)."""
    return logs.LogGroup(
        scope,
        construct_id,
        encryption_key=key,
        retention=retention(days),
        removal_policy=removal,
    )


def days(n: int) -> Duration:
    """Shorthand used by lifecycle rules."""
    return Duration.days(n)
