"""Promise: everything that can hold an image or its metadata forgets it after 7 days.

Archive window 7 days; the last copy (noncurrent versions, PITR window) is gone by day 8.
"""

from __future__ import annotations

from infra_helpers import Synth, ref_id

DAY = 86_400


def test_every_bucket_expires_objects_and_keeps_no_old_versions(synth: Synth) -> None:
    expiry = {}
    for logical_id, bucket in synth.resources("AWS::S3::Bucket").items():
        (rule,) = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
        assert rule["Id"] == "purge-after-retention"
        assert rule["Status"] == "Enabled"
        assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
        expiry[synth.path_of(logical_id)] = rule["ExpirationInDays"]
        # Versioning would turn every expiry into a retained noncurrent version.
        assert "VersioningConfiguration" not in bucket["Properties"]
        assert "ReplicationConfiguration" not in bucket["Properties"]
        assert "ObjectLockEnabled" not in bucket["Properties"]
    assert expiry == {
        "Archive/AccessLogs/Resource": 7,
        "Archive/Raw/Resource": 7,
        "Archive/Processed/Resource": 7,
        "Analytics/QueryResults/Resource": 1,
    }


def test_metadata_table_expires_items_and_keeps_one_day_of_recovery(synth: Synth) -> None:
    tables = synth.resources("AWS::DynamoDB::Table")
    assert [synth.path_of(t) for t in tables] == ["Metadata/Table/Resource"]
    props = next(iter(tables.values()))["Properties"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": True,
        "RecoveryPeriodInDays": 1,
    }
    assert "Replicas" not in props
    assert [i["IndexName"] for i in props["GlobalSecondaryIndexes"]] == ["by-expiry-day"]


def test_no_backup_service_copies_the_data(synth: Synth) -> None:
    types = {r["Type"] for r in synth.template["Resources"].values()}
    assert not {t for t in types if t.startswith("AWS::Backup::")}
    assert "AWS::DynamoDB::GlobalTable" not in types
    assert "AWS::ElastiCache::CacheCluster" not in types
    assert "AWS::CloudFront::Distribution" not in types


def test_every_log_group_expires_before_the_hard_deadline(synth: Synth) -> None:
    """5 days + CloudWatch's up-to-72-hour deletion lag <= the 8-day hard purge deadline."""
    retention = {
        synth.path_of(k): r["Properties"]["RetentionInDays"]
        for k, r in synth.resources("AWS::Logs::LogGroup").items()
    }
    assert retention == {
        "Network/FlowLogs/Resource": 5,
        "UploadApi/UploadUrlLogs/Resource": 5,
        "UploadApi/AccessLogs/Resource": 5,
        "UploadApi/ExecutionLogs/Resource": 5,
        "KafkaStream/BrokerLogs/Resource": 5,
        "Workers/InsightsLogs/Resource": 1,
        "KafkaBridge/Logs/Resource": 5,
        "Processor/Logs/Resource": 5,
        "PurgeAudit/FunctionLogs/Resource": 5,
    }


def test_every_writer_logs_into_a_declared_group(synth: Synth) -> None:
    """No Lambda, container or stage may fall back to an auto-created, never-expiring group."""
    groups = set(synth.resources("AWS::Logs::LogGroup"))
    for function in synth.resources("AWS::Lambda::Function").values():
        assert ref_id(function["Properties"]["LoggingConfig"]["LogGroup"]) in groups
    for task in synth.resources("AWS::ECS::TaskDefinition").values():
        for container in task["Properties"]["ContainerDefinitions"]:
            options = container["LogConfiguration"]["Options"]
            assert container["LogConfiguration"]["LogDriver"] == "awslogs"
            assert ref_id(options["awslogs-group"]) in groups
    for stage in synth.resources("AWS::ApiGateway::Stage").values():
        destination = stage["Properties"]["AccessLogSetting"]["DestinationArn"]
        assert ref_id(destination) in groups
        assert stage["Properties"]["MethodSettings"][0]["DataTraceEnabled"] is False
    for flow_log in synth.resources("AWS::EC2::FlowLog").values():
        assert ref_id(flow_log["Properties"]["LogGroupName"]) in groups
    (cluster,) = synth.resources("AWS::MSK::Cluster").values()
    broker_logs = cluster["Properties"]["LoggingInfo"]["BrokerLogs"]["CloudWatchLogs"]
    assert ref_id(broker_logs["LogGroup"]) in groups


def test_queues_never_hold_event_metadata_longer_than_the_window(synth: Synth) -> None:
    retention = {
        synth.path_of(k): r["Properties"]["MessageRetentionPeriod"]
        for k, r in synth.resources("AWS::SQS::Queue").items()
    }
    assert retention == {
        "ImageEvents/DeadLetters/Resource": 7 * DAY,
        "ImageEvents/WorkQueue/Resource": 4 * DAY,
        "PurgeAudit/DeadLetters/Resource": 7 * DAY,
    }


