"""Lambda behind ``POST /uploads``: validates the request and returns a presigned S3 POST.

Clients send the image bytes straight to S3 with the returned form, so API Gateway and Lambda
never carry image content (no 10 MB payload limit, no image bytes in logs). The handler also
registers the upload in the metadata table with its ``expires_at`` TTL, so the purge clock
starts at the first moment anything about the image exists: that moment is the upload time T,
written into the image id and so into every key of every copy (see ``runtime/contract.py``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..contract import metadata_item as contract_item
from ..contract import new_image_id, raw_key

ALLOWED_CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp")


class BadRequest(ValueError):
    """A client error, answered with HTTP 400 and this message."""


@dataclass(frozen=True)
class UploadRequest:
    """What the client promises to upload."""

    content_type: str
    size_bytes: int


def parse_request(body: str | None, max_bytes: int) -> UploadRequest:
    """Validate the JSON body ``{"content_type": ..., "size_bytes": ...}``."""
    if not body:
        raise BadRequest("request body must be a JSON object with content_type and size_bytes")
    try:
        payload = json.loads(body)
    except json.JSONDecodeError:
        raise BadRequest("request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise BadRequest("request body must be a JSON object with content_type and size_bytes")
    content_type = payload.get("content_type")
    if content_type not in ALLOWED_CONTENT_TYPES:
        allowed = ", ".join(ALLOWED_CONTENT_TYPES)
        raise BadRequest(f"content_type must be one of {allowed}, got {content_type!r}")
    size = payload.get("size_bytes")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise BadRequest(f"size_bytes must be a positive integer, got {size!r}")
    if size > max_bytes:
        raise BadRequest(f"size_bytes {size} exceeds the limit of {max_bytes} bytes")
    return UploadRequest(content_type=content_type, size_bytes=size)


def metadata_item(
    image_id: str, owner: str, request: UploadRequest, retention_days: int
) -> dict[str, Any]:
    """The first metadata row of an image: pending, with the deadline its id carries."""
    return contract_item(
        image_id,
        "api",
        retention_days,
        {
            "owner_sub": owner,
            "content_type": request.content_type,
            "declared_bytes": request.size_bytes,
        },
    )


def object_key(image_id: str) -> str:
    """Raw-bucket key: the upload day and the id (upload time + random bits, no personal data)."""
    return raw_key("api", image_id)


def _response(status: int, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
        "body": json.dumps(payload),
    }


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """API Gateway proxy integration entry point."""
    import boto3  # provided by the Lambda runtime

    max_bytes = int(os.environ["MAX_IMAGE_BYTES"])
    try:
        request = parse_request(event.get("body"), max_bytes)
    except BadRequest as error:
        return _response(400, {"error": str(error)})
    owner = event["requestContext"]["authorizer"]["claims"]["sub"]
    image_id = new_image_id(datetime.now(UTC))
    key = object_key(image_id)
    item = metadata_item(image_id, owner, request, int(os.environ["RETENTION_DAYS"]))
    boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"]).put_item(Item=item)
    form = boto3.client("s3").generate_presigned_post(
        Bucket=os.environ["RAW_BUCKET"],
        Key=key,
        Fields={"Content-Type": request.content_type},
        Conditions=[
            {"Content-Type": request.content_type},
            ["content-length-range", 1, request.size_bytes],
        ],
        ExpiresIn=int(os.environ["URL_TTL_SECONDS"]),
    )
    return _response(201, {"image_id": image_id, "upload": form, "expires_at": item["expires_at"]})
