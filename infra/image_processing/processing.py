"""The engineers' image-processing code, hosted on ECS Fargate in private subnets.

``ImageEvents``: S3 "Object Created" events of the raw bucket go through EventBridge to an
encrypted SQS queue (with a dead-letter queue), which decouples upload bursts from processing.
``WorkerCluster``: the ECS cluster and the ECR repositories of the two container images.
``ImageProcessor``: the Fargate service that reads the queue, writes derived copies and metadata,
and scales between configured bounds on queue backlog (and CPU).
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from image_processing.compliance import log_group, retention
from image_processing.runtime.contract import DERIVED_KEY, METADATA_KEY
from image_processing.security import AccessControl

ECR_PULL_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
)
LOG_WRITE_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")


class ImageEvents(Construct):
    """Raw-bucket events -> EventBridge rule -> SQS work queue (+ DLQ after 5 failures)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        raw_bucket: s3.IBucket,
        key: kms.IKey,
        work_queue_days: int,
        dead_letter_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        # Messages carry object keys, sizes and requester IPs: they may never outlive the image.
        # A standard DLQ keeps the original enqueue time, but a redrive starts a new retention
        # in the work queue, so the two retentions add up (see config.worst_case_queue_hours).
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(dead_letter_days),
        )
        self.queue = sqs.Queue(
            self,
            "WorkQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(work_queue_days),
            visibility_timeout=Duration.minutes(5),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=5, queue=self.dead_letters),
        )
        self.rule = events.Rule(
            self,
            "ObjectCreated",
            description="New raw image (API upload or Kafka bridge) -> processing queue",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={"bucket": {"name": [raw_bucket.bucket_name]}},
            ),
            targets=[
                targets.SqsQueue(
                    self.queue,
                    # Only what the processor needs: the S3 event's requester, source IP and
                    # request ids never reach a queue, so a message holds no personal data.
                    message=events.RuleTargetInput.from_object(
                        {
                            "bucket": events.EventField.from_path("$.detail.bucket.name"),
                            "key": events.EventField.from_path("$.detail.object.key"),
                            "size": events.EventField.from_path("$.detail.object.size"),
                        }
                    ),
                    dead_letter_queue=self.dead_letters,
                    retry_attempts=8,
                    max_event_age=Duration.hours(2),
                )
            ],
        )


