"""Per-environment parameters of the image-processing stack.

Every number that differs between dev and prod lives here, in one frozen object per
environment, so that a review of "what does prod get" is one screen. No secrets: account ids are
taken from the deploying credentials (``CDK_DEFAULT_ACCOUNT``), never written here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: The archival window promised to the business: images and their metadata are kept this long.
RETENTION_DAYS = 7
#: Allowance after the window for asynchronous clean-up: S3 rounds expiry up to the next
#: midnight UTC, DynamoDB point-in-time recovery keeps this many days, CloudWatch Logs deletes
#: up to 72 h late. The hard purge deadline is RETENTION_DAYS + PURGE_GRACE_DAYS = 8 days.
PURGE_GRACE_DAYS = 1
#: Logs are operational, not archival: 5 days + CloudWatch's up-to-72-hour deletion lag stays
#: inside the 8-day hard deadline.
LOG_RETENTION_DAYS = 5


@dataclass(frozen=True)
class EnvironmentConfig:
    """Sizing and policy knobs of one environment (see docs/architecture/image-processing.md)."""

    name: str
    region: str
    az_count: int
    vpc_cidr: str
    # Data lifecycle -----------------------------------------------------------------------
    retention_days: int = RETENTION_DAYS
    purge_grace_days: int = PURGE_GRACE_DAYS
    log_retention_days: int = LOG_RETENTION_DAYS
    athena_results_days: int = 1
    # Kafka is transport, not archive: it keeps messages only long enough to replay after a
    # consumer outage. The archive copy lives in S3.
    kafka_retention_hours: int = 24
    kafka_broker_instance_type: str = "kafka.t3.small"
    kafka_brokers_per_az: int = 1
    kafka_volume_gib: int = 100
    kafka_partitions: int = 6
    kafka_max_message_bytes: int = 10 * 1024 * 1024
    # Processing -----------------------------------------------------------------------------
    processor_cpu: int = 1024
    processor_memory_mib: int = 2048
    processor_min_tasks: int = 1
    processor_max_tasks: int = 4
    processor_backlog_per_task: int = 50
    bridge_min_tasks: int = 1
    bridge_max_tasks: int = 2
    fargate_spot_weight: int = 3
    # Upload API -----------------------------------------------------------------------------
    api_rate_limit_rps: int = 50
    api_burst_limit: int = 100
    upload_url_concurrency: int = 20
    upload_url_ttl_seconds: int = 300
    max_image_bytes: int = 25 * 1024 * 1024
    # Analytics -----------------------------------------------------------------------------
    athena_bytes_scanned_cutoff: int = 10 * 1024**3
    # Operations -----------------------------------------------------------------------------
    retain_data_on_delete: bool = False
    lambda_code_signing_enforced: bool = False
    image_tag: str = "bootstrap"
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def hard_purge_days(self) -> int:
        """The day by which the last copy of an image (incl. backups) is gone."""
        return self.retention_days + self.purge_grace_days

    @property
    def kafka_broker_count(self) -> int:
        """MSK requires the broker count to be a multiple of the client subnets (AZs)."""
        return self.kafka_brokers_per_az * self.az_count

    @property
    def kafka_replication_factor(self) -> int:
        """Three copies when three AZs exist, otherwise one per AZ."""
        return min(3, self.kafka_broker_count)


DEV = EnvironmentConfig(
    name="dev",
    region="eu-west-1",
    az_count=2,
    vpc_cidr="10.40.0.0/16",
    tags={"environment": "dev", "cost-center": "image-processing"},
)

PROD = EnvironmentConfig(
    name="prod",
    region="eu-west-1",
    az_count=3,
    vpc_cidr="10.41.0.0/16",
    kafka_broker_instance_type="kafka.m7g.large",
    kafka_volume_gib=500,
    kafka_partitions=12,
    processor_min_tasks=2,
    processor_max_tasks=40,
    bridge_min_tasks=2,
    bridge_max_tasks=6,
    api_rate_limit_rps=200,
    api_burst_limit=400,
    upload_url_concurrency=100,
    retain_data_on_delete=True,
    lambda_code_signing_enforced=True,
    tags={"environment": "prod", "cost-center": "image-processing"},
)

ENVIRONMENTS: dict[str, EnvironmentConfig] = {c.name: c for c in (DEV, PROD)}
