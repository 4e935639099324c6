"""Purge deleter and audit: enforces the purge deadline itself instead of trusting lifecycle rules.

S3 lifecycle expiration rounds up to the next midnight UTC and runs asynchronously; DynamoDB TTL
deletes "within a few days". Neither bounds the contract (available 7 days after the upload
time T, gone by T + 7 d + 2 h), so this function, scheduled every 15 minutes, deletes:

* every object whose deadline has passed, reading the deadline from the object itself: for
  image data from the upload time in its key (``runtime/contract.py``), so a derived copy written
  on day 6 still goes at T + 7 d; for operational objects (query results, access logs) from the
  write time plus the rule's ``keep_minutes``;
* every dead letter whose image is past its deadline (the key in the message carries T), so a
  redriven message that failed again cannot outlive its image;
* every metadata item whose ``expires_at`` has passed, found through the ``by-expiry-day`` index,
  following ``LastEvaluatedKey`` until each day is exhausted, for every expiry day from today
  back ``LOOKBACK_DAYS``, so a day stays under watch until it is clean.

Each deletion is counted. ``Purged`` counts normal work; ``OverdueItems`` counts anything found more
than ``OVERDUE_AFTER_MINUTES`` after its deadline, or an image object whose key carries no upload
time (a writer broke the key contract): the ``PurgeOverdue`` alarm pages above zero.
``AuditIncomplete`` is 1 when a run stopped early to finish inside its timeout (alarmed too).

Only the prefixes that can hold expired objects are listed (on the newest day, only the hours
already due): the cost follows the uploads falling due plus stragglers, not the archive.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ..contract import CLOCK_SKEW, ContractError, upload_time_of

METRIC_NAMESPACE = "ImageProcessing/Purge"
#: Days before the newest expired day that are still listed and queried every run.
LOOKBACK_DAYS = 30
#: A run stops starting new listings when less than this much of its timeout is left.
SAFETY_MARGIN_MS = 60_000
#: S3 DeleteObjects takes at most 1,000 keys per call.
DELETE_BATCH = 1000
#: A dead letter the deleter read and kept stays hidden this long, so one run sees each once.
PEEK_SECONDS = 60


@dataclass(frozen=True)
class SweepRule:
    """Where one writer puts objects, and which clock their deadline runs on.

    ``clock="upload"``: the deadline is the upload time in the key + ``keep_minutes``;
    ``clock="written"``: it is the object's LastModified + ``keep_minutes``. ``{date}`` in the
    prefix is the day of that clock; a prefix without it is listed whole.
    """

    bucket: str
    prefix: str
    clock: str
    keep_minutes: int

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> SweepRule:
        if raw.get("clock") not in ("upload", "written"):
            raise ValueError(
                f"sweep rule clock must be upload or written, got {raw.get('clock')!r}"
            )
        return cls(
            str(raw["bucket"]), str(raw["prefix"]), str(raw["clock"]), int(raw["keep_minutes"])
        )


@dataclass(frozen=True)
class StoredObject:
    """One S3 object as listed by ListObjectsV2."""

    key: str
    last_modified: datetime


@dataclass
class Tally:
    """What a run did; published as metrics and returned."""

    purged: int = 0
    overdue: int = 0
    expired_items_deleted: int = 0
    incomplete: int = 0
    pages: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        return {
            "purged_objects": self.purged,
            "expired_items_deleted": self.expired_items_deleted,
            "overdue": self.overdue,
            "incomplete": self.incomplete,
        }


def object_deadline(rule: SweepRule, obj: StoredObject) -> datetime | None:
    """When ``obj`` must be gone, or None when its key breaks the contract.

    A key breaks it when it carries no upload time, when it is not filed under its own upload
    day, or when its upload time is later than the object itself (every copy is written at or
    after T): a key dated in the future, or under another day, would otherwise be kept past
    its real deadline or sit where the deleter never lists.
    """
    if rule.clock == "written":
        return obj.last_modified + timedelta(minutes=rule.keep_minutes)
    try:
        upload_time = upload_time_of(obj.key)
    except ContractError:
        return None
    if "{date}" in rule.prefix and not obj.key.startswith(
        rule.prefix.format(date=upload_time.date().isoformat())
    ):
        return None
    if upload_time > obj.last_modified + CLOCK_SKEW:
        return None
    return upload_time + timedelta(minutes=rule.keep_minutes)


def sweep_prefixes(rule: SweepRule, now: datetime, lookback_days: int) -> list[str]:
    """Key prefixes that can hold objects past their deadline, newest first.

    Day D can hold expired objects once D + keep has started, so the newest day listed is that
    of ``now - keep`` and the oldest ``lookback_days`` before it. On the newest day of an
    upload-clock rule only the hours already due are listed: image ids start with the upload
    time, so ``uploads/<day>/<yyyymmddThh>`` selects one hour of uploads. Older days are listed
    whole, which also catches keys that carry no upload time.
    """
    if "{date}" not in rule.prefix:
        return [rule.prefix]
    cutoff = now - timedelta(minutes=rule.keep_minutes)
    newest = cutoff.date()
    prefixes: list[str] = []
    if rule.clock == "upload" and rule.prefix.endswith("{date}/"):
        day_prefix = rule.prefix.format(date=newest.isoformat())
        stamp = newest.strftime("%Y%m%d")
        prefixes.extend(f"{day_prefix}{stamp}T{h:02d}" for h in range(cutoff.hour, -1, -1))
    else:
        prefixes.append(rule.prefix.format(date=newest.isoformat()))
    prefixes.extend(
        rule.prefix.format(date=(newest - timedelta(days=n)).isoformat())
        for n in range(1, lookback_days + 1)
    )
    return prefixes


def expiry_days_to_sweep(today: date, lookback_days: int) -> list[str]:
    """Expiry days that can hold expired items: today and ``lookback_days`` before, newest first."""
    return [(today - timedelta(days=n)).isoformat() for n in range(lookback_days + 1)]


def classify(deadline: datetime | None, now: datetime, overdue_after: timedelta) -> str:
    """``keep``, ``purge`` (due, within the margin) or ``overdue`` (late, or no deadline at all)."""
    if deadline is None or now >= deadline + overdue_after:
        return "overdue"
    return "purge" if now >= deadline else "keep"


def _objects(page: dict[str, Any]) -> Iterator[StoredObject]:
    for entry in page.get("Contents", []):
        yield StoredObject(entry["Key"], entry["LastModified"])


def _chunks(keys: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


def sweep_bucket(
    s3: Any,
    rule: SweepRule,
    now: datetime,
    overdue_after: timedelta,
    page_size: int,
    tally: Tally,
    time_left: Callable[[], bool],
) -> None:
    """List the rule's prefixes page by page and delete every object past its deadline."""
    paginator = s3.get_paginator("list_objects_v2")
    for prefix in sweep_prefixes(rule, now, LOOKBACK_DAYS):
        if not time_left():
            tally.incomplete = 1
            return
        pages = paginator.paginate(
            Bucket=rule.bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size}
        )
        for page in pages:
            if not time_left():
                tally.incomplete = 1
                return
            tally.pages[rule.bucket] = tally.pages.get(rule.bucket, 0) + 1
            due: list[str] = []
            for obj in _objects(page):
                verdict = classify(object_deadline(rule, obj), now, overdue_after)
                if verdict == "keep":
                    continue
                due.append(obj.key)
                if verdict == "overdue":
                    tally.overdue += 1
                else:
                    tally.purged += 1
            for chunk in _chunks(due, DELETE_BATCH):
                s3.delete_objects(
                    Bucket=rule.bucket,
                    Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True},
                )


