"""Promise: an image, every copy of it and its metadata are available for 7 days after the upload
time T and gone from every store by T + 7 d + 2 h.

The purge deleter enforces the deadline (every 15 minutes); lifecycle rules and TTL are
backstops. These tests read the synthesised templates; test_infra_purge_handler.py runs the
handlers against S3 and DynamoDB (moto's server on 127.0.0.1).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from infra_helpers import Synth, as_list, policy_statements, ref_id

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


def test_metadata_table_expires_items_and_keeps_no_backup(synth: Synth) -> None:
    """PITR's shortest window (1 day) would keep purged items restorable past the 2-hour bound."""
    tables = synth.resources("AWS::DynamoDB::Table")
    assert [synth.path_of(t) for t in tables] == ["Metadata/Table/Resource"]
    props = next(iter(tables.values()))["Properties"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": False}
    assert "Replicas" not in props
    assert "StreamSpecification" not in props
    assert "KinesisStreamSpecification" not in props
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
    """Redrive starts a new retention, so DLQ + work queue retention must fit the window.

    A message is enqueued at most ~27 h after T (24 h in Kafka + 1 h segment roll + 2 h of
    EventBridge retries), keeps its enqueue time in the DLQ, and starts over when redriven.
    """
    queues = {
        synth.path_of(k): r["Properties"] for k, r in synth.resources("AWS::SQS::Queue").items()
    }
    retention = {path: props["MessageRetentionPeriod"] for path, props in queues.items()}
    assert retention == {
        "ImageEvents/DeadLetters/Resource": 3 * DAY,
        "ImageEvents/WorkQueue/Resource": 2 * DAY,
        "PurgeAudit/DeadLetters/Resource": 3 * DAY,
    }
    enqueued_by = 27 * 3600
    work = retention["ImageEvents/WorkQueue/Resource"]
    dead = retention["ImageEvents/DeadLetters/Resource"]
    assert enqueued_by + dead + work < 7 * DAY
    # The work queue sends failures to that DLQ, and no queue is FIFO (FIFO DLQs reset the clock).
    redrive = queues["ImageEvents/WorkQueue/Resource"]["RedrivePolicy"]
    assert synth.path_of(ref_id(redrive["deadLetterTargetArn"]) or "") == (
        "ImageEvents/DeadLetters/Resource"
    )
    assert not any(props.get("FifoQueue") for props in queues.values())
    # What reaches the work queue: bucket, key (the id, which carries T) and size; never the
    # requester or source IP of the S3 event.
    (rule,) = [
        r
        for r in synth.resources("AWS::Events::Rule").values()
        if "EventPattern" in r["Properties"]
    ]
    (target,) = rule["Properties"]["Targets"]
    assert target["InputTransformer"]["InputPathsMap"] == {
        "detail-bucket-name": "$.detail.bucket.name",
        "detail-object-key": "$.detail.object.key",
        "detail-object-size": "$.detail.object.size",
    }
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 7200, "MaximumRetryAttempts": 8}


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
        "log.message.timestamp.type": "LogAppendTime",
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


def _function(synth: Synth, path: str) -> dict[str, Any]:
    (function,) = [
        f for k, f in synth.resources("AWS::Lambda::Function").items() if synth.path_of(k) == path
    ]
    return function["Properties"]


def _sweep_rules(synth: Synth) -> list[dict[str, Any]]:
    """SWEEP_RULES with each bucket replaced by its construct path."""
    variables = _function(synth, "PurgeAudit/Function/Resource")["Environment"]["Variables"]
    parts = variables["SWEEP_RULES"]["Fn::Join"][1]
    text = "".join(
        p if isinstance(p, str) else f"<{synth.path_of(ref_id(p) or '')}>" for p in parts
    )
    rules: list[dict[str, Any]] = json.loads(text)
    return rules


WEEK_MINUTES = 7 * 24 * 60


