"""Customer-managed KMS keys, one per kind of data, so access and rotation can differ.

* ``data``: images, derived copies, metadata table, queues, Athena results, Lambda variables.
* ``logs``: every CloudWatch log group (the Logs service must be allowed to use it).
* ``stream``: the MSK brokers' volumes.
"""

from __future__ import annotations

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


class Keys(Construct):
    """The three CMKs of the environment, rotated yearly, retained for 30 days on deletion."""

    def __init__(self, scope: Construct, construct_id: str, *, env_name: str) -> None:
        super().__init__(scope, construct_id)
        self.data = self._key("Data", env_name, "images, metadata, queues and query results")
        self.logs = self._key("Logs", env_name, "CloudWatch log groups")
        self.stream = self._key("Stream", env_name, "MSK broker storage")
        # CloudWatch Logs encrypts with the key on behalf of log groups of this account only.
        self.logs.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsOfThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
                actions=[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:DescribeKey",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:*"
                        )
                    }
                },
            )
        )

    def _key(self, construct_id: str, env_name: str, purpose: str) -> kms.Key:
        return kms.Key(
            self,
            construct_id,
            alias=f"alias/image-processing/{env_name}/{construct_id.lower()}",
            description=f"image-processing {env_name}: {purpose}",
            enable_key_rotation=True,
            # Keys outlive a stack deletion so that retained data stays decryptable until purged.
            removal_policy=RemovalPolicy.RETAIN,
        )
