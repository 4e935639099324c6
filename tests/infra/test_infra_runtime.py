"""The Lambda handlers' pure parts: request validation, the purge contract and the deleter's rules."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from image_processing.runtime.contract import (
    ContractError,
    derived_key,
    kafka_landing,
    kafka_record_token,
    metadata_key,
    new_image_id,
    processed_update,
    raw_key,
    should_process,
    upload_time_of,
)
from image_processing.runtime.purge_audit.handler import (
    StoredObject,
    SweepRule,
    classify,
    expiry_days_to_sweep,
    object_deadline,
    rules_from,
    sweep_prefixes,
)
from image_processing.runtime.upload_url.handler import (
    BadRequest,
    UploadRequest,
    metadata_item,
    object_key,
    parse_request,
)

MAX = 25 * 1024 * 1024
NOW = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)


def test_valid_request_is_parsed() -> None:
    body = json.dumps({"content_type": "image/png", "size_bytes": 2_000_000})
    assert parse_request(body, MAX) == UploadRequest("image/png", 2_000_000)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "request body must be a JSON object with content_type and size_bytes"),
        ("", "request body must be a JSON object with content_type and size_bytes"),
        ("{not json", "request body is not valid JSON"),
        ("[1, 2]", "request body must be a JSON object with content_type and size_bytes"),
        (
            '{"content_type": "image/gif", "size_bytes": 10}',
            "content_type must be one of image/jpeg, image/png, image/webp, got 'image/gif'",
        ),
        (
            '{"content_type": "image/jpeg"}',
            "size_bytes must be a positive integer, got None",
        ),
        (
            '{"content_type": "image/jpeg", "size_bytes": 0}',
            "size_bytes must be a positive integer, got 0",
        ),
        (
            '{"content_type": "image/jpeg", "size_bytes": true}',
            "size_bytes must be a positive integer, got True",
        ),
        (
            '{"content_type": "image/jpeg", "size_bytes": "12"}',
            "size_bytes must be a positive integer, got '12'",
        ),
        (
            '{"content_type": "image/jpeg", "size_bytes": 26214401}',
            "size_bytes 26214401 exceeds the limit of 26214400 bytes",
        ),
    ],
)
def test_bad_requests_get_exact_messages(body: str | None, message: str) -> None:
    with pytest.raises(BadRequest) as error:
        parse_request(body, MAX)
    assert str(error.value) == message


TOKEN = "0b6f" * 8
IMAGE_ID = f"20260310T123000Z-{TOKEN}"
WEEK = 7 * 24 * 60


def test_metadata_item_starts_the_purge_clock_at_registration() -> None:
    """The upload time is in the id; expires_at and the index day are 7 days after it."""
    item = metadata_item(IMAGE_ID, "sub-9", UploadRequest("image/jpeg", 42), 7)
    assert item == {
        "image_id": IMAGE_ID,
        "owner_sub": "sub-9",
        "source": "api",
        "status": "pending",
        "content_type": "image/jpeg",
        "declared_bytes": 42,
        "received_at": "2026-03-10T12:30:00+00:00",
        "expires_at": int(datetime(2026, 3, 17, 12, 30, tzinfo=UTC).timestamp()),
        "expiry_day": "2026-03-17",
    }


def test_image_ids_carry_the_upload_time_and_128_random_bits() -> None:
    assert new_image_id(NOW, TOKEN) == IMAGE_ID
    assert new_image_id(NOW.astimezone(timezone(timedelta(hours=2))), TOKEN) == IMAGE_ID
    fresh = new_image_id(NOW)
    assert fresh.startswith("20260310T123000Z-") and len(fresh) == 17 + 32
    assert upload_time_of(fresh) == NOW
    with pytest.raises(ContractError) as error:
        new_image_id(datetime(2026, 3, 10, 12, 30))
    assert str(error.value) == "upload time must be timezone-aware"


def test_every_copy_is_keyed_under_its_upload_day_whatever_the_write_day() -> None:
    assert object_key(IMAGE_ID) == f"uploads/2026-03-10/{IMAGE_ID}"
    assert raw_key("kafka", IMAGE_ID) == f"kafka/2026-03-10/{IMAGE_ID}"
    assert derived_key(IMAGE_ID, "thumb") == f"derived/2026-03-10/{IMAGE_ID}/thumb"
    assert metadata_key(IMAGE_ID) == f"metadata/dt=2026-03-10/{IMAGE_ID}.json"
    for key in (object_key(IMAGE_ID), derived_key(IMAGE_ID, "web"), metadata_key(IMAGE_ID)):
        assert upload_time_of(key) == NOW


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("uploads/2026-03-10/0b6f", "no image id with an upload time in 'uploads/2026-03-10/0b6f'"),
        (f"x/20261310T123000Z-{TOKEN}", f"no valid upload time in 'x/20261310T123000Z-{TOKEN}'"),
        ("", "no image id with an upload time in ''"),
    ],
)
def test_keys_without_an_upload_time_are_refused(text: str, message: str) -> None:
    with pytest.raises(ContractError) as error:
        upload_time_of(text)
    assert str(error.value) == message


def test_raw_key_refuses_unknown_sources() -> None:
    with pytest.raises(ContractError) as error:
        raw_key("ftp", IMAGE_ID)
    assert str(error.value) == "source must be api or kafka, got 'ftp'"


def test_processor_drops_messages_of_images_past_their_window() -> None:
    key = object_key(IMAGE_ID)
    deadline = NOW + timedelta(days=7)
    assert should_process(key, deadline - timedelta(seconds=1), 7) is True
    assert should_process(key, deadline, 7) is False
    assert should_process("uploads/2026-03-10/not-an-id", NOW, 7) is False
    # A key dated ahead of the clock would file copies under a day the deleter does not list.
    ahead = object_key(new_image_id(NOW + timedelta(minutes=6), TOKEN))
    assert should_process(ahead, NOW, 7) is False
    assert should_process(object_key(new_image_id(NOW + timedelta(minutes=4), TOKEN)), NOW, 7)


def test_processor_updates_are_conditional_on_a_live_item() -> None:
    assert processed_update(IMAGE_ID, NOW, {"status": "processed", "width": 640}) == {
        "Key": {"image_id": IMAGE_ID},
        "UpdateExpression": "SET #a0 = :v0, #a1 = :v1",
        "ConditionExpression": "attribute_exists(image_id) AND expires_at > :now",
        "ExpressionAttributeNames": {"#a0": "status", "#a1": "width"},
        "ExpressionAttributeValues": {":v0": "processed", ":v1": 640, ":now": int(NOW.timestamp())},
    }
    with pytest.raises(ContractError):
        processed_update(IMAGE_ID, NOW, {})


def test_kafka_images_get_the_broker_append_time_as_upload_time() -> None:
    append_ms = int(NOW.timestamp() * 1000) + 999
    record = {"topic": "images.raw", "partition": 3, "offset": 41}
    token = kafka_record_token("images.raw", 3, 41)
    image_id = new_image_id(NOW, token)
    landed = kafka_landing(append_ms, NOW + timedelta(hours=20), 7, **record)
    assert landed == (image_id, f"kafka/2026-03-10/{image_id}")
    assert kafka_landing(append_ms, NOW + timedelta(days=7), 7, **record) is None


def test_a_redelivered_kafka_record_lands_on_the_same_key() -> None:
    """At-least-once delivery: the same record twice is one image, not two."""
    append_ms = int(NOW.timestamp() * 1000)
    record = {"topic": "images.raw", "partition": 0, "offset": 7}
    first = kafka_landing(append_ms, NOW + timedelta(minutes=1), 7, **record)
    again = kafka_landing(append_ms, NOW + timedelta(hours=3), 7, **record)
    assert first is not None and first == again
    assert upload_time_of(first[0]) == NOW
    assert re.fullmatch(r"[0-9a-f]{32}", first[0].split("-", 1)[1])
    other = kafka_landing(append_ms, NOW + timedelta(minutes=1), 7, **{**record, "offset": 8})
    assert other is not None and other[0] != first[0]
    with pytest.raises(ContractError, match="partition and offset must be >= 0, got 0, -1"):
        kafka_record_token("images.raw", 0, -1)


@pytest.mark.parametrize("name", ["expires_at", "expiry_day", "image_id", "received_at", "source"])
def test_processor_updates_cannot_move_the_deadline(name: str) -> None:
    with pytest.raises(ContractError, match=f"processed_update may not change {name}: "):
        processed_update(IMAGE_ID, NOW, {"status": "processed", name: "2100-01-01"})


def test_upload_clock_deadline_ignores_when_a_copy_was_written() -> None:
    rule = SweepRule("processed", "derived/{date}/", "upload", WEEK)
    late_copy = StoredObject(derived_key(IMAGE_ID, "web"), NOW + timedelta(days=6, hours=23))
    assert object_deadline(rule, late_copy) == NOW + timedelta(days=7)
    assert object_deadline(rule, StoredObject("derived/2026-03-10/x/web", NOW)) is None
    written = SweepRule("results", "", "written", 30)
    assert object_deadline(written, StoredObject("q.csv", NOW)) == NOW + timedelta(minutes=30)


def test_a_key_that_lies_about_its_upload_time_breaks_the_contract() -> None:
    """A future-dated id, or an id filed under another day, is deleted and reported, not kept."""
    rule = SweepRule("processed", "derived/{date}/", "upload", WEEK)
    future = new_image_id(datetime(2099, 12, 31, tzinfo=UTC), TOKEN)
    # Under an old day that the deleter lists: kept until 2100 by the id alone.
    dated_ahead = StoredObject(f"derived/2026-03-10/{future}/web", NOW)
    assert object_deadline(rule, dated_ahead) is None
    assert classify(object_deadline(rule, dated_ahead), NOW, timedelta(hours=1)) == "overdue"
    # Under its own day, written before its claimed upload time.
    own_day = StoredObject(f"derived/2099-12-31/{future}/web", NOW)
    assert object_deadline(rule, own_day) is None
    # Filed under the write day instead of the upload day.
    wrong_day = StoredObject(f"derived/2026-03-16/{IMAGE_ID}/web", NOW + timedelta(days=6))
    assert object_deadline(rule, wrong_day) is None
    # The clock that fixed T may run a little ahead of S3's.
    skewed = StoredObject(derived_key(IMAGE_ID, "web"), NOW - timedelta(minutes=4))
    assert object_deadline(rule, skewed) == NOW + timedelta(days=7)


def test_classify_purges_at_the_deadline_and_flags_an_hour_late_as_overdue() -> None:
    hour = timedelta(hours=1)
    assert classify(NOW, NOW - timedelta(seconds=1), hour) == "keep"
    assert classify(NOW, NOW, hour) == "purge"
    assert classify(NOW, NOW + hour - timedelta(seconds=1), hour) == "purge"
    assert classify(NOW, NOW + hour, hour) == "overdue"
    assert classify(None, NOW, hour) == "overdue"


def test_table_sweep_covers_today_and_every_day_of_the_lookback() -> None:
    assert expiry_days_to_sweep(date(2026, 3, 10), 2) == [
        "2026-03-10",
        "2026-03-09",
        "2026-03-08",
    ]


def test_sweep_lists_only_the_hours_due_on_the_newest_day_and_older_days_whole() -> None:
    uploads = SweepRule("raw", "uploads/{date}/", "upload", WEEK)
    assert sweep_prefixes(uploads, NOW, 2) == [
        "uploads/2026-03-03/20260303T12",
        "uploads/2026-03-03/20260303T11",
        "uploads/2026-03-03/20260303T10",
        "uploads/2026-03-03/20260303T09",
        "uploads/2026-03-03/20260303T08",
        "uploads/2026-03-03/20260303T07",
        "uploads/2026-03-03/20260303T06",
        "uploads/2026-03-03/20260303T05",
        "uploads/2026-03-03/20260303T04",
        "uploads/2026-03-03/20260303T03",
        "uploads/2026-03-03/20260303T02",
        "uploads/2026-03-03/20260303T01",
        "uploads/2026-03-03/20260303T00",
        "uploads/2026-03-02/",
        "uploads/2026-03-01/",
    ]
    # Every id uploaded by the cutoff falls under one of those prefixes.
    due = new_image_id(NOW - timedelta(days=7), TOKEN)
    assert any(object_key(due).startswith(p) for p in sweep_prefixes(uploads, NOW, 2))
    logs = SweepRule("logs", "raw/{date}-", "written", WEEK)
    assert sweep_prefixes(logs, NOW, 1) == ["raw/2026-03-03-", "raw/2026-03-02-"]
    assert sweep_prefixes(SweepRule("results", "", "written", 30), NOW, 2) == [""]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{}", "SWEEP_RULES must be a JSON list of rules"),
        (
            '[{"bucket": "b", "prefix": "", "clock": "mtime", "keep_minutes": 1}]',
            "sweep rule clock must be upload or written, got 'mtime'",
        ),
    ],
)
def test_malformed_sweep_rules_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError) as error:
        rules_from(text)
    assert str(error.value) == message
