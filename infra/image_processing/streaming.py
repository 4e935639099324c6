"""The Kafka stream the engineers manage (Amazon MSK) and the bridge that lands it in S3.

``KafkaStream``: an MSK cluster spread over the configured AZs, IAM (SASL) authentication only,
TLS between clients and brokers and between brokers, storage encrypted with the stream key, and
broker logs kept 7 days. Kafka is transport, not archive: ``log.retention.hours`` is short (24 h,
enough to replay after a consumer outage) and topics cannot be created implicitly.
``KafkaBridge``: a small Fargate service that consumes ``images.raw``, writes each image to the
raw bucket under ``kafka/`` and registers its metadata item with the same deadline as the upload
API (``runtime/contract.py``: upload time = the broker's append time), from where the same
event-driven processing takes over.
``producer_role``: the only identity allowed to write to the topic (assumed by the producing app).
"""

from __future__ import annotations

from aws_cdk import Aws, Fn, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_msk as msk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from image_processing.compliance import log_group
from image_processing.processing import WorkerCluster, fargate_service, https_only_egress
from image_processing.runtime.contract import RAW_KAFKA_KEY
from image_processing.security import AccessControl

TOPIC = "images.raw"
CONSUMER_GROUP = "image-bridge"
KAFKA_VERSION = "3.6.0"
IAM_TLS_PORT = 9098


def broker_properties(
    *, retention_hours: int, replication_factor: int, partitions: int, max_message_bytes: int
) -> str:
    """server.properties of the cluster: short retention, durable writes, large messages."""
    min_insync = max(1, replication_factor - 1)
    lines = [
        "auto.create.topics.enable=false",
        f"default.replication.factor={replication_factor}",
        f"min.insync.replicas={min_insync}",
        f"num.partitions={partitions}",
        f"log.retention.hours={retention_hours}",
        # The record timestamp is the broker's append time, not the producer's clock: it is the
        # upload time T of a Kafka image, from which every copy of it expires.
        "log.message.timestamp.type=LogAppendTime",
        # Kafka deletes whole segments only; rolling hourly bounds the age of any message to
        # retention + 1 h (the default roll of 7 days would let a quiet topic keep data ~8 days).
        "log.roll.hours=1",
        f"message.max.bytes={max_message_bytes}",
        f"replica.fetch.max.bytes={max_message_bytes}",
        "unclean.leader.election.enable=false",
    ]
    return "\n".join(lines) + "\n"