def test_purge_deleter_runs_every_15_minutes_on_every_bucket(synth: Synth) -> None:
    audit = _function(synth, "PurgeAudit/Function/Resource")
    variables = audit["Environment"]["Variables"]
    assert variables["OVERDUE_AFTER_MINUTES"] == "60"
    assert variables["EXPIRY_INDEX"] == "by-expiry-day"
    assert audit["Handler"] == "runtime.purge_audit.handler.handler"
    # Runs never overlap: the timeout is shorter than the schedule, one run at a time.
    assert (audit["Timeout"], audit["ReservedConcurrentExecutions"]) == (14 * 60, 1)
    assert [
        (r["bucket"], r["prefix"], r["clock"], r["keep_minutes"]) for r in _sweep_rules(synth)
    ] == [
        ("<Archive/Raw/Resource>", "uploads/{date}/", "upload", WEEK_MINUTES),
        ("<Archive/Raw/Resource>", "kafka/{date}/", "upload", WEEK_MINUTES),
        ("<Archive/Processed/Resource>", "derived/{date}/", "upload", WEEK_MINUTES),
        ("<Archive/Processed/Resource>", "metadata/dt={date}/", "upload", WEEK_MINUTES),
        ("<Analytics/QueryResults/Resource>", "", "written", 30),
        ("<Archive/AccessLogs/Resource>", "raw/{date}-", "written", WEEK_MINUTES),
        ("<Archive/AccessLogs/Resource>", "processed/{date}-", "written", WEEK_MINUTES),
        ("<Archive/AccessLogs/Resource>", "queryresults/{date}-", "written", WEEK_MINUTES),
    ]
    covered = {r["bucket"] for r in _sweep_rules(synth)}
    assert covered == {f"<{synth.path_of(b)}>" for b in synth.resources("AWS::S3::Bucket")}
    schedules = [
        r["Properties"]["ScheduleExpression"]
        for r in synth.resources("AWS::Events::Rule").values()
        if "ScheduleExpression" in r["Properties"]
    ]
    assert schedules == ["rate(15 minutes)"]


def test_purge_alarms_page_on_anything_late_and_on_incomplete_or_missing_runs(synth: Synth) -> None:
    alarms = {
        synth.path_of(k): r["Properties"]
        for k, r in synth.resources("AWS::CloudWatch::Alarm").items()
    }
    for name, metric, statistic in (
        ("PurgeOverdue", "OverdueItems", "Sum"),
        ("PurgeIncomplete", "AuditIncomplete", "Maximum"),
    ):
        alarm = alarms[f"OpsAlarms/{name}/Resource"]
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
            "ImageProcessing/Purge",
            metric,
            statistic,
        )
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
        assert (alarm["Period"], alarm["EvaluationPeriods"]) == (3600, 1)
        assert alarm["TreatMissingData"] == "breaching"
        assert len(alarm["AlarmActions"]) == 1


def _put_prefixes(synth: Synth) -> set[tuple[str, str]]:
    """(bucket path, key prefix) of every s3:PutObject any role of the stack is granted."""
    grants = set()
    buckets = set(synth.resources("AWS::S3::Bucket"))
    # Role policies only: the permission boundary caps grants, it grants nothing itself.
    role_policies = set(synth.resources("AWS::IAM::Policy"))
    for logical_id, statement in policy_statements(synth.template):
        if logical_id not in role_policies or statement["Effect"] != "Allow":
            continue
        if "s3:PutObject" not in as_list(statement["Action"]):
            continue
        for resource in as_list(statement["Resource"]):
            if not isinstance(resource, dict) or "Fn::Join" not in resource:
                continue
            arn, *rest = resource["Fn::Join"][1]
            if ref_id(arn) not in buckets:
                continue
            assert all(isinstance(part, str) for part in rest), resource
            bucket = synth.path_of(ref_id(arn) or "")
            grants.add((bucket, "".join(rest).removeprefix("/").removesuffix("*")))
    return grants


def test_every_place_a_role_may_write_is_swept_by_the_deleter(synth: Synth) -> None:
    """No writer can put an object where the deleter does not look."""
    assert _put_prefixes(synth) == {
        ("Archive/Raw/Resource", "uploads/"),
        ("Archive/Raw/Resource", "kafka/"),
        ("Archive/Processed/Resource", "derived/"),
        ("Archive/Processed/Resource", "metadata/"),
        ("Analytics/QueryResults/Resource", ""),
    }
    rules = _sweep_rules(synth)
    for bucket, prefix in _put_prefixes(synth):
        assert any(
            r["bucket"] == f"<{bucket}>" and r["prefix"].startswith(prefix) for r in rules
        ), (bucket, prefix)


