"""Where images and their metadata live, and how each store forgets them.

* ``ImageArchive``: raw uploads, derived copies + metadata files, S3 access logs. Every data
  bucket: SSE-KMS with the data key, TLS 1.2+ only, public access blocked, versioned (protects
  against overwrites inside the window), current versions expire after ``retention_days``,
  noncurrent versions after ``purge_grace_days``.
* ``MetadataTable``: DynamoDB item per image with a TTL attribute ``expires_at`` and an
  ``expiry_day`` index the purge audit queries; point-in-time recovery limited to the grace days.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from image_processing.compliance import days, skip_checkov

#: The attribute DynamoDB's TTL deletes on, in epoch seconds.
TTL_ATTRIBUTE = "expires_at"
#: Index the purge audit queries by calendar day of expiry (YYYY-MM-DD).
EXPIRY_INDEX = "by-expiry-day"


def _purge_rules(expire_days: int, grace_days: int) -> list[s3.LifecycleRule]:
    """Expire current versions, then noncurrent versions, delete markers and partial uploads."""
    return [
        s3.LifecycleRule(
            id="purge-after-retention",
            enabled=True,
            expiration=days(expire_days),
            noncurrent_version_expiration=days(grace_days),
            abort_incomplete_multipart_upload_after=days(1),
        ),
        s3.LifecycleRule(
            id="remove-expired-delete-markers", enabled=True, expired_object_delete_marker=True
        ),
    ]


class ImageArchive(Construct):
    """The three buckets of the image path plus the bucket that receives their access logs."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        retention_days: int,
        grace_days: int,
        removal: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self._key = key
        self._removal = removal
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            # S3 server access log delivery supports only SSE-S3 target buckets. The logs hold
            # object keys (random UUIDs) and requester IPs, never image content; 7-day expiry.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            # Log delivery is granted by bucket policy (no ACLs) when ACLs are disabled.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            lifecycle_rules=_purge_rules(retention_days, grace_days),
            removal_policy=removal,
        )
        skip_checkov(
            self.access_logs,
            {
                "CKV_AWS_18": "This is the access-log target; logging it into itself would loop.",
            },
        )
        self.raw = self._bucket("Raw", retention_days, grace_days)
        # S3 -> EventBridge without CDK's notification custom resource (pure CloudFormation).
        raw_cfn = self.raw.node.default_child
        assert isinstance(raw_cfn, s3.CfnBucket)
        raw_cfn.add_property_override(
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
        )
        self.processed = self._bucket("Processed", retention_days, grace_days)

    def _bucket(self, construct_id: str, expire_days: int, grace_days: int) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            construct_id,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self._key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            lifecycle_rules=_purge_rules(expire_days, grace_days),
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"{construct_id.lower()}/",
            removal_policy=self._removal,
        )
        return bucket


class MetadataTable(Construct):
    """One DynamoDB item per image; TTL and the purge audit delete it after the window."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        grace_days: int,
        removal: RemovalPolicy,
        deletion_protection: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="image_id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            time_to_live_attribute=TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True, recovery_period_in_days=grace_days
            ),
            deletion_protection=deletion_protection,
            removal_policy=removal,
        )
        self.table.add_global_secondary_index(
            index_name=EXPIRY_INDEX,
            partition_key=dynamodb.Attribute(name="expiry_day", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=TTL_ATTRIBUTE, type=dynamodb.AttributeType.NUMBER),
            projection_type=dynamodb.ProjectionType.KEYS_ONLY,
        )