def test_kafka_keeps_images_one_day_and_never_creates_topics_implicitly(synth: Synth) -> None:
    (configuration,) = synth.resources("AWS::MSK::Configuration").values()
    properties = dict(
        line.split("=", 1) for line in configuration["Properties"]["ServerProperties"].splitlines()
    )
    replication = {"dev": "2", "prod": "3"}[synth.env]
    assert properties == {
        "auto.create.topics.enable": "false",
        "default.replication.factor": replication,
        "min.insync.replicas": {"dev": "1", "prod": "2"}[synth.env],
        "num.partitions": {"dev": "6", "prod": "12"}[synth.env],
        "log.retention.hours": "24",
        "log.roll.hours": "1",
        "message.max.bytes": "10485760",
        "replica.fetch.max.bytes": "10485760",
        "unclean.leader.election.enable": "false",
    }
    assert int(properties["log.retention.hours"]) <= 7 * 24


def test_athena_results_and_catalog_cover_only_the_window(synth: Synth) -> None:
    (table,) = synth.resources("AWS::Glue::Table").values()
    parameters = table["Properties"]["TableInput"]["Parameters"]
    assert parameters["projection.dt.range"] == "NOW-7DAYS,NOW"
    columns = {c["Name"] for c in table["Properties"]["TableInput"]["StorageDescriptor"]["Columns"]}
    assert "owner_sub" not in columns


def test_purge_audit_runs_hourly_against_every_bucket(synth: Synth) -> None:
    (audit,) = [
        f
        for k, f in synth.resources("AWS::Lambda::Function").items()
        if synth.path_of(k) == "PurgeAudit/Function/Resource"
    ]
    variables = audit["Properties"]["Environment"]["Variables"]
    assert variables["HARD_PURGE_DAYS"] == "8"
    assert variables["RETENTION_DAYS"] == "7"
    parts = variables["SWEEP_LAYOUT"]["Fn::Join"][1]
    layout_ids = {ref_id(part) for part in parts if isinstance(part, dict)}
    assert layout_ids == set(synth.resources("AWS::S3::Bucket"))
    text = "".join(
        p if isinstance(p, str) else f"<{synth.path_of(ref_id(p) or '')}>" for p in parts
    )
    assert text == (
        '{"<Archive/Raw/Resource>":["uploads/{date}/","kafka/{date}/"],'
        '"<Archive/Processed/Resource>":["derived/{date}/","metadata/dt={date}/"],'
        '"<Archive/AccessLogs/Resource>":["raw/{date}-","processed/{date}-","queryresults/{date}-"],'
        '"<Analytics/QueryResults/Resource>":[""]}'
    )
    schedules = [
        r["Properties"]["ScheduleExpression"]
        for r in synth.resources("AWS::Events::Rule").values()
        if "ScheduleExpression" in r["Properties"]
    ]
    assert schedules == ["rate(1 hour)"]
    alarms = {
        synth.path_of(k): r["Properties"]
        for k, r in synth.resources("AWS::CloudWatch::Alarm").items()
    }
    purge = alarms["OpsAlarms/PurgeOverdue/Resource"]
    assert (purge["Namespace"], purge["MetricName"], purge["Threshold"]) == (
        "ImageProcessing/Purge",
        "OverdueItems",
        0,
    )
    assert purge["TreatMissingData"] == "breaching"


def test_no_tracing_service_keeps_request_metadata_for_30_days(synth: Synth) -> None:
    """X-Ray's retention is fixed at 30 days and its segments carry client IPs."""
    for function in synth.resources("AWS::Lambda::Function").values():
        assert function["Properties"].get("TracingConfig", {"Mode": "PassThrough"}) == {
            "Mode": "PassThrough"
        }
    for stage in synth.resources("AWS::ApiGateway::Stage").values():
        assert stage["Properties"]["TracingEnabled"] is False
    (acl,) = synth.resources("AWS::WAFv2::WebACL").values()
    assert acl["Properties"]["VisibilityConfig"]["SampledRequestsEnabled"] is False
    for rule in acl["Properties"]["Rules"]:
        assert rule["VisibilityConfig"]["SampledRequestsEnabled"] is False


def test_kafka_bridge_lag_pages_long_before_retention_drops_data(synth: Synth) -> None:
    alarms = {
        synth.path_of(k): r["Properties"]
        for k, r in synth.resources("AWS::CloudWatch::Alarm").items()
    }
    lag = alarms["OpsAlarms/KafkaBridgeLag/Resource"]
    assert (lag["Namespace"], lag["MetricName"], lag["Threshold"]) == (
        "AWS/Kafka",
        "EstimatedMaxTimeLag",
        900,
    )
    assert {d["Name"]: d["Value"] for d in lag["Dimensions"]} == {
        "Cluster Name": f"images-{synth.env}",
        "Consumer Group": "image-bridge",
        "Topic": "images.raw",
    }
    assert lag["Threshold"] * lag["EvaluationPeriods"] < 24 * 3600
