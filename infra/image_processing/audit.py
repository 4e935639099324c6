"""Purge verification and the operators' alarms.

``PurgeAudit``: an hourly scheduled Lambda (see runtime/purge_audit) that deletes and counts any
object older than retention + grace and every metadata item past its ``expires_at``; it
publishes ``OverdueItems`` and an alarm fires above zero.
``OpsAlarms``: purge breach, dead letters, backlog age and Kafka bridge lag, all notifying one
encrypted SNS topic that the on-call rota subscribes to out of band.
"""

from __future__ import annotations

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


class PurgeAudit(Construct):
    """Hourly check-and-enforce of the hard purge deadline, with an alarm on any straggler."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        sweep_layout: dict[s3.IBucket, list[str]],
        table_arn: str,
        table_name: str,
        key: kms.IKey,
        logs_key: kms.IKey,
        hard_purge_days: int,
        retention_days: int,
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
            description="List and delete objects and metadata items past the purge deadline",
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
            retention_period=Duration.days(retention_days),
        )
        self.function = vpc_function(
            self,
            "Function",
            handler_dir="purge_audit",
            description="Hourly: delete and count anything past the purge deadline",
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
                "SWEEP_LAYOUT": Stack.of(self).to_json_string(
                    {b.bucket_name: templates for b, templates in sweep_layout.items()}
                ),
                "TABLE_NAME": table_name,
                "EXPIRY_INDEX": EXPIRY_INDEX,
                "HARD_PURGE_DAYS": str(hard_purge_days),
                "RETENTION_DAYS": str(retention_days),
            },
            code_signing=code_signing,
            access=access,
            timeout=Duration.minutes(15),
        )
        self.function.configure_async_invoke(retry_attempts=2)
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.dead_letter_config = lambda_.CfnFunction.DeadLetterConfigProperty(
            target_arn=self.dead_letters.queue_arn
        )
        access.grant(role, ["sqs:SendMessage"], [self.dead_letters.queue_arn], "DeadLetter")
        buckets = list(sweep_layout)
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
        access.grant(role, ["dynamodb:DeleteItem"], [table_arn], "DeleteOverdueItems")
        access.grant(role, ["kms:Decrypt"], [key.key_arn], "ReadEncryptedItems")
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
            description="Purge audit every hour (bounds the purge deadline to 8 days + 1 h)",
            schedule=events.Schedule.rate(Duration.hours(1)),
            targets=[targets.LambdaFunction(self.function, retry_attempts=2)],
        )
        self.overdue = cloudwatch.Metric(
            namespace=METRIC_NAMESPACE,
            metric_name="OverdueItems",
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
        action = cw_actions.SnsAction(self.topic)
        alarms = [
            cloudwatch.Alarm(
                self,
                "PurgeOverdue",
                alarm_description="Something outlived retention + grace: compliance incident",
                metric=audit.overdue,
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
