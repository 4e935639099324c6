"""Purge verification and the operators' alarms.

``PurgeAudit``: the purge deleter, a Lambda scheduled every 15 minutes (see runtime/purge_audit)
that deletes every object and metadata item past its deadline, counted from the image's upload
time; it publishes ``OverdueItems`` (anything found an hour late) and ``AuditIncomplete``.
``OpsAlarms``: purge breach, incomplete purge runs, dead letters, backlog age and Kafka bridge
lag, all notifying one encrypted SNS topic that the on-call rota subscribes to out of band.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from image_processing.ingestion import vpc_function
from image_processing.runtime.purge_audit.handler import METRIC_NAMESPACE
from image_processing.security import AccessControl
from image_processing.storage import EXPIRY_INDEX


@dataclass(frozen=True)
class Sweep:
    """One place objects are written and the clock their deadline runs on (see ``SweepRule``)."""

    bucket: s3.IBucket
    prefix: str
    clock: str
    keep_minutes: int


class PurgeAudit(Construct):
    """Enforces the purge deadline every 15 minutes and alarms on anything found late."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        sweeps: list[Sweep],
        dead_letter_queues: list[sqs.IQueue],
        retention_minutes: int,
        table_arn: str,
        table_name: str,
        key: kms.IKey,
        logs_key: kms.IKey,
        interval_minutes: int,
        run_minutes: int,
        overdue_after_minutes: int,
        dead_letter_days: int,
        log_days: int,
        code_signing: lambda_.ICodeSigningConfig,
        removal: RemovalPolicy,
        access: AccessControl,
    ) -> None:
        super().__init__(scope, construct_id)
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="List and delete objects and metadata items past their purge deadline",
        )
        security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="Purge audit Lambda: no inbound, HTTPS out to VPC endpoints",
            allow_all_outbound=False,
        )
        security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to VPC endpoints (no internet route)"
        )
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(dead_letter_days),
        )
        self.function = vpc_function(
            self,
            "Function",
            handler_dir="purge_audit",
            description="Every 15 min: delete and count anything past its purge deadline",
            role=role,
            vpc=vpc,
            subnets=subnets,
            security_group=security_group,
            key=key,
            logs_key=logs_key,
            log_days=log_days,
            removal=removal,
            concurrency=1,
            environment={
                "SWEEP_RULES": Stack.of(self).to_json_string(
                    [
                        {
                            "bucket": s.bucket.bucket_name,
                            "prefix": s.prefix,
                            "clock": s.clock,
                            "keep_minutes": s.keep_minutes,
                        }
                        for s in sweeps
                    ]
                ),
                # Dead letters name an image key; a redriven message that fails again starts a
                # new retention, so the deleter removes those past their image's deadline.
                "DEAD_LETTER_QUEUES": Stack.of(self).to_json_string(
                    [
                        {"url": q.queue_url, "keep_minutes": retention_minutes}
                        for q in dead_letter_queues
                    ]
                ),
                "TABLE_NAME": table_name,
                "EXPIRY_INDEX": EXPIRY_INDEX,
                "OVERDUE_AFTER_MINUTES": str(overdue_after_minutes),
            },
            code_signing=code_signing,
            access=access,
            # Shorter than the schedule, so runs never overlap (reserved concurrency is 1).
            timeout=Duration.minutes(run_minutes),
        )
        self.function.configure_async_invoke(retry_attempts=2)
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.dead_letter_config = lambda_.CfnFunction.DeadLetterConfigProperty(
            target_arn=self.dead_letters.queue_arn
        )
        access.grant(role, ["sqs:SendMessage"], [self.dead_letters.queue_arn], "DeadLetter")
        buckets = list(dict.fromkeys(s.bucket for s in sweeps))
        access.grant(
            role,
            ["s3:ListBucket"],
            [b.bucket_arn for b in buckets],
            "ListObjects",
        )
        access.grant(
            role,
            ["s3:DeleteObject"],
            [b.arn_for_objects("*") for b in buckets],
            "DeleteOverdueObjects",
        )
        access.grant(
            role, ["dynamodb:Query"], [f"{table_arn}/index/{EXPIRY_INDEX}"], "FindOverdueItems"
        )
        access.grant(role, ["dynamodb:BatchWriteItem"], [table_arn], "DeleteOverdueItems")
        access.grant(
            role,
            ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"],
            [q.queue_arn for q in dead_letter_queues],
            "DeleteExpiredDeadLetters",
        )
        access.grant(role, ["kms:Decrypt"], [key.key_arn], "ReadEncryptedItems")
        # Lambda delivers a failed run to the dead-letter queue with this role; the queue is
        # encrypted with the data key, and sending to it needs a data key too.
        access.grant(role, ["kms:GenerateDataKey"], [key.key_arn], "SendEncryptedDeadLetters")
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PublishPurgeMetric",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}},
            )
        )
        events.Rule(
            self,
            "Hourly",
            description="Purge deleter every 15 minutes (meets the 2-hour purge bound)",
            schedule=events.Schedule.rate(Duration.minutes(interval_minutes)),
            targets=[targets.LambdaFunction(self.function, retry_attempts=2)],
        )
        # Summed per hour: every run in the hour reports, and one late copy is enough to page.
        self.overdue = cloudwatch.Metric(
            namespace=METRIC_NAMESPACE,
            metric_name="OverdueItems",
            statistic="Sum",
            period=Duration.hours(1),
        )
        self.incomplete = cloudwatch.Metric(
            namespace=METRIC_NAMESPACE,
            metric_name="AuditIncomplete",
            statistic="Maximum",
            period=Duration.hours(1),
        )


