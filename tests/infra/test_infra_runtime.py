"""The Lambda handlers' pure parts: request validation and the purge audit's deadlines."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from image_processing.runtime.purge_audit.handler import (
    StoredObject,
    expiry_days_to_sweep,
    overdue_objects,
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


def test_metadata_item_starts_the_purge_clock_at_registration() -> None:
    item = metadata_item("id-1", "sub-9", UploadRequest("image/jpeg", 42), NOW, 7)
    assert item == {
        "image_id": "id-1",
        "owner_sub": "sub-9",
        "source": "api",
        "status": "pending",
        "content_type": "image/jpeg",
        "declared_bytes": 42,
        "received_at": "2026-03-10T12:30:00+00:00",
        "expires_at": int(datetime(2026, 3, 17, 12, 30, tzinfo=UTC).timestamp()),
        "expiry_day": "2026-03-17",
    }


def test_object_keys_carry_no_personal_data() -> None:
    assert object_key("0b6f", NOW) == "uploads/2026-03-10/0b6f"


def test_overdue_objects_are_those_older_than_the_hard_deadline() -> None:
    deadline = NOW - timedelta(days=8)
    objects = [
        StoredObject("a", deadline - timedelta(seconds=1)),
        StoredObject("b", deadline),
        StoredObject("c", NOW),
    ]
    assert overdue_objects(objects, NOW, 8) == [objects[0]]


def test_sweep_covers_today_and_the_whole_window() -> None:
    assert expiry_days_to_sweep(date(2026, 3, 10), 2) == [
        "2026-03-10",
        "2026-03-09",
        "2026-03-08",
    ]


def test_sweep_lists_only_date_prefixes_past_the_deadline() -> None:
    prefixes = sweep_prefixes(["uploads/{date}/", ""], date(2026, 3, 10), 8, 2)
    assert prefixes == ["uploads/2026-03-02/", "uploads/2026-03-01/", "uploads/2026-02-28/", ""]