def _container_environment(synth: Synth, service: str) -> dict[str, Any]:
    (task,) = [
        t
        for k, t in synth.resources("AWS::ECS::TaskDefinition").items()
        if synth.path_of(k) == f"{service}/Task/Resource"
    ]
    (container,) = task["Properties"]["ContainerDefinitions"]
    return {v["Name"]: v["Value"] for v in container["Environment"]}


def _granted(synth: Synth, role_policy_prefix: str) -> dict[str, list[str]]:
    """Sid -> actions of the policies whose construct path starts with the prefix."""
    granted = {}
    for logical_id, statement in policy_statements(synth.template):
        if synth.path_of(logical_id).startswith(role_policy_prefix) and "Sid" in statement:
            granted[statement["Sid"]] = sorted(as_list(statement["Action"]))
    return granted


def test_processor_keys_copies_by_upload_time_and_cannot_recreate_items(synth: Synth) -> None:
    env = _container_environment(synth, "Processor")
    assert env["DERIVED_KEY_TEMPLATE"] == "derived/{day}/{image_id}/{variant}"
    assert env["METADATA_KEY_TEMPLATE"] == "metadata/dt={day}/{image_id}.json"
    assert env["RETENTION_DAYS"] == "7"
    granted = _granted(synth, "Processor/")
    assert granted["RecordMetadata"] == ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    assert not [
        a
        for actions in granted.values()
        for a in actions
        if a in ("dynamodb:PutItem", "dynamodb:BatchWriteItem")
    ]


def test_kafka_bridge_registers_images_with_the_same_deadline(synth: Synth) -> None:
    env = _container_environment(synth, "KafkaBridge")
    assert env["KEY_TEMPLATE"] == "kafka/{day}/{image_id}"
    assert env["UPLOAD_TIME"] == "LogAppendTime"
    assert env["RETENTION_DAYS"] == "7"
    assert synth.path_of(ref_id(env["TABLE_NAME"]) or "") == "Metadata/Table/Resource"
    granted = _granted(synth, "KafkaBridge/")
    assert granted["RegisterKafkaImages"] == ["dynamodb:PutItem"]
    assert granted["LandImagesInRaw"] == ["s3:PutObject"]


def test_lambda_bundle_imports_the_shared_contract_on_its_own(synth: Synth) -> None:
    """The bundle is the runtime package alone; both handlers import in a bare interpreter."""
    bundles = sorted(synth.path.parent.glob("asset.*/runtime/contract.py"))
    assert len(bundles) == 1
    root = bundles[0].parents[1]
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == [
        "runtime/__init__.py",
        "runtime/contract.py",
        "runtime/purge_audit/__init__.py",
        "runtime/purge_audit/handler.py",
        "runtime/upload_url/__init__.py",
        "runtime/upload_url/handler.py",
    ]
    # -I: no user site, no PYTHONPATH; only the bundle root, as Lambda puts it on the path.
    probe = (
        "import sys; sys.path.insert(0, '.'); "
        "import runtime.purge_audit.handler, runtime.upload_url.handler; print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-B", "-c", probe],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "ok\n", "")


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