class KafkaStream(Construct):
    """MSK cluster, its configuration, broker logs and the producer identity."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env_name: str,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        stream_key: kms.IKey,
        logs_key: kms.IKey,
        instance_type: str,
        broker_count: int,
        volume_gib: int,
        retention_hours: int,
        replication_factor: int,
        partitions: int,
        max_message_bytes: int,
        log_days: int,
        producer_account: str | None,
        removal: RemovalPolicy,
        access: AccessControl,
    ) -> None:
        super().__init__(scope, construct_id)
        self.cluster_name = f"images-{env_name}"
        self.security_group = ec2.SecurityGroup(
            self,
            "BrokerSecurityGroup",
            vpc=vpc,
            description="MSK brokers: IAM/TLS listener for clients inside the VPC only",
            allow_all_outbound=False,
        )
        self.security_group.add_ingress_rule(
            ec2.Peer.ipv4(vpc.vpc_cidr_block), ec2.Port.tcp(IAM_TLS_PORT), "Kafka IAM over TLS"
        )
        self.security_group.add_egress_rule(
            ec2.Peer.ipv4(vpc.vpc_cidr_block), ec2.Port.tcp(IAM_TLS_PORT), "Broker replication"
        )
        self.configuration = msk.CfnConfiguration(
            self,
            "Configuration",
            name=f"{self.cluster_name}-config",
            description="Short retention: Kafka carries images, S3 archives them",
            kafka_versions_list=[KAFKA_VERSION],
            server_properties=broker_properties(
                retention_hours=retention_hours,
                replication_factor=replication_factor,
                partitions=partitions,
                max_message_bytes=max_message_bytes,
            ),
        )
        self.broker_logs = log_group(
            self, "BrokerLogs", key=logs_key, days=log_days, removal=removal
        )
        subnet_ids = vpc.select_subnets(subnet_group_name=subnets.subnet_group_name).subnet_ids
        self.cluster = msk.CfnCluster(
            self,
            "Cluster",
            cluster_name=self.cluster_name,
            kafka_version=KAFKA_VERSION,
            number_of_broker_nodes=broker_count,
            broker_node_group_info=msk.CfnCluster.BrokerNodeGroupInfoProperty(
                instance_type=instance_type,
                client_subnets=subnet_ids,
                security_groups=[self.security_group.security_group_id],
                storage_info=msk.CfnCluster.StorageInfoProperty(
                    ebs_storage_info=msk.CfnCluster.EBSStorageInfoProperty(volume_size=volume_gib)
                ),
                connectivity_info=msk.CfnCluster.ConnectivityInfoProperty(
                    public_access=msk.CfnCluster.PublicAccessProperty(type="DISABLED")
                ),
            ),
            client_authentication=msk.CfnCluster.ClientAuthenticationProperty(
                sasl=msk.CfnCluster.SaslProperty(iam=msk.CfnCluster.IamProperty(enabled=True)),
                unauthenticated=msk.CfnCluster.UnauthenticatedProperty(enabled=False),
            ),
            encryption_info=msk.CfnCluster.EncryptionInfoProperty(
                encryption_at_rest=msk.CfnCluster.EncryptionAtRestProperty(
                    data_volume_kms_key_id=stream_key.key_arn
                ),
                encryption_in_transit=msk.CfnCluster.EncryptionInTransitProperty(
                    client_broker="TLS", in_cluster=True
                ),
            ),
            configuration_info=msk.CfnCluster.ConfigurationInfoProperty(
                arn=self.configuration.attr_arn, revision=1
            ),
            enhanced_monitoring="PER_TOPIC_PER_BROKER",
            logging_info=msk.CfnCluster.LoggingInfoProperty(
                broker_logs=msk.CfnCluster.BrokerLogsProperty(
                    cloud_watch_logs=msk.CfnCluster.CloudWatchLogsProperty(
                        enabled=True, log_group=self.broker_logs.log_group_name
                    )
                )
            ),
        )
        self.cluster.apply_removal_policy(removal)
        cluster_arn = self.cluster.attr_arn
        cluster_uuid = Fn.select(2, Fn.split("/", cluster_arn))
        prefix = f"arn:{Aws.PARTITION}:kafka:{Aws.REGION}:{Aws.ACCOUNT_ID}"
        self.cluster_arn = cluster_arn
        self.topic_arn = Fn.join(
            "", [f"{prefix}:topic/{self.cluster_name}/", cluster_uuid, f"/{TOPIC}"]
        )
        self.group_arn = Fn.join(
            "", [f"{prefix}:group/{self.cluster_name}/", cluster_uuid, f"/{CONSUMER_GROUP}"]
        )
        self.producer_role = iam.Role(
            self,
            "ProducerRole",
            description="Assumed by the producing web application to publish images",
            assumed_by=iam.AccountPrincipal(producer_account or Aws.ACCOUNT_ID),
        )
        access.grant(
            self.producer_role,
            ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"],
            [cluster_arn],
            "ConnectToCluster",
        )
        access.grant(
            self.producer_role,
            ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"],
            [self.topic_arn],
            "PublishImages",
        )


class KafkaBridge(Construct):
    """Consumes ``images.raw`` and lands each image in the raw bucket (``kafka/`` prefix)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stream: KafkaStream,
        workers: WorkerCluster,
        raw_bucket: s3.IBucket,
        table_arn: str,
        table_name: str,
        key: kms.IKey,
        logs_key: kms.IKey,
        subnets: ec2.SubnetSelection,
        image_tag: str,
        retention_days: int,
        min_tasks: int,
        max_tasks: int,
        log_days: int,
        removal: RemovalPolicy,
        access: AccessControl,
    ) -> None:
        super().__init__(scope, construct_id)
        if not 0 < min_tasks <= max_tasks:
            raise ValueError(
                f"bridge needs 0 < min_tasks <= max_tasks, got {min_tasks}..{max_tasks}"
            )
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=workers.cluster.vpc,
            description="Kafka bridge tasks: no inbound; Kafka and HTTPS out",
            allow_all_outbound=False,
        )
        https_only_egress(self.security_group)
        self.security_group.add_egress_rule(
            ec2.Peer.security_group_id(stream.security_group.security_group_id),
            ec2.Port.tcp(IAM_TLS_PORT),
            "Kafka brokers",
        )
        self.log_group = log_group(self, "Logs", key=logs_key, days=log_days, removal=removal)
        self.service, role = fargate_service(
            self,
            cluster=workers.cluster,
            repository=workers.bridge_repository,
            image_tag=image_tag,
            cpu=512,
            memory_mib=1024,
            environment={
                "CLUSTER_ARN": stream.cluster_arn,
                "TOPIC": TOPIC,
                "CONSUMER_GROUP": CONSUMER_GROUP,
                "RAW_BUCKET": raw_bucket.bucket_name,
                # The purge contract (runtime/contract.kafka_landing): T = the record's append
                # time, written into the image id; the key is under T's day; the metadata item
                # gets expires_at = T + RETENTION_DAYS; a record already past it is dropped.
                "KEY_TEMPLATE": RAW_KAFKA_KEY,
                "UPLOAD_TIME": "LogAppendTime",
                "RETENTION_DAYS": str(retention_days),
                "TABLE_NAME": table_name,
            },
            log_group_=self.log_group,
            subnets=subnets,
            security_group=self.security_group,
            desired=min_tasks,
            # On-demand only: a Spot interruption forces a consumer-group rebalance and lag.
            spot_weight=0,
            access=access,
        )
        access.grant(
            role,
            ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"],
            [stream.cluster_arn],
            "ConnectToCluster",
        )
        access.grant(
            role,
            ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
            [stream.topic_arn],
            "ReadImagesTopic",
        )
        access.grant(
            role,
            ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
            [stream.group_arn],
            "CommitOffsets",
        )
        access.grant(
            role, ["s3:PutObject"], [raw_bucket.arn_for_objects("kafka/*")], "LandImagesInRaw"
        )
        access.grant(role, ["dynamodb:PutItem"], [table_arn], "RegisterKafkaImages")
        access.grant(
            role, ["kms:Decrypt", "kms:GenerateDataKey"], [key.key_arn], "EncryptWithDataKey"
        )
        scaling = self.service.auto_scale_task_count(min_capacity=min_tasks, max_capacity=max_tasks)
        scaling.scale_on_cpu_utilization("Cpu", target_utilization_percent=60)
