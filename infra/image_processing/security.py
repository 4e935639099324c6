"""Least-privilege grants and the permission boundary that caps every role of the stack.

Constructs never call CDK's ``grant_*`` helpers (they emit ``s3:GetObject*``-style wildcards).
They call :meth:`AccessControl.grant` with explicit actions and resource ARNs; the same
declarations become the stack's permission boundary, so a policy attached later by hand (console,
another stack) cannot widen a role beyond what this code reviewed. The boundary also denies the
calls that would weaken the 7-day purge or the encryption, even for a role that was granted them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

#: Platform calls that AWS only authorises on "*"; none of them reads or writes stored data.
PLATFORM_ACTIONS = (
    "ecr:GetAuthorizationToken",
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
    "cloudwatch:PutMetricData",
)

#: Calls no workload may make, whatever its policy says: they would weaken the purge,
#: the encryption or the access model. Only the deployment role (outside this boundary) may.
TAMPER_ACTIONS = (
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketVersioning",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutEncryptionConfiguration",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutReplicationConfiguration",
    "dynamodb:UpdateTimeToLive",
    "dynamodb:UpdateContinuousBackups",
    "dynamodb:CreateBackup",
    "dynamodb:ExportTableToPointInTime",
    "dynamodb:RestoreTableToPointInTime",
    "logs:PutRetentionPolicy",
    "logs:DeleteRetentionPolicy",
    "logs:CreateExportTask",
    "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
    "kms:PutKeyPolicy",
    "kafka:UpdateClusterConfiguration",
    "kafka-cluster:AlterTopicDynamicConfiguration",
    "kafka-cluster:AlterClusterDynamicConfiguration",
    "iam:CreateUser",
    "iam:CreateAccessKey",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DeleteRolePermissionsBoundary",
    "iam:PutRolePermissionsBoundary",
    "iam:UpdateAssumeRolePolicy",
)


#: A resource given as an unresolved CDK token followed by a path below it.
_TOKEN_PATH = re.compile(r"^(\$\{Token\[[^\]]+\]\})/.+$")


class AccessControl(Construct):
    """Registry of every grant in the stack and the boundary generated from it."""

    def __init__(self, scope: Construct, construct_id: str, *, env_name: str) -> None:
        super().__init__(scope, construct_id)
        self._actions: list[str] = []
        self._resources: list[str] = []
        self.boundary = iam.ManagedPolicy(
            self,
            "WorkloadBoundary",
            description=f"image-processing {env_name}: ceiling of every role in the stack",
        )

    def grant(
        self, role: iam.IRole, actions: Sequence[str], resources: Sequence[str], sid: str
    ) -> None:
        """Allow ``role`` exactly ``actions`` on ``resources`` and record them for the boundary."""
        for action in actions:
            if "*" in action:
                raise ValueError(f"{sid}: wildcard action {action!r} is not allowed")
        role.add_to_principal_policy(
            iam.PolicyStatement(sid=sid, actions=list(actions), resources=list(resources))
        )
        self.record(actions, resources)

    def record(self, actions: Iterable[str], resources: Iterable[str]) -> None:
        """Admit grants CDK writes itself (ECR pulls, log streams) into the boundary.

        Paths below a resource (``bucket/uploads/*``, ``table/index/x``) are widened to
        ``resource/*`` in the boundary: it is a ceiling per resource, the role policies keep the
        exact paths, and the boundary must stay under IAM's 6,144-character policy limit.
        """
        for action in actions:
            if action not in self._actions:
                self._actions.append(action)
        for resource in resources:
            ceiling = _TOKEN_PATH.sub(r"\1/*", resource)
            if ceiling not in self._resources:
                self._resources.append(ceiling)

    def apply_boundary(self, stack: Stack) -> None:
        """Write the boundary document and attach it to every role in ``stack``."""
        self.boundary.add_statements(
            iam.PolicyStatement(
                sid="DataPlaneOfThisEnvironment",
                actions=sorted(self._actions),
                resources=self._resources,
            ),
            iam.PolicyStatement(
                sid="PlatformCallsWithoutResourceScope",
                actions=list(PLATFORM_ACTIONS),
                resources=["*"],
                conditions={"StringEquals": {"aws:RequestedRegion": stack.region}},
            ),
            iam.PolicyStatement(
                sid="NeverWeakenPurgeEncryptionOrAccess",
                effect=iam.Effect.DENY,
                actions=list(TAMPER_ACTIONS),
                resources=["*"],
            ),
        )
        iam.PermissionsBoundary.of(stack).apply(self.boundary)