def sweep_table(
    table: Any,
    index: str,
    now: datetime,
    overdue_after: timedelta,
    page_size: int,
    tally: Tally,
    time_left: Callable[[], bool],
) -> None:
    """Delete every item past ``expires_at``, one expiry day at a time, following every page."""
    now_epoch = int(now.timestamp())
    with table.batch_writer() as batch:
        for day in expiry_days_to_sweep(now.date(), LOOKBACK_DAYS):
            start: dict[str, Any] | None = None
            while True:
                if not time_left():
                    tally.incomplete = 1
                    return
                arguments: dict[str, Any] = {
                    "IndexName": index,
                    "KeyConditionExpression": "expiry_day = :d AND expires_at <= :now",
                    "ExpressionAttributeValues": {":d": day, ":now": now_epoch},
                    "Limit": page_size,
                }
                if start is not None:
                    arguments["ExclusiveStartKey"] = start
                response = table.query(**arguments)
                tally.pages["table"] = tally.pages.get("table", 0) + 1
                for item in response.get("Items", []):
                    batch.delete_item(Key={"image_id": item["image_id"]})
                    expires = datetime.fromtimestamp(int(item["expires_at"]), tz=UTC)
                    if classify(expires, now, overdue_after) == "overdue":
                        tally.overdue += 1
                    else:
                        tally.expired_items_deleted += 1
                start = response.get("LastEvaluatedKey")
                if start is None:
                    break


@dataclass(frozen=True)
class QueueRule:
    """A dead-letter queue whose messages name an image key: kept until that image's deadline."""

    url: str
    keep_minutes: int

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> QueueRule:
        return cls(str(raw["url"]), int(raw["keep_minutes"]))


def message_key(body: str) -> str | None:
    """The raw-bucket key a queued message points at, or None when it names none.

    Two shapes reach a dead-letter queue: the rule's own ``{"bucket", "key", "size"}`` (a message
    that failed processing) and the whole S3 event (one EventBridge could not deliver).
    """
    try:
        payload = json.loads(body)
    except json.JSONDecodeError:
        return None
    if not isinstance(payload, dict):
        return None
    key = payload.get("key")
    if key is None:
        detail = payload.get("detail")
        obj = detail.get("object") if isinstance(detail, dict) else None
        key = obj.get("key") if isinstance(obj, dict) else None
    return key if isinstance(key, str) else None


