"""Small readers of synthesised CloudFormation JSON shared by the infra tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Services whose resources hold images, image metadata or data about users.
DATA_STORE_PREFIXES = (
    "s3:",
    "dynamodb:",
    "sqs:",
    "sns:",
    "kafka:",
    "kafka-cluster:",
    "kms:",
    "logs:",
    "glue:",
    "athena:",
)


def ref_id(value: Any) -> str | None:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` points at, else None."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
    return None


def as_list(value: Any) -> list[Any]:
    """CloudFormation allows a scalar where a list is meant."""
    return value if isinstance(value, list) else [value]


def policy_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(logical id, statement) for every identity-based policy in the template."""
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for statement in props["PolicyDocument"]["Statement"]:
                yield logical_id, statement
        elif resource["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                for statement in policy["PolicyDocument"]["Statement"]:
                    yield logical_id, statement


@dataclass(frozen=True)
class Synth:
    """One environment's synthesised template, as JSON and as a CDK assertions Template."""

    env: str
    path: Path
    template: dict[str, Any]
    assertions: Any
    paths: dict[str, str]

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        """Resources of one CloudFormation type, by logical id."""
        return {k: r for k, r in self.template["Resources"].items() if r["Type"] == type_}

    def path_of(self, logical_id: str) -> str:
        """The construct path (diagram name) of a resource, without the stack prefix."""
        return self.paths[logical_id]