def test_analyst_exports_stay_inside_the_window(synth: Synth) -> None:
    """Query results go 30 min after they are written; QuickSight keeps no SPICE copy, no files."""
    results = [r for r in _sweep_rules(synth) if r["bucket"] == "<Analytics/QueryResults/Resource>"]
    assert results == [
        {
            "bucket": "<Analytics/QueryResults/Resource>",
            "prefix": "",
            "clock": "written",
            "keep_minutes": 30,
        }
    ]
    (workgroup,) = synth.resources("AWS::Athena::WorkGroup").values()
    output = workgroup["Properties"]["WorkGroupConfiguration"]["ResultConfiguration"]
    assert synth.path_of(ref_id(output["OutputLocation"]["Fn::Join"][1][1]) or "") == (
        "Analytics/QueryResults/Resource"
    )
    assert workgroup["Properties"]["WorkGroupConfiguration"]["EnforceWorkGroupConfiguration"]
    profiles = [
        r["Properties"] for r in synth.resources("AWS::QuickSight::CustomPermissions").values()
    ]
    if synth.env == "dev":  # no QuickSight subscription in dev
        assert profiles == []
        return
    (profile,) = profiles
    assert profile["CustomPermissionsName"] == "image-analysts-prod"
    assert profile["Capabilities"] == {
        "CreateSPICEDataset": "DENY",
        "ExportToCsv": "DENY",
        "ExportToCsvInScheduledReports": "DENY",
        "ExportToExcel": "DENY",
        "ExportToExcelInScheduledReports": "DENY",
        "ExportToPdf": "DENY",
        "ExportToPdfInScheduledReports": "DENY",
        "IncludeContentInScheduledReportsEmail": "DENY",
        "PrintReports": "DENY",
    }
    assert not synth.resources("AWS::QuickSight::DataSet")


def test_deleter_removes_dead_letters_past_their_image_deadline(synth: Synth) -> None:
    """A redriven message that fails again re-enters the DLQ with a fresh retention: the deleter
    bounds it by the deadline its key carries instead."""
    variables = _function(synth, "PurgeAudit/Function/Resource")["Environment"]["Variables"]
    parts = variables["DEAD_LETTER_QUEUES"]["Fn::Join"][1]
    text = "".join(
        p if isinstance(p, str) else f"<{synth.path_of(ref_id(p) or '')}>" for p in parts
    )
    assert json.loads(text) == [
        {"url": "<ImageEvents/DeadLetters/Resource>", "keep_minutes": WEEK_MINUTES}
    ]
    statements = [
        s
        for logical_id, s in policy_statements(synth.template)
        if synth.path_of(logical_id).startswith("PurgeAudit/Role")
        and s.get("Sid") == "DeleteExpiredDeadLetters"
    ]
    assert [
        (
            sorted(as_list(s["Action"])),
            [synth.path_of(ref_id(r) or "") for r in as_list(s["Resource"])],
        )
        for s in statements
    ] == [
        (
            ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:ReceiveMessage"],
            ["ImageEvents/DeadLetters/Resource"],
        )
    ]


def test_alarms_can_publish_to_the_encrypted_on_call_topic(synth: Synth) -> None:
    """CloudWatch needs the topic's KMS key to notify; without it a breach pages no one."""
    (topic,) = synth.resources("AWS::SNS::Topic").values()
    key_id = ref_id(topic["Properties"]["KmsMasterKeyId"]) or ""
    assert synth.path_of(key_id) == "Keys/Data/Resource"
    statements = synth.template["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"]
    (cloudwatch,) = [
        s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert (cloudwatch["Effect"], sorted(as_list(cloudwatch["Action"]))) == (
        "Allow",
        ["kms:Decrypt", "kms:GenerateDataKey*"],
    )
    assert cloudwatch["Condition"]["StringEquals"] == {
        "aws:SourceAccount": {"Ref": "AWS::AccountId"}
    }
    alarm_arns = json.dumps(cloudwatch["Condition"]["ArnLike"]["aws:SourceArn"])
    assert ":cloudwatch:" in alarm_arns and ":alarm:*" in alarm_arns
    topic_id = next(iter(synth.resources("AWS::SNS::Topic")))
    paging = {
        synth.path_of(k): [ref_id(a) for a in r["Properties"]["AlarmActions"]]
        for k, r in synth.resources("AWS::CloudWatch::Alarm").items()
        if synth.path_of(k).startswith("OpsAlarms/")
    }
    assert len(paging) == 5
    assert all(actions == [topic_id] for actions in paging.values())
    # A failed purge run reaches its (encrypted) dead-letter queue only with a data key.
    granted = {
        s["Sid"]: (as_list(s["Action"]), [ref_id(r) for r in as_list(s["Resource"])])
        for logical_id, s in policy_statements(synth.template)
        if synth.path_of(logical_id).startswith("PurgeAudit/Role") and "Sid" in s
    }
    assert granted["SendEncryptedDeadLetters"] == (["kms:GenerateDataKey"], [key_id])
