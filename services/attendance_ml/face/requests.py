"""Reading the face service's request fields: ids, flags and one or many images."""

from __future__ import annotations

from typing import Any

import numpy as np
from flask import Request

from attendance_ml.core.errors import InvalidRequest, MissingImage
from attendance_ml.core.imaging import (
    ImageLimits,
    decode_base64_field,
    decode_image,
    json_body,
    read_upload,
)
from attendance_ml.face.gallery.base import validate_student_id


def optional_student_id(body: dict[str, Any]) -> str | None:
    value = body.get("studentId")
    if value is None or value == "":
        return None
    return validate_student_id(value)


def required_student_id(body: dict[str, Any]) -> str:
    if body.get("studentId") in (None, ""):
        raise InvalidRequest("studentId is required.")
    return validate_student_id(body["studentId"])


def flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in (
        "true",
        "1",
        "yes",
        "false",
        "0",
        "no",
    ):
        return value.lower() in ("true", "1", "yes")
    raise InvalidRequest(f"{name} must be true or false.")


def many_images(
    request: Request, body: dict[str, Any], limits: ImageLimits, field: str, most: int
) -> list[np.ndarray]:
    """Images from JSON ``image``/``<field>`` (list) or multipart files, in order."""
    if request.files:
        uploads = request.files.getlist(field) + request.files.getlist("image")
        raw = [read_upload(upload, limits) for upload in uploads[: most + 1]]
    else:
        fields: list[Any] = []
        if field in body:
            if not isinstance(body[field], list) or not body[field]:
                raise InvalidRequest(f"{field} must be a non-empty list of images.")
            fields.extend(body[field])
        if "image" in body:
            fields.append(body["image"])
        raw = [decode_base64_field(item, limits) for item in fields[: most + 1]]

    if not raw:
        raise MissingImage()
    if len(raw) > most:
        raise InvalidRequest(f"At most {most} images may be sent in one request.")
    return [decode_image(data, limits) for data in raw]


def body_of(request: Request) -> dict[str, Any]:
    return json_body(request)