class OpsAlarms(Construct):
    """Alarms that page the on-call: purge breach, dead letters, backlog age, Kafka lag."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        audit: PurgeAudit,
        work_queue: sqs.IQueue,
        dead_letters: sqs.IQueue,
        kafka_cluster_name: str,
        kafka_topic: str,
        kafka_consumer_group: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "Topic", master_key=key, enforce_ssl=True)
        # CloudWatch publishes alarm notifications to the encrypted topic only if the key lets
        # it: without this statement every alarm changes state and pages no one.
        stack = Stack.of(self)
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublishToTheOnCallTopic",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{stack.partition}:cloudwatch:{stack.region}:"
                        f"{stack.account}:alarm:*"
                    },
                },
            )
        )
        action = cw_actions.SnsAction(self.topic)
        alarms = [
            cloudwatch.Alarm(
                self,
                "PurgeOverdue",
                alarm_description="A copy was found an hour past its purge deadline, or a key "
                "without an upload time: compliance incident",
                metric=audit.overdue,
                threshold=0,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "PurgeIncomplete",
                alarm_description="A purge run stopped before its timeout with work left",
                metric=audit.incomplete,
                threshold=0,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "DeadLetters",
                alarm_description="Images failed processing 5 times",
                metric=dead_letters.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(5)
                ),
                threshold=0,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
            ),
            cloudwatch.Alarm(
                self,
                "BacklogAge",
                alarm_description="Oldest image waits > 15 min: scaling at max or workers failing",
                metric=work_queue.metric_approximate_age_of_oldest_message(
                    period=Duration.minutes(5)
                ),
                threshold=900,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=3,
            ),
            cloudwatch.Alarm(
                self,
                "KafkaBridgeLag",
                alarm_description="Bridge > 15 min behind Kafka; data is lost after 24 h of lag",
                metric=cloudwatch.Metric(
                    namespace="AWS/Kafka",
                    metric_name="EstimatedMaxTimeLag",
                    dimensions_map={
                        "Cluster Name": kafka_cluster_name,
                        "Consumer Group": kafka_consumer_group,
                        "Topic": kafka_topic,
                    },
                    statistic="Maximum",
                    period=Duration.minutes(5),
                ),
                threshold=900,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=3,
            ),
        ]
        for alarm in alarms:
            alarm.add_alarm_action(action)
