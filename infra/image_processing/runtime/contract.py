"""The purge contract in code: every copy of an image carries its upload time and expires from it.

Contract (docs/architecture/image-processing.md, "The 7-day purge"): an image, every copy derived
from it and every metadata record of it are available for ``retention`` (7 days) after the upload
time T, and gone from every store by T + retention + the purge bound (2 h).

T is fixed once, where the image enters the platform, and is written into the image id itself
(``20260310T123000Z-<32 hex>``): the upload API uses the moment it registers the upload, the Kafka
bridge uses the broker's append time of the record. Every key of every copy contains the id under
a prefix of T's day (``uploads/<day>/<id>``, ``kafka/<day>/<id>``, ``derived/<day>/<id>/<variant>``,
``metadata/dt=<day>/<id>.json``), so the purge deleter reads each object's deadline from its key
and no derived copy can be younger than its upload, whenever it was written.

Pure functions only: the two Lambda handlers, the Kafka bridge and the processor share them.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

ID_TIME_FORMAT = "%Y%m%dT%H%M%SZ"
_ID = re.compile(r"(?P<time>\d{8}T\d{6}Z)-[0-9a-f]{32}")
#: Where each writer puts an image's copies ({day} is the upload day, never the write day).
RAW_API_KEY = "uploads/{day}/{image_id}"
RAW_KAFKA_KEY = "kafka/{day}/{image_id}"
DERIVED_KEY = "derived/{day}/{image_id}/{variant}"
METADATA_KEY = "metadata/dt={day}/{image_id}.json"


#: How far the clock that fixed T (Lambda, Kafka broker) may run ahead of another AWS clock.
CLOCK_SKEW = timedelta(minutes=5)
#: Item attributes only the ingest paths set (``metadata_item``): the key and the deadline. An
#: update that rewrote them could move an item out of the deleter's expiry index or past TTL.
DEADLINE_ATTRIBUTES = ("image_id", "source", "received_at", "expires_at", "expiry_day")


class ContractError(ValueError):
    """An id or key that does not carry an upload time, or a write that breaks the contract."""


def new_image_id(upload_time: datetime, token: str | None = None) -> str:
    """An image id that carries its upload time (UTC, whole seconds) and 128 random bits."""
    if upload_time.tzinfo is None:
        raise ContractError("upload time must be timezone-aware")
    random_part = token if token is not None else uuid.uuid4().hex
    return f"{upload_time.astimezone(UTC).strftime(ID_TIME_FORMAT)}-{random_part}"


def upload_time_of(key_or_id: str) -> datetime:
    """The upload time written into an image id, found anywhere in an object key."""
    match = _ID.search(key_or_id)
    if match is None:
        raise ContractError(f"no image id with an upload time in {key_or_id!r}")
    try:
        return datetime.strptime(match["time"], ID_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise ContractError(f"no valid upload time in {key_or_id!r}") from None


def deadline(upload_time: datetime, retention_days: int) -> datetime:
    """When the image and every copy of it stop being available."""
    return upload_time + timedelta(days=retention_days)


def is_expired(key_or_id: str, now: datetime, retention_days: int) -> bool:
    """True once the retention window of the image behind this key has ended."""
    return now >= deadline(upload_time_of(key_or_id), retention_days)


def _day(image_id: str) -> str:
    return upload_time_of(image_id).date().isoformat()


def raw_key(source: str, image_id: str) -> str:
    """Raw-bucket key of an image from ``api`` or ``kafka``."""
    templates = {"api": RAW_API_KEY, "kafka": RAW_KAFKA_KEY}
    if source not in templates:
        raise ContractError(f"source must be api or kafka, got {source!r}")
    return templates[source].format(day=_day(image_id), image_id=image_id)


def derived_key(image_id: str, variant: str) -> str:
    """Processed-bucket key of one rendition, under the upload day whatever the write day."""
    return DERIVED_KEY.format(day=_day(image_id), image_id=image_id, variant=variant)


def metadata_key(image_id: str) -> str:
    """Processed-bucket key of the metadata line; its Athena partition is the upload day."""
    return METADATA_KEY.format(day=_day(image_id), image_id=image_id)


def metadata_item(
    image_id: str, source: str, retention_days: int, attributes: dict[str, Any]
) -> dict[str, Any]:
    """The first DynamoDB item of an image, with the TTL and index attributes of its deadline."""
    if source not in ("api", "kafka"):
        raise ContractError(f"source must be api or kafka, got {source!r}")
    upload_time = upload_time_of(image_id)
    expires = deadline(upload_time, retention_days)
    return {
        "image_id": image_id,
        "source": source,
        "status": "pending",
        **attributes,
        "received_at": upload_time.isoformat(),
        "expires_at": int(expires.timestamp()),
        "expiry_day": expires.date().isoformat(),
    }


def processed_update(image_id: str, now: datetime, attributes: dict[str, Any]) -> dict[str, Any]:
    """``UpdateItem`` arguments that record processing but can never recreate a purged item.

    UpdateItem creates a missing item; the condition makes it fail instead when the item is gone
    (purged) or its deadline has passed, so a late or redriven message cannot resurrect metadata.
    The key and deadline attributes (``DEADLINE_ATTRIBUTES``) are refused: rewriting
    ``expires_at`` or ``expiry_day`` would hide the item from the deleter and from TTL.
    """
    if not attributes:
        raise ContractError("processed_update needs at least one attribute")
    fixed = sorted(set(attributes) & set(DEADLINE_ATTRIBUTES))
    if fixed:
        raise ContractError(
            f"processed_update may not change {', '.join(fixed)}: the deadline is set once, "
            "at ingest"
        )
    names = {f"#a{i}": name for i, name in enumerate(attributes)}
    values: dict[str, Any] = {f":v{i}": value for i, value in enumerate(attributes.values())}
    values[":now"] = int(now.timestamp())
    assignments = ", ".join(f"#a{i} = :v{i}" for i in range(len(attributes)))
    return {
        "Key": {"image_id": image_id},
        "UpdateExpression": f"SET {assignments}",
        "ConditionExpression": "attribute_exists(image_id) AND expires_at > :now",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def should_process(raw_object_key: str, now: datetime, retention_days: int) -> bool:
    """The processor's rule for a queue message: work only on images still inside the window.

    A message for an expired image (late, retried or redriven from the DLQ) is deleted unread:
    processing it would write copies the deleter must remove again. The processor asks again
    before each write, so no copy is written after the deadline. A key dated in the future
    (beyond ``CLOCK_SKEW``) breaks the contract: its copies would be filed under a day the
    deleter does not list yet, so it is not processed either.
    """
    try:
        upload_time = upload_time_of(raw_object_key)
    except ContractError:
        return False
    if upload_time > now + CLOCK_SKEW:
        return False
    return now < deadline(upload_time, retention_days)


def kafka_record_token(topic: str, partition: int, offset: int) -> str:
    """The random part of a Kafka image's id, fixed by the record's position in the topic.

    The bridge commits offsets after S3 and DynamoDB acknowledged, so a record can be delivered
    again (crash, rebalance); deriving the id from (topic, partition, offset) makes the second
    landing overwrite the same object and item instead of creating a second image.
    """
    if partition < 0 or offset < 0:
        raise ContractError(f"partition and offset must be >= 0, got {partition}, {offset}")
    return hashlib.sha256(f"{topic}/{partition}/{offset}".encode()).hexdigest()[:32]


def kafka_landing(
    append_time_ms: int,
    now: datetime,
    retention_days: int,
    *,
    topic: str,
    partition: int,
    offset: int,
) -> tuple[str, str] | None:
    """(image id, raw key) for a Kafka record, or None when its window already ended.

    T is the record's broker append time (``log.message.timestamp.type=LogAppendTime``), which the
    producer cannot set; a record the bridge reads after T + retention is committed and dropped.
    The id is a function of the record (``kafka_record_token``), so redelivery is idempotent.
    """
    upload_time = datetime.fromtimestamp(append_time_ms // 1000, tz=UTC)
    if now >= deadline(upload_time, retention_days):
        return None
    image_id = new_image_id(upload_time, kafka_record_token(topic, partition, offset))
    return image_id, raw_key("kafka", image_id)
