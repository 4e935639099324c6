"""Per-environment parameters of the image-processing stack.

Every number that differs between dev and prod lives here, in one frozen object per
environment, so that a review of "what does prod get" is one screen. No secrets: account ids are
taken from the deploying credentials (``CDK_DEFAULT_ACCOUNT``), never written here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: The purge contract, measured from each image's upload time T (see "The 7-day purge" in the
#: design document): the image, every copy derived from it and every metadata record of it are
#: available for RETENTION_DAYS after T and gone from every store by T + RETENTION_DAYS +
#: PURGE_BOUND_MINUTES.
RETENTION_DAYS = 7
#: How late after the window any copy may still exist. Met by the purge deleter, not by lifecycle
#: rules or TTL: it runs every PURGE_INTERVAL_MINUTES for at most PURGE_RUN_MINUTES, so a copy is
#: deleted by T + 7 d + 30 min; query results live at most RESULTS_KEEP_MINUTES + 30 min, and hold
#: rows of images at most 30 min past their window: 30 + 30 + 30 min < 2 h.
PURGE_BOUND_MINUTES = 120
PURGE_INTERVAL_MINUTES = 15
PURGE_RUN_MINUTES = 14
#: Anything the deleter finds this long after its deadline is counted as overdue and pages: an
#: hour of margin before the contract's bound is breached.
OVERDUE_AFTER_MINUTES = 60
#: Athena query results (rows of image metadata) are deleted this long after they are written.
RESULTS_KEEP_MINUTES = 30
#: Logs are operational records (ids, IPs, never image bytes or metadata fields): kept 5 days from
#: when they are written, + CloudWatch's up-to-72-hour deletion lag.
LOG_RETENTION_DAYS = 5
#: Queues: a message is enqueued at most ~27 h after T (24 h Kafka retention + 1 h segment roll +
#: 2 h EventBridge retries). The DLQ keeps the original enqueue time; a redrive starts a new
#: retention in the work queue. 27 h + DLQ + work queue = 27 h + 3 d + 2 d < 7 d, and the processor
#: deletes unread any message whose image is past its window (``contract.should_process``). A
#: redriven message that fails again re-enters the DLQ with a new clock: the purge deleter
#: deletes every dead letter whose image is past its window.
WORK_QUEUE_RETENTION_DAYS = 2
DEAD_LETTER_RETENTION_DAYS = 3


@dataclass(frozen=True)
class EnvironmentConfig:
    """Sizing and policy knobs of one environment (see docs/architecture/image-processing.md)."""

    name: str
    region: str
    az_count: int
    vpc_cidr: str
    # Data lifecycle -----------------------------------------------------------------------
    retention_days: int = RETENTION_DAYS
    purge_bound_minutes: int = PURGE_BOUND_MINUTES
    purge_interval_minutes: int = PURGE_INTERVAL_MINUTES
    purge_run_minutes: int = PURGE_RUN_MINUTES
    overdue_after_minutes: int = OVERDUE_AFTER_MINUTES
    results_keep_minutes: int = RESULTS_KEEP_MINUTES
    log_retention_days: int = LOG_RETENTION_DAYS
    work_queue_retention_days: int = WORK_QUEUE_RETENTION_DAYS
    dead_letter_retention_days: int = DEAD_LETTER_RETENTION_DAYS
    # S3 lifecycle expiration is a backstop behind the deleter (it rounds up to midnight UTC).
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
    # QuickSight is an account subscription; where it exists, analysts get a profile without
    # SPICE or exports (analytics.quicksight_analyst_permissions).
    quicksight_enabled: bool = False
    # Operations -----------------------------------------------------------------------------
    retain_data_on_delete: bool = False
    lambda_code_signing_enforced: bool = False
    image_tag: str = "bootstrap"
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def worst_case_purge_minutes(self) -> int:
        """Latest a copy can outlive its window by design: the sum that must fit the bound.

        One deleter interval + one run for image data, and for query results their keep time
        plus one interval + run on top of rows that were already that late.
        """
        sweep = self.purge_interval_minutes + self.purge_run_minutes
        return sweep + self.results_keep_minutes + sweep

    @property
    def worst_case_queue_hours(self) -> int:
        """Latest hour after T a queue message can still exist (one DLQ redrive, no processor)."""
        enqueue = self.kafka_retention_hours + 1 + 2
        return enqueue + 24 * (self.dead_letter_retention_days + self.work_queue_retention_days)

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
    quicksight_enabled=True,
    retain_data_on_delete=True,
    lambda_code_signing_enforced=True,
    tags={"environment": "prod", "cost-center": "image-processing"},
)

ENVIRONMENTS: dict[str, EnvironmentConfig] = {c.name: c for c in (DEV, PROD)}
