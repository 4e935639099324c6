"""Hourly purge audit: proves, and if needed enforces, that nothing outlives the purge deadline.

S3 lifecycle rules and DynamoDB TTL do the deleting, but both are asynchronous without a
documented bound. Every hour this function (1) deletes any object older than the hard deadline
(retention + grace) in every data bucket and (2) deletes every metadata item whose
``expires_at`` has passed, found through the ``expiry_day`` index. Each deletion is counted:
objects past the hard deadline are published as ``OverdueItems`` (alarm above zero = a
compliance incident), expired items TTL had not reached yet as ``ExpiredItemsDeleted``.

Every key starts with its write date (``uploads/2026-03-10/<uuid>``), so the audit lists only the
date prefixes that must already be empty: its cost grows with the stragglers, not the archive.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

METRIC_NAMESPACE = "ImageProcessing/Purge"
#: How many days before the hard deadline the audit still looks at (catches missed stragglers).
LOOKBACK_DAYS = 30


@dataclass(frozen=True)
class StoredObject:
    """One S3 object as listed by ListObjectsV2."""

    key: str
    last_modified: datetime


def overdue_objects(
    objects: Iterable[StoredObject], now: datetime, hard_purge_days: int
) -> list[StoredObject]:
    """Objects written before the hard purge deadline (they should already be gone)."""
    deadline = now - timedelta(days=hard_purge_days)
    return [o for o in objects if o.last_modified < deadline]


def sweep_prefixes(
    templates: Iterable[str], today: date, hard_purge_days: int, lookback_days: int
) -> list[str]:
    """Key prefixes whose objects are all past, or on the edge of, the hard deadline.

    ``templates`` contain ``{date}`` (ISO day); a template without it is listed whole.
    """
    newest = today - timedelta(days=hard_purge_days)
    days = [(newest - timedelta(days=n)).isoformat() for n in range(lookback_days + 1)]
    prefixes: list[str] = []
    for template in templates:
        if "{date}" in template:
            prefixes.extend(template.format(date=day) for day in days)
        else:
            prefixes.append(template)
    return prefixes


def expiry_days_to_sweep(today: date, retention_days: int) -> list[str]:
    """Expiry days that can hold expired items: today and the window before it, newest first."""
    return [(today - timedelta(days=n)).isoformat() for n in range(retention_days + 1)]


def _objects(page: dict[str, Any]) -> Iterator[StoredObject]:
    for entry in page.get("Contents", []):
        yield StoredObject(entry["Key"], entry["LastModified"])


def handler(event: dict[str, Any], context: object) -> dict[str, int]:
    """EventBridge schedule entry point; returns the counts it also publishes."""
    import boto3  # provided by the Lambda runtime

    now = datetime.now(UTC)
    hard_days = int(os.environ["HARD_PURGE_DAYS"])
    s3 = boto3.client("s3")
    paginator = s3.get_paginator("list_objects_v2")
    overdue = 0
    layout: dict[str, list[str]] = json.loads(os.environ["SWEEP_LAYOUT"])
    for bucket, templates in layout.items():
        for prefix in sweep_prefixes(templates, now.date(), hard_days, LOOKBACK_DAYS):
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                for stale in overdue_objects(_objects(page), now, hard_days):
                    s3.delete_object(Bucket=bucket, Key=stale.key)
                    overdue += 1
    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    expired = 0
    for day in expiry_days_to_sweep(now.date(), int(os.environ["RETENTION_DAYS"])):
        response = table.query(
            IndexName=os.environ["EXPIRY_INDEX"],
            KeyConditionExpression="expiry_day = :d AND expires_at < :now",
            ExpressionAttributeValues={":d": day, ":now": int(now.timestamp())},
        )
        for item in response.get("Items", []):
            table.delete_item(Key={"image_id": item["image_id"]})
            expired += 1
    boto3.client("cloudwatch").put_metric_data(
        Namespace=METRIC_NAMESPACE,
        MetricData=[
            {"MetricName": "OverdueItems", "Value": overdue},
            {"MetricName": "ExpiredItemsDeleted", "Value": expired},
        ],
    )
    return {"overdue_objects": overdue, "expired_items_deleted": expired}
