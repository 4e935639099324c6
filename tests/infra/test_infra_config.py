"""Environment parameters and the guard rails of the construct helpers."""

from __future__ import annotations

import pytest
from image_processing.compliance import retention
from image_processing.config import DEV, ENVIRONMENTS, PROD


def test_environments_and_derived_numbers() -> None:
    assert sorted(ENVIRONMENTS) == ["dev", "prod"]
    for env in (DEV, PROD):
        assert (env.retention_days, env.purge_bound_minutes) == (7, 120)
        # The designed worst case fits the contract's bound, with the overdue alarm inside it.
        assert env.worst_case_purge_minutes == 88
        assert env.worst_case_purge_minutes < env.purge_bound_minutes
        assert env.overdue_after_minutes < env.purge_bound_minutes
        # The deleter's runs never overlap.
        assert env.purge_run_minutes < env.purge_interval_minutes
        # A queue message (Kafka lag, one DLQ stay, one redrive) is gone before the window ends.
        assert env.worst_case_queue_hours == 147
        assert env.worst_case_queue_hours < env.retention_days * 24
    assert (DEV.kafka_broker_count, PROD.kafka_broker_count) == (2, 3)
    assert (DEV.kafka_replication_factor, PROD.kafka_replication_factor) == (2, 3)
    assert PROD.retain_data_on_delete and not DEV.retain_data_on_delete
    # Logs (operational records): retention + CloudWatch's 72 h deletion lag <= 8 days.
    assert PROD.log_retention_days + 3 <= 8


def test_retention_refuses_windows_longer_than_a_week() -> None:
    with pytest.raises(ValueError) as error:
        retention(14)
    assert str(error.value) == "log retention must be one of 1, 3, 5, 7 days, got 14"


def test_grants_refuse_wildcard_actions() -> None:
    from aws_cdk import App, Stack
    from aws_cdk import aws_iam as iam
    from image_processing.security import AccessControl

    stack = Stack(App(), "Probe")
    access = AccessControl(stack, "Access", env_name="test")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    with pytest.raises(ValueError) as error:
        access.grant(role, ["s3:Get*"], ["arn:aws:s3:::bucket/*"], "ReadAll")
    assert str(error.value) == "ReadAll: wildcard action 's3:Get*' is not allowed"


def test_scaling_bounds_are_validated() -> None:
    from aws_cdk import App, RemovalPolicy, Stack
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3
    from image_processing.processing import ImageEvents, ImageProcessor, WorkerCluster
    from image_processing.security import AccessControl

    stack = Stack(App(), "Probe")
    key = kms.Key(stack, "Key")
    vpc = ec2.Vpc(stack, "Vpc", nat_gateways=0, restrict_default_security_group=False)
    bucket = s3.Bucket(stack, "Bucket")
    workers = WorkerCluster(
        stack, "Workers", vpc=vpc, key=key, logs_key=key, removal=RemovalPolicy.DESTROY
    )
    events = ImageEvents(
        stack, "Events", raw_bucket=bucket, key=key, work_queue_days=2, dead_letter_days=3
    )
    with pytest.raises(ValueError) as error:
        ImageProcessor(
            stack,
            "Processor",
            workers=workers,
            events_=events,
            raw_bucket=bucket,
            processed_bucket=bucket,
            table_arn="arn:aws:dynamodb:eu-west-1:111111111111:table/t",
            table_name="t",
            key=key,
            logs_key=key,
            subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            image_tag="x",
            retention_days=7,
            cpu=256,
            memory_mib=512,
            min_tasks=5,
            max_tasks=2,
            backlog_per_task=10,
            spot_weight=1,
            log_days=7,
            removal=RemovalPolicy.DESTROY,
            access=AccessControl(stack, "Access", env_name="test"),
        )
    assert str(error.value) == "processor needs 0 < min_tasks <= max_tasks, got 5..2"
