"""The environment's stack: the diagram's boxes wired together, in the order data flows."""

from __future__ import annotations

from aws_cdk import Environment, Fn, RemovalPolicy, Stack, Tags
from constructs import Construct

from image_processing.analytics import ImageAnalytics
from image_processing.audit import OpsAlarms, PurgeAudit, Sweep
from image_processing.config import EnvironmentConfig
from image_processing.ingestion import UploadApi, signed_code
from image_processing.keys import Keys
from image_processing.network import Network
from image_processing.processing import ImageEvents, ImageProcessor, WorkerCluster
from image_processing.security import AccessControl
from image_processing.storage import ImageArchive, MetadataTable
from image_processing.streaming import CONSUMER_GROUP, TOPIC, KafkaBridge, KafkaStream


class ImageProcessingStack(Stack):
    """Everything one environment of the image-processing business runs on."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, account: str | None
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            env=Environment(account=account, region=config.region),
            description=f"image-processing ({config.name}): upload API, Kafka, processing, BI",
            termination_protection=config.retain_data_on_delete,
        )
        # AZ names differ per account, so the template selects them at deploy time; the count is
        # what the design fixes (and what makes synthesis offline: no context lookup).
        self._azs = [Fn.select(i, Fn.get_azs(config.region)) for i in range(config.az_count)]
        c = config
        removal = RemovalPolicy.RETAIN if c.retain_data_on_delete else RemovalPolicy.DESTROY
        log_days = c.log_retention_days
        for key, value in c.tags.items():
            Tags.of(self).add(key, value)

        access = AccessControl(self, "AccessControl", env_name=c.name)
        keys = Keys(self, "Keys", env_name=c.name)
        network = Network(
            self,
            "Network",
            cidr=c.vpc_cidr,
            max_azs=c.az_count,
            logs_key=keys.logs,
            log_days=log_days,
            removal=removal,
            access=access,
        )
        archive = ImageArchive(
            self,
            "Archive",
            key=keys.data,
            retention_days=c.retention_days,
            removal=removal,
        )
        metadata = MetadataTable(
            self,
            "Metadata",
            key=keys.data,
            removal=removal,
            deletion_protection=c.retain_data_on_delete,
        )
        table = metadata.table
        code_signing = signed_code(self, enforce=c.lambda_code_signing_enforced)
        UploadApi(
            self,
            "UploadApi",
            env_name=c.name,
            vpc=network.vpc,
            subnets=network.processing_subnets,
            raw_bucket=archive.raw,
            table_arn=table.table_arn,
            table_name=table.table_name,
            key=keys.data,
            logs_key=keys.logs,
            retention_days=c.retention_days,
            log_days=log_days,
            max_image_bytes=c.max_image_bytes,
            url_ttl_seconds=c.upload_url_ttl_seconds,
            rate_limit_rps=c.api_rate_limit_rps,
            burst_limit=c.api_burst_limit,
            concurrency=c.upload_url_concurrency,
            code_signing=code_signing,
            removal=removal,
            deletion_protection=c.retain_data_on_delete,
            access=access,
        )
        stream = KafkaStream(
            self,
            "KafkaStream",
            env_name=c.name,
            vpc=network.vpc,
            subnets=network.data_subnets,
            stream_key=keys.stream,
            logs_key=keys.logs,
            instance_type=c.kafka_broker_instance_type,
            broker_count=c.kafka_broker_count,
            volume_gib=c.kafka_volume_gib,
            retention_hours=c.kafka_retention_hours,
            replication_factor=c.kafka_replication_factor,
            partitions=c.kafka_partitions,
            max_message_bytes=c.kafka_max_message_bytes,
            log_days=log_days,
            producer_account=None,
            removal=removal,
            access=access,
        )
        workers = WorkerCluster(
            self, "Workers", vpc=network.vpc, key=keys.data, logs_key=keys.logs, removal=removal
        )
        KafkaBridge(
            self,
            "KafkaBridge",
            stream=stream,
            workers=workers,
            raw_bucket=archive.raw,
            table_arn=table.table_arn,
            table_name=table.table_name,
            key=keys.data,
            logs_key=keys.logs,
            subnets=network.processing_subnets,
            image_tag=c.image_tag,
            retention_days=c.retention_days,
            min_tasks=c.bridge_min_tasks,
            max_tasks=c.bridge_max_tasks,
            log_days=log_days,
            removal=removal,
            access=access,
        )
        image_events = ImageEvents(
            self,
            "ImageEvents",
            raw_bucket=archive.raw,
            key=keys.data,
            work_queue_days=c.work_queue_retention_days,
            dead_letter_days=c.dead_letter_retention_days,
        )
        ImageProcessor(
            self,
            "Processor",
            workers=workers,
            events_=image_events,
            raw_bucket=archive.raw,
            processed_bucket=archive.processed,
            table_arn=table.table_arn,
            table_name=table.table_name,
            key=keys.data,
            logs_key=keys.logs,
            subnets=network.processing_subnets,
            image_tag=c.image_tag,
            retention_days=c.retention_days,
            cpu=c.processor_cpu,
            memory_mib=c.processor_memory_mib,
            min_tasks=c.processor_min_tasks,
            max_tasks=c.processor_max_tasks,
            backlog_per_task=c.processor_backlog_per_task,
            spot_weight=c.fargate_spot_weight,
            log_days=log_days,
            removal=removal,
            access=access,
        )
        analytics = ImageAnalytics(
            self,
            "Analytics",
            env_name=c.name,
            processed_bucket=archive.processed,
            access_logs_bucket=archive.access_logs,
            key=keys.data,
            retention_days=c.retention_days,
            results_days=c.athena_results_days,
            bytes_scanned_cutoff=c.athena_bytes_scanned_cutoff,
            quicksight_enabled=c.quicksight_enabled,
            removal=removal,
            access=access,
        )
        keep = c.retention_days * 24 * 60
        audit = PurgeAudit(
            self,
            "PurgeAudit",
            vpc=network.vpc,
            subnets=network.processing_subnets,
            # Where every writer puts its keys (the IAM grants allow no other prefixes) and the
            # clock each deadline runs on: image copies from the upload time in their key,
            # operational objects from when they were written.
            sweeps=[
                Sweep(archive.raw, "uploads/{date}/", "upload", keep),
                Sweep(archive.raw, "kafka/{date}/", "upload", keep),
                Sweep(archive.processed, "derived/{date}/", "upload", keep),
                Sweep(archive.processed, "metadata/dt={date}/", "upload", keep),
                Sweep(analytics.results, "", "written", c.results_keep_minutes),
                Sweep(archive.access_logs, "raw/{date}-", "written", keep),
                Sweep(archive.access_logs, "processed/{date}-", "written", keep),
                Sweep(archive.access_logs, "queryresults/{date}-", "written", keep),
            ],
            dead_letter_queues=[image_events.dead_letters],
            retention_minutes=keep,
            table_arn=table.table_arn,
            table_name=table.table_name,
            key=keys.data,
            logs_key=keys.logs,
            interval_minutes=c.purge_interval_minutes,
            run_minutes=c.purge_run_minutes,
            overdue_after_minutes=c.overdue_after_minutes,
            dead_letter_days=c.dead_letter_retention_days,
            log_days=log_days,
            code_signing=code_signing,
            removal=removal,
            access=access,
        )
        OpsAlarms(
            self,
            "OpsAlarms",
            key=keys.data,
            audit=audit,
            work_queue=image_events.queue,
            dead_letters=image_events.dead_letters,
            kafka_cluster_name=stream.cluster_name,
            kafka_topic=TOPIC,
            kafka_consumer_group=CONSUMER_GROUP,
        )
        access.apply_boundary(self)

    @property
    def availability_zones(self) -> list[str]:
        """The first ``az_count`` AZs of the region, resolved by CloudFormation."""
        return self._azs
