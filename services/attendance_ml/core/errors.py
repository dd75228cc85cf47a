"""Error types a caller can act on, and the one handler that turns them into JSON.

Every failure answers with the same body::

    {"success": false, "message": "...", "code": "stable_code", "requestId": "..."}

``success`` and ``message`` are what the existing front end reads; ``code`` is stable
and safe to branch on.
"""

from __future__ import annotations

from typing import Any

import structlog
from flask import Flask, g, jsonify
from werkzeug.exceptions import HTTPException

log = structlog.get_logger("attendance_ml.errors")


class ServiceError(Exception):
    """Base of every error a caller can act on."""

    status = 400
    code = "bad_request"
    message = "The request could not be processed."

    def __init__(self, message: str | None = None, **details: Any) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "success": False,
            "message": self.message,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


class InvalidRequest(ServiceError):
    status, code = 400, "invalid_request"
    message = "The request body is not valid."


class MissingImage(ServiceError):
    status, code = 400, "missing_image"
    message = "No image was sent: give 'image' as base64 or upload a file."


class InvalidBase64(ServiceError):
    status, code = 400, "invalid_base64"
    message = "The image field is not valid base64."


class UnsupportedFormat(ServiceError):
    status, code = 415, "unsupported_format"
    message = "The image format is not supported: send JPEG, PNG, WebP or BMP."


class CorruptImage(ServiceError):
    status, code = 422, "corrupt_image"
    message = "The image could not be decoded: the file is damaged or truncated."


class ImageTooLarge(ServiceError):
    status, code = 413, "image_too_large"
    message = "The image is too large."


class NoFace(ServiceError):
    status, code = 422, "no_face"
    message = "No face was found in the image."


class MultipleFaces(ServiceError):
    status, code = 422, "multiple_faces"
    message = "More than one face was found; send a photo of one person."


class FaceTooSmall(ServiceError):
    status, code = 422, "face_too_small"
    message = "The face is too small; move closer to the camera."


class FaceTooBlurry(ServiceError):
    status, code = 422, "face_too_blurry"
    message = "The face is too blurry; hold the camera still."


class UnknownStudent(ServiceError):
    status, code = 404, "unknown_student"
    message = "No student is enrolled under this id."


class NotFound(ServiceError):
    status, code = 404, "not_found"
    message = "Nothing is stored under this id."


class Conflict(ServiceError):
    status, code = 409, "conflict"
    message = "The request conflicts with what is stored."


class FaceAlreadyEnrolled(Conflict):
    code = "face_already_enrolled"
    message = "This face is already enrolled under another student."


class NotReady(ServiceError):
    status, code = 503, "not_ready"
    message = "The service is still loading its models."


class StorageUnavailable(ServiceError):
    status, code = 503, "storage_unavailable"
    message = "The gallery storage is unavailable; try again shortly."


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "image_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def _with_request_id(body: dict[str, Any]) -> dict[str, Any]:
    request_id = getattr(g, "request_id", None)
    if request_id:
        body["requestId"] = request_id
    return body


def register_error_handlers(app: Flask) -> None:
    """Answer every failure, expected or not, with the one JSON error shape."""

    @app.errorhandler(ServiceError)
    def handle_service_error(error: ServiceError):
        log.info("request_rejected", code=error.code, status=error.status)
        return jsonify(_with_request_id(error.to_body())), error.status

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        status = error.code or 500
        body = {
            "success": False,
            "message": error.description or error.name,
            "code": _HTTP_CODES.get(status, "http_error"),
        }
        log.info("request_rejected", code=body["code"], status=status)
        return jsonify(_with_request_id(body)), status

    @app.errorhandler(Exception)
    def handle_unexpected_error(error: Exception):
        log.exception("unexpected_error", error_type=type(error).__name__)
        body = {
            "success": False,
            "message": "An internal error occurred.",
            "code": "internal_error",
        }
        return jsonify(_with_request_id(body)), 500
