"""Where images and their metadata live, and how each store forgets them.

* ``ImageArchive``: raw uploads, derived copies + metadata files, S3 access logs. Every data
  bucket: SSE-KMS with the data key, TLS 1.2+ only, public access blocked, objects expire after
  ``retention_days``. Buckets are deliberately *not* versioned: an expired or deleted image must
  be gone, not kept as a noncurrent version (see "The 7-day purge" in the design document).
* ``MetadataTable``: DynamoDB item per image with a TTL attribute ``expires_at`` and an
  ``expiry_day`` index the purge deleter queries; no point-in-time recovery (its shortest window,
  1 day, would keep deleted items past the contract's 2-hour bound).
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

UNVERSIONED = (
    "Not versioned on purpose: a version history would keep expired or deleted images as "
    "noncurrent versions, beyond the 7-day purge. Writers only create new random keys and only "
    "the purge audit may delete (permission boundary), so there is nothing to undo."
)


def purge_rules(expire_days: int) -> list[s3.LifecycleRule]:
    """Expire objects after ``expire_days`` and never keep half-finished multipart uploads."""
    return [
        s3.LifecycleRule(
            id="purge-after-retention",
            enabled=True,
            expiration=days(expire_days),
            abort_incomplete_multipart_upload_after=days(1),
        )
    ]


def private_bucket(
    scope: Construct,
    construct_id: str,
    *,
    key: kms.IKey | None,
    expire_days: int,
    removal: RemovalPolicy,
    access_logs: s3.IBucket | None,
) -> s3.Bucket:
    """A bucket no one outside the account can reach, TLS 1.2+ only, forgetting after N days."""
    bucket = s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.KMS if key else s3.BucketEncryption.S3_MANAGED,
        encryption_key=key,
        bucket_key_enabled=True if key else None,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        # ACLs disabled; log delivery is granted through the bucket policy instead.
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        versioned=False,
        lifecycle_rules=purge_rules(expire_days),
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix=f"{construct_id.lower()}/" if access_logs else None,
        removal_policy=removal,
    )
    skip_checkov(bucket, {"CKV_AWS_21": UNVERSIONED})
    return bucket


class ImageArchive(Construct):
    """The two buckets of the image path plus the bucket that receives their access logs."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        retention_days: int,
        removal: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        # S3 server access log delivery supports only SSE-S3 target buckets. The logs hold
        # object keys (random UUIDs) and requester IPs, never image content.
        self.access_logs = private_bucket(
            self,
            "AccessLogs",
            key=None,
            expire_days=retention_days,
            removal=removal,
            access_logs=None,
        )
        skip_checkov(
            self.access_logs,
            {"CKV_AWS_18": "This is the access-log target; logging it into itself would loop."},
        )
        self.raw = private_bucket(
            self,
            "Raw",
            key=key,
            expire_days=retention_days,
            removal=removal,
            access_logs=self.access_logs,
        )
        # S3 -> EventBridge without CDK's notification custom resource (pure CloudFormation).
        raw_cfn = self.raw.node.default_child
        assert isinstance(raw_cfn, s3.CfnBucket)
        raw_cfn.add_property_override(
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
        )
        self.processed = private_bucket(
            self,
            "Processed",
            key=key,
            expire_days=retention_days,
            removal=removal,
            access_logs=self.access_logs,
        )


class MetadataTable(Construct):
    """One DynamoDB item per image; the purge deleter (and TTL as a backstop) delete it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
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
            # No PITR: its shortest recovery window (1 day) keeps every deleted item restorable
            # for a day, past the purge bound. Recovery from a bad write rebuilds the items of
            # processed images from the metadata files (see "Failure modes").
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=False
            ),
            deletion_protection=deletion_protection,
            removal_policy=removal,
        )
        skip_checkov(
            self.table,
            {
                "CKV_AWS_28": "Point-in-time recovery is off on purpose: its minimum 1-day window "
                "would keep purged metadata restorable past the 2-hour purge bound.",
            },
        )
        self.table.add_global_secondary_index(
            index_name=EXPIRY_INDEX,
            partition_key=dynamodb.Attribute(name="expiry_day", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=TTL_ATTRIBUTE, type=dynamodb.AttributeType.NUMBER),
            projection_type=dynamodb.ProjectionType.KEYS_ONLY,
        )