def message_deadline(rule: QueueRule, body: str) -> datetime | None:
    """When a dead letter must be gone: its image's deadline (None if it names no image)."""
    key = message_key(body)
    if key is None:
        return None
    try:
        return upload_time_of(key) + timedelta(minutes=rule.keep_minutes)
    except ContractError:
        return None


def sweep_queue(
    sqs: Any,
    rule: QueueRule,
    now: datetime,
    overdue_after: timedelta,
    tally: Tally,
    time_left: Callable[[], bool],
) -> None:
    """Delete every dead letter whose image is past its deadline; leave the rest for redrive.

    A redrive starts a new retention and a message that fails again re-enters the queue, so
    retention alone does not bound how long a dead letter lives: the deadline in its key does.
    Messages kept are hidden for ``PEEK_SECONDS`` only, so a run reads each one once.
    """
    seen: set[str] = set()
    while True:
        if not time_left():
            tally.incomplete = 1
            return
        response = sqs.receive_message(
            QueueUrl=rule.url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=PEEK_SECONDS,
            WaitTimeSeconds=1,
        )
        messages = [m for m in response.get("Messages", []) if m["MessageId"] not in seen]
        if not messages:
            return
        tally.pages["queue"] = tally.pages.get("queue", 0) + 1
        due: list[dict[str, str]] = []
        for message in messages:
            seen.add(message["MessageId"])
            verdict = classify(message_deadline(rule, message["Body"]), now, overdue_after)
            if verdict == "keep":
                continue
            due.append({"Id": str(len(due)), "ReceiptHandle": message["ReceiptHandle"]})
            if verdict == "overdue":
                tally.overdue += 1
            else:
                tally.purged += 1
        if due:
            sqs.delete_message_batch(QueueUrl=rule.url, Entries=due)


def queues_from(text: str) -> list[QueueRule]:
    """The ``DEAD_LETTER_QUEUES`` variable: a JSON list of ``{"url", "keep_minutes"}``."""
    raw = json.loads(text)
    if not isinstance(raw, list):
        raise ValueError("DEAD_LETTER_QUEUES must be a JSON list of queues")
    return [QueueRule.parse(r) for r in raw]


def rules_from(text: str) -> list[SweepRule]:
    """The ``SWEEP_RULES`` variable: a JSON list of rules."""
    raw = json.loads(text)
    if not isinstance(raw, list):
        raise ValueError("SWEEP_RULES must be a JSON list of rules")
    return [SweepRule.parse(r) for r in raw]


def run(
    s3: Any,
    table: Any,
    cloudwatch: Any,
    *,
    rules: Iterable[SweepRule],
    index: str,
    now: datetime,
    overdue_after: timedelta,
    page_size: int,
    time_left: Callable[[], bool],
    sqs: Any = None,
    queues: Iterable[QueueRule] = (),
) -> Tally:
    """One purge run against the given clients; publishes and returns its tally."""
    tally = Tally()
    for rule in rules:
        sweep_bucket(s3, rule, now, overdue_after, page_size, tally, time_left)
    sweep_table(table, index, now, overdue_after, page_size, tally, time_left)
    for queue in queues:
        sweep_queue(sqs, queue, now, overdue_after, tally, time_left)
    cloudwatch.put_metric_data(
        Namespace=METRIC_NAMESPACE,
        MetricData=[
            {"MetricName": "OverdueItems", "Value": tally.overdue},
            {"MetricName": "Purged", "Value": tally.purged},
            {"MetricName": "ExpiredItemsDeleted", "Value": tally.expired_items_deleted},
            {"MetricName": "AuditIncomplete", "Value": tally.incomplete},
        ],
    )
    return tally


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """EventBridge schedule entry point; returns the counts it also publishes."""
    import boto3  # provided by the Lambda runtime

    def time_left() -> bool:
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        return remaining is None or remaining() > SAFETY_MARGIN_MS

    tally = run(
        boto3.client("s3"),
        boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"]),
        boto3.client("cloudwatch"),
        rules=rules_from(os.environ["SWEEP_RULES"]),
        index=os.environ["EXPIRY_INDEX"],
        now=datetime.now(UTC),
        overdue_after=timedelta(minutes=int(os.environ["OVERDUE_AFTER_MINUTES"])),
        page_size=int(os.environ.get("PAGE_SIZE", "1000")),
        time_left=time_left,
        sqs=boto3.client("sqs"),
        queues=queues_from(os.environ.get("DEAD_LETTER_QUEUES", "[]")),
    )
    return tally.as_dict()
