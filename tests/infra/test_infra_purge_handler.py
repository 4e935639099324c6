"""The Lambda handlers run against S3, DynamoDB and CloudWatch served by moto on 127.0.0.1.

``handler()`` itself is called, with boto3 pointed at the server through ``AWS_ENDPOINT_URL``:
the deleter must follow every page of S3 listings and of the DynamoDB index, delete copies
counted from the upload time (not from when they were written), cover expiry days older than the
window, report what was late, and stop cleanly when its time runs out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from image_processing.runtime.contract import (
    ContractError,
    derived_key,
    metadata_key,
    new_image_id,
    processed_update,
    raw_key,
)
from image_processing.runtime.purge_audit import handler as purge
from image_processing.runtime.upload_url import handler as upload
from moto.server import ThreadedMotoServer
from plugin_helpers import free_port

REGION = "eu-west-1"
RAW, PROCESSED, RESULTS, LOGS, TABLE = "raw", "processed", "results", "access-logs", "metadata"
WEEK_MINUTES = 7 * 24 * 60
RULES = [
    {"bucket": RAW, "prefix": "uploads/{date}/", "clock": "upload", "keep_minutes": WEEK_MINUTES},
    {"bucket": RAW, "prefix": "kafka/{date}/", "clock": "upload", "keep_minutes": WEEK_MINUTES},
    {
        "bucket": PROCESSED,
        "prefix": "derived/{date}/",
        "clock": "upload",
        "keep_minutes": WEEK_MINUTES,
    },
    {
        "bucket": PROCESSED,
        "prefix": "metadata/dt={date}/",
        "clock": "upload",
        "keep_minutes": WEEK_MINUTES,
    },
    {"bucket": RESULTS, "prefix": "", "clock": "written", "keep_minutes": 30},
]


@pytest.fixture(scope="module")
def aws_server() -> Iterator[str]:
    """moto's HTTP server on a free loopback port, for the whole module."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws(aws_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Fresh buckets and table; boto3 (and so the handlers) talk only to the local server."""
    for name, value in {
        "AWS_ENDPOINT_URL": aws_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "TABLE_NAME": TABLE,
        "EXPIRY_INDEX": "by-expiry-day",
        "OVERDUE_AFTER_MINUTES": "60",
        "SWEEP_RULES": json.dumps(RULES),
        "PAGE_SIZE": "10",
        "RETENTION_DAYS": "7",
        "RAW_BUCKET": RAW,
        "MAX_IMAGE_BYTES": str(25 * 1024 * 1024),
        "URL_TTL_SECONDS": "300",
    }.items():
        monkeypatch.setenv(name, value)
    import urllib.request

    urllib.request.urlopen(
        urllib.request.Request(f"{aws_server}/moto-api/reset", method="POST"), timeout=10
    ).read()
    s3 = boto3.client("s3")
    for bucket in (RAW, PROCESSED, RESULTS, LOGS):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "image_id", "AttributeType": "S"},
            {"AttributeName": "expiry_day", "AttributeType": "S"},
            {"AttributeName": "expires_at", "AttributeType": "N"},
        ],
        KeySchema=[{"AttributeName": "image_id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-expiry-day",
                "KeySchema": [
                    {"AttributeName": "expiry_day", "KeyType": "HASH"},
                    {"AttributeName": "expires_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    yield {"s3": s3, "table": boto3.resource("dynamodb").Table(TABLE)}


def _token(n: int) -> str:
    return f"{n:032x}"


def _keys(s3: Any, bucket: str) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


def _items(table: Any) -> set[str]:
    return {i["image_id"] for i in table.scan()["Items"]}


def _put_item(table: Any, image_id: str, expires: datetime) -> None:
    table.put_item(
        Item={
            "image_id": image_id,
            "expires_at": int(expires.timestamp()),
            "expiry_day": expires.date().isoformat(),
        }
    )


class _Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_deleter_purges_every_page_from_the_upload_time_and_reports_the_late(
    aws: dict[str, Any],
) -> None:
    s3, table = aws["s3"], aws["table"]
    now = datetime.now(UTC).replace(microsecond=0)
    week = timedelta(days=7)
    due = now - week - timedelta(minutes=10)  # window ended 10 min ago: normal work
    late = now - week - timedelta(hours=2)  # ended 2 h ago: overdue, still deleted
    fresh = now - week + timedelta(hours=1)  # an hour of its window left: kept

    def put(bucket: str, key: str) -> str:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        return key

    purged = {put(RAW, raw_key("api", new_image_id(due, _token(n)))) for n in range(23)}
    purged.add(put(RAW, raw_key("kafka", new_image_id(due, _token(100)))))
    # Copies written just now (day 6 or later) of an image uploaded 7 days ago go with it.
    old_image = new_image_id(due, _token(200))
    purged |= {put(PROCESSED, derived_key(old_image, v)) for v in ("thumb", "web")}
    purged.add(put(PROCESSED, metadata_key(old_image)))
    overdue = {put(RAW, raw_key("api", new_image_id(late, _token(300 + n)))) for n in range(2)}
    # A copy whose key carries no upload time breaks the contract: deleted and reported.
    # (Listed once its day is older than the newest due day: the newest day is listed by hour.)
    overdue.add(put(PROCESSED, f"derived/{(due - timedelta(days=1)).date().isoformat()}/no-id/web"))
    kept_image = new_image_id(fresh, _token(400))
    kept = {put(RAW, raw_key("api", kept_image)), put(PROCESSED, derived_key(kept_image, "web"))}
    kept.add(put(RESULTS, "query-1.csv"))  # written now: 30 min to go

    expired_items = [new_image_id(due, _token(500 + n)) for n in range(25)]
    for image_id in expired_items:
        _put_item(table, image_id, now - timedelta(minutes=10))
    # An expiry day three weeks old, which the old audit never looked at again.
    forgotten = [new_image_id(now - timedelta(days=28), _token(600 + n)) for n in range(12)]
    for image_id in forgotten:
        _put_item(table, image_id, now - timedelta(days=21))
    live = [new_image_id(fresh, _token(700 + n)) for n in range(5)]
    for image_id in live:
        _put_item(table, image_id, now + timedelta(hours=1))

    counts = purge.handler({}, _Context(remaining_ms=600_000))

    assert counts == {
        "purged_objects": len(purged),
        "expired_items_deleted": 25,
        "overdue": len(overdue) + 12,
        "incomplete": 0,
    }
    assert (len(purged), len(overdue)) == (27, 3)
    remaining = _keys(s3, RAW) | _keys(s3, PROCESSED) | _keys(s3, RESULTS)
    assert remaining == kept
    assert _items(table) == set(live)

    cloudwatch = boto3.client("cloudwatch")
    published = {}
    for name in ("OverdueItems", "Purged", "ExpiredItemsDeleted", "AuditIncomplete"):
        stats = cloudwatch.get_metric_statistics(
            Namespace="ImageProcessing/Purge",
            MetricName=name,
            StartTime=now - timedelta(minutes=5),
            EndTime=now + timedelta(minutes=5),
            Period=600,
            Statistics=["Sum"],
        )
        published[name] = sum(p["Sum"] for p in stats["Datapoints"])
    assert published == {
        "OverdueItems": 15.0,
        "Purged": 27.0,
        "ExpiredItemsDeleted": 25.0,
        "AuditIncomplete": 0.0,
    }

    # The next run finds every day clean and changes nothing.
    assert purge.handler({}, _Context(remaining_ms=600_000)) == {
        "purged_objects": 0,
        "expired_items_deleted": 0,
        "overdue": 0,
        "incomplete": 0,
    }
    assert _keys(s3, RAW) | _keys(s3, PROCESSED) | _keys(s3, RESULTS) == kept


def test_deleter_out_of_time_stops_and_says_so(aws: dict[str, Any]) -> None:
    s3, table = aws["s3"], aws["table"]
    now = datetime.now(UTC)
    key = raw_key("api", new_image_id(now - timedelta(days=7, minutes=10), _token(1)))
    s3.put_object(Bucket=RAW, Key=key, Body=b"x")
    _put_item(table, new_image_id(now, _token(2)), now - timedelta(minutes=1))

    counts = purge.handler({}, _Context(remaining_ms=purge.SAFETY_MARGIN_MS))

    assert counts == {
        "purged_objects": 0,
        "expired_items_deleted": 0,
        "overdue": 0,
        "incomplete": 1,
    }
    assert _keys(s3, RAW) == {key}
    assert len(_items(table)) == 1


def test_processor_update_cannot_resurrect_a_purged_or_expired_item(aws: dict[str, Any]) -> None:
    table = aws["table"]
    client = boto3.client("dynamodb")
    now = datetime.now(UTC)
    inside = new_image_id(now - timedelta(days=1), _token(1))
    _put_item(table, inside, now + timedelta(days=6))
    table.update_item(**processed_update(inside, now, {"status": "processed"}))
    assert table.get_item(Key={"image_id": inside})["Item"]["status"] == "processed"

    purged_id = new_image_id(now - timedelta(days=8), _token(2))
    with pytest.raises(client.exceptions.ConditionalCheckFailedException):
        table.update_item(**processed_update(purged_id, now, {"status": "processed"}))
    assert "Item" not in table.get_item(Key={"image_id": purged_id})

    expired = new_image_id(now - timedelta(days=7, minutes=1), _token(3))
    _put_item(table, expired, now - timedelta(minutes=1))
    with pytest.raises(client.exceptions.ConditionalCheckFailedException):
        table.update_item(**processed_update(expired, now, {"status": "processed"}))
    assert "status" not in table.get_item(Key={"image_id": expired})["Item"]


def test_processor_update_cannot_hide_an_item_from_the_deleter(aws: dict[str, Any]) -> None:
    """An update that rewrote the deadline would move the item out of the expiry index and TTL."""
    table = aws["table"]
    now = datetime.now(UTC)
    image_id = new_image_id(now - timedelta(days=7, minutes=10), _token(1))
    _put_item(table, image_id, now + timedelta(seconds=30))
    for moved in ({"expires_at": 4102444800}, {"expiry_day": "2100-01-01"}):
        with pytest.raises(ContractError, match="processed_update may not change expir"):
            processed_update(image_id, now, {"status": "processed", **moved})
    table.update_item(**processed_update(image_id, now, {"status": "processed"}))

    later = _Context(remaining_ms=600_000)
    counts = purge.run(
        boto3.client("s3"),
        table,
        boto3.client("cloudwatch"),
        rules=purge.rules_from(json.dumps(RULES)),
        index="by-expiry-day",
        now=now + timedelta(minutes=5),
        overdue_after=timedelta(minutes=60),
        page_size=10,
        time_left=lambda: later.get_remaining_time_in_millis() > purge.SAFETY_MARGIN_MS,
    )
    assert counts.expired_items_deleted == 1
    assert _items(table) == set()


def test_upload_handler_registers_the_deadline_its_key_carries(aws: dict[str, Any]) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    event = {
        "body": json.dumps({"content_type": "image/png", "size_bytes": 1000}),
        "requestContext": {"authorizer": {"claims": {"sub": "sub-1"}}},
    }
    response = upload.handler(event, None)
    assert response["statusCode"] == 201
    body = json.loads(response["body"])
    image_id = body["image_id"]
    uploaded = datetime.strptime(image_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert before <= uploaded <= datetime.now(UTC)
    assert body["upload"]["fields"]["key"] == f"uploads/{uploaded.date().isoformat()}/{image_id}"
    item = aws["table"].get_item(Key={"image_id": image_id})["Item"]
    deadline = uploaded + timedelta(days=7)
    assert (item["expires_at"], item["expiry_day"], item["source"], item["owner_sub"]) == (
        int(deadline.timestamp()),
        deadline.date().isoformat(),
        "api",
        "sub-1",
    )
    assert body["expires_at"] == int(deadline.timestamp())

    bad = upload.handler({**event, "body": "{not json"}, None)
    assert (bad["statusCode"], json.loads(bad["body"])) == (
        400,
        {"error": "request body is not valid JSON"},
    )
    assert len(_items(aws["table"])) == 1


def test_deleter_removes_dead_letters_past_their_image_deadline(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A redrive restarts retention, so only the key's deadline bounds a dead letter's life."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="dead-letters")["QueueUrl"]
    monkeypatch.setenv(
        "DEAD_LETTER_QUEUES", json.dumps([{"url": url, "keep_minutes": WEEK_MINUTES}])
    )
    now = datetime.now(UTC)
    week = timedelta(days=7)

    def send(upload: datetime, n: int, s3_event: bool = False) -> None:
        key = raw_key("api", new_image_id(upload, _token(n)))
        body = (
            {"detail": {"bucket": {"name": RAW}, "object": {"key": key, "size": 5}}}
            if s3_event
            else {"bucket": RAW, "key": key, "size": 5}
        )
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))

    for n in range(23):  # failed processing, redriven, failed again: image now expired
        send(now - week - timedelta(minutes=10), n)
    send(now - week - timedelta(minutes=10), 50, s3_event=True)  # EventBridge could not deliver
    send(now - week - timedelta(hours=2), 60)  # two hours late: overdue
    sqs.send_message(QueueUrl=url, MessageBody="not json")  # names no image: overdue
    for n in range(3):  # images still inside their window: left for the operators' redrive
        send(now - week + timedelta(hours=1), 70 + n)

    counts = purge.handler({}, _Context(remaining_ms=600_000))

    assert counts == {
        "purged_objects": 24,
        "expired_items_deleted": 0,
        "overdue": 2,
        "incomplete": 0,
    }
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert attributes == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "3",
    }
    left = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0
    )
    # Kept ones are only hidden for the peek, then visible again (not yet here).
    assert left.get("Messages", []) == []
