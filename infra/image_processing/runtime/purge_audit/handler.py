"""Daily purge audit: proves, and if needed enforces, that nothing outlives the purge deadline.

Lifecycle rules and TTL do the deleting; they are asynchronous, so this function checks every
object version of each data bucket and every metadata item whose expiry day has passed. Anything
older than the hard deadline (retention + grace) is deleted and counted; the count is published
as the ``OverdueItems`` metric, which alarms above zero. A green alarm history is the evidence.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

METRIC_NAMESPACE = "ImageProcessing/Purge"


@dataclass(frozen=True)
class ObjectVersion:
    """One S3 object version or delete marker as listed by ListObjectVersions."""

    key: str
    version_id: str
    last_modified: datetime


def overdue_versions(
    versions: Iterable[ObjectVersion], now: datetime, hard_purge_days: int
) -> list[ObjectVersion]:
    """Versions whose last write is older than the hard purge deadline."""
    deadline = now - timedelta(days=hard_purge_days)
    return [v for v in versions if v.last_modified < deadline]


def overdue_expiry_days(today: date, grace_days: int, lookback_days: int) -> list[str]:
    """Expiry days whose items must already be gone (TTL lag included), newest first."""
    last = today - timedelta(days=grace_days)
    return [(last - timedelta(days=n)).isoformat() for n in range(lookback_days)]


def _versions(page: dict[str, Any]) -> Iterator[ObjectVersion]:
    for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
        yield ObjectVersion(entry["Key"], entry["VersionId"], entry["LastModified"])


def handler(event: dict[str, Any], context: object) -> dict[str, int]:
    """EventBridge schedule entry point; returns the counts it also publishes."""
    import boto3  # provided by the Lambda runtime

    now = datetime.now(UTC)
    hard_days = int(os.environ["HARD_PURGE_DAYS"])
    s3 = boto3.client("s3")
    overdue_objects = 0
    for bucket in os.environ["BUCKETS"].split(","):
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for version in overdue_versions(_versions(page), now, hard_days):
                s3.delete_object(Bucket=bucket, Key=version.key, VersionId=version.version_id)
                overdue_objects += 1
    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    overdue_items = 0
    for day in overdue_expiry_days(now.date(), int(os.environ["GRACE_DAYS"]), 7):
        response = table.query(
            IndexName=os.environ["EXPIRY_INDEX"],
            KeyConditionExpression="expiry_day = :d",
            ExpressionAttributeValues={":d": day},
        )
        for item in response.get("Items", []):
            table.delete_item(Key={"image_id": item["image_id"]})
            overdue_items += 1
    boto3.client("cloudwatch").put_metric_data(
        Namespace=METRIC_NAMESPACE,
        MetricData=[
            {"MetricName": "OverdueItems", "Value": overdue_objects + overdue_items},
        ],
    )
    return {"overdue_objects": overdue_objects, "overdue_items": overdue_items}