class WorkerCluster(Construct):
    """ECS cluster (Fargate + Fargate Spot) and the immutable ECR repositories it pulls from."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        key: kms.IKey,
        logs_key: kms.IKey,
        removal: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=vpc,
            enable_fargate_capacity_providers=True,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
        # Container Insights writes task metrics (no image data) to this group; declared here so
        # it is encrypted and expires like every other group instead of being auto-created.
        logs.LogGroup(
            self,
            "InsightsLogs",
            log_group_name=f"/aws/ecs/containerinsights/{self.cluster.cluster_name}/performance",
            encryption_key=logs_key,
            retention=retention(1),
            removal_policy=removal,
        )
        self.processor_repository = self._repository("ProcessorRepository", key, removal)
        self.bridge_repository = self._repository("BridgeRepository", key, removal)

    def _repository(
        self, construct_id: str, key: kms.IKey, removal: RemovalPolicy
    ) -> ecr.Repository:
        return ecr.Repository(
            self,
            construct_id,
            image_scan_on_push=True,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            encryption=ecr.RepositoryEncryption.KMS,
            encryption_key=key,
            lifecycle_rules=[ecr.LifecycleRule(max_image_count=30, description="last 30 builds")],
            removal_policy=removal,
        )


def https_only_egress(group: ec2.SecurityGroup) -> None:
    """HTTPS out; the subnets route only to VPC endpoints (S3/DynamoDB prefix lists included)."""
    group.add_egress_rule(
        ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to VPC endpoints (no internet route)"
    )


def fargate_service(
    scope: Construct,
    *,
    cluster: ecs.ICluster,
    repository: ecr.IRepository,
    image_tag: str,
    cpu: int,
    memory_mib: int,
    environment: dict[str, str],
    log_group_: logs.ILogGroup,
    subnets: ec2.SubnetSelection,
    security_group: ec2.ISecurityGroup,
    desired: int,
    spot_weight: int,
    access: AccessControl,
) -> tuple[ecs.FargateService, iam.IRole]:
    """A hardened Fargate service: read-only root FS, no public IP, rollback on failed deploys."""
    task = ecs.FargateTaskDefinition(
        scope,
        "Task",
        cpu=cpu,
        memory_limit_mib=memory_mib,
        runtime_platform=ecs.RuntimePlatform(
            cpu_architecture=ecs.CpuArchitecture.ARM64,
            operating_system_family=ecs.OperatingSystemFamily.LINUX,
        ),
    )
    # Read-only root FS; the only writable path is a task-scoped scratch volume on Fargate's
    # encrypted ephemeral storage, destroyed with the task (no image outlives its task there).
    task.add_volume(name="scratch")
    container = task.add_container(
        "App",
        image=ecs.ContainerImage.from_ecr_repository(repository, image_tag),
        readonly_root_filesystem=True,
        privileged=False,
        user="10001",
        environment=environment,
        logging=ecs.LogDrivers.aws_logs(stream_prefix="app", log_group=log_group_),
    )
    container.add_mount_points(
        ecs.MountPoint(container_path="/tmp", source_volume="scratch", read_only=False)
    )
    access.record(ECR_PULL_ACTIONS, [repository.repository_arn])
    access.record(LOG_WRITE_ACTIONS, [log_group_.log_group_arn])
    service = ecs.FargateService(
        scope,
        "Service",
        cluster=cluster,
        task_definition=task,
        desired_count=desired,
        assign_public_ip=False,
        vpc_subnets=subnets,
        security_groups=[security_group],
        circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
        min_healthy_percent=100,
        capacity_provider_strategies=[
            ecs.CapacityProviderStrategy(capacity_provider="FARGATE", base=desired, weight=1),
            ecs.CapacityProviderStrategy(capacity_provider="FARGATE_SPOT", weight=spot_weight),
        ],
    )
    return service, task.task_role


class ImageProcessor(Construct):
    """Queue consumer running the processing image; scales on backlog within [min, max]."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        workers: WorkerCluster,
        events_: ImageEvents,
        raw_bucket: s3.IBucket,
        processed_bucket: s3.IBucket,
        table_arn: str,
        table_name: str,
        key: kms.IKey,
        logs_key: kms.IKey,
        subnets: ec2.SubnetSelection,
        image_tag: str,
        retention_days: int,
        cpu: int,
        memory_mib: int,
        min_tasks: int,
        max_tasks: int,
        backlog_per_task: int,
        spot_weight: int,
        log_days: int,
        removal: RemovalPolicy,
        access: AccessControl,
    ) -> None:
        super().__init__(scope, construct_id)
        if not 0 < min_tasks <= max_tasks:
            raise ValueError(
                f"processor needs 0 < min_tasks <= max_tasks, got {min_tasks}..{max_tasks}"
            )
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=workers.cluster.vpc,
            description="Image processor tasks: no inbound, HTTPS out to VPC endpoints",
            allow_all_outbound=False,
        )
        https_only_egress(self.security_group)
        self.log_group = log_group(self, "Logs", key=logs_key, days=log_days, removal=removal)
        self.service, role = fargate_service(
            self,
            cluster=workers.cluster,
            repository=workers.processor_repository,
            image_tag=image_tag,
            cpu=cpu,
            memory_mib=memory_mib,
            environment={
                "QUEUE_URL": events_.queue.queue_url,
                "RAW_BUCKET": raw_bucket.bucket_name,
                "PROCESSED_BUCKET": processed_bucket.bucket_name,
                # The purge contract (runtime/contract.py): every copy is keyed by the image id,
                # which carries the upload time, under the upload day, never the write day, so
                # the deleter removes a copy written on day 6 at T + 7 d like its source.
                "DERIVED_KEY_TEMPLATE": DERIVED_KEY,
                "METADATA_KEY_TEMPLATE": METADATA_KEY,
                # Messages for images past T + RETENTION_DAYS are deleted unread, and the check
                # repeats before each write (contract.should_process): a late or redriven
                # message writes nothing.
                "RETENTION_DAYS": str(retention_days),
                # Metadata updates use contract.processed_update: conditional on the item
                # existing and being inside its window, so they never recreate a purged item.
                "TABLE_NAME": table_name,
            },
            log_group_=self.log_group,
            subnets=subnets,
            security_group=self.security_group,
            desired=min_tasks,
            spot_weight=spot_weight,
            access=access,
        )
        access.grant(
            role,
            ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"],
            [events_.queue.queue_arn],
            "ConsumeWorkQueue",
        )
        access.grant(role, ["s3:GetObject"], [raw_bucket.arn_for_objects("*")], "ReadRawImages")
        access.grant(
            role,
            ["s3:PutObject"],
            [
                processed_bucket.arn_for_objects("derived/*"),
                processed_bucket.arn_for_objects("metadata/*"),
            ],
            "WriteDerivedCopiesAndMetadata",
        )
        # No PutItem: only the two ingest paths create items (with their deadline); the
        # processor may only update an existing one.
        access.grant(
            role,
            ["dynamodb:GetItem", "dynamodb:UpdateItem"],
            [table_arn],
            "RecordMetadata",
        )
        access.grant(role, ["kms:Decrypt", "kms:GenerateDataKey"], [key.key_arn], "UseDataKey")
        scaling = self.service.auto_scale_task_count(min_capacity=min_tasks, max_capacity=max_tasks)
        backlog = events_.queue.metric_approximate_number_of_messages_visible(
            period=Duration.minutes(1), statistic="Maximum"
        )
        scaling.scale_on_metric(
            "Backlog",
            metric=backlog,
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            cooldown=Duration.minutes(2),
            scaling_steps=[
                appscaling.ScalingInterval(upper=0, change=-1),
                appscaling.ScalingInterval(lower=backlog_per_task, change=+1),
                appscaling.ScalingInterval(lower=10 * backlog_per_task, change=+5),
                appscaling.ScalingInterval(lower=40 * backlog_per_task, change=+10),
            ],
        )
        scaling.scale_on_cpu_utilization("Cpu", target_utilization_percent=70)
