"""HTTP API of the detection service."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from flask import Blueprint, current_app, jsonify, request, send_file

from attendance_ml.core.imaging import image_from_request, json_body
from attendance_ml.core.metrics import timed_inference
from attendance_ml.core.model_host import ModelHost
from attendance_ml.detection.models import DetectionModels, SlotModel
from attendance_ml.detection.requests import parse_query, slot_defaults
from attendance_ml.detection.review_store import ReviewStore
from attendance_ml.detection.settings import DetectionSettings

log = structlog.get_logger("attendance_ml.detection")
blueprint = Blueprint("detection", __name__, url_prefix="/api/object-detection")


@dataclass
class DetectionService:
    """What the routes need: settings, the model host and the review store."""

    settings: DetectionSettings
    host: ModelHost[DetectionModels]
    review: ReviewStore


def _service() -> DetectionService:
    return current_app.extensions["detection_service"]


@blueprint.post("/phone")
def detect_phone():
    """Phones (or the configured classes) in one frame."""
    service = _service()
    models = service.host.bundle()
    body = _analyse(service, "phone", models.phone, service.settings.phone_labels)
    found = bool(body["detections"])
    body = {
        "success": True,
        "message": "Phone detected." if found else "No phone detected.",
        "phoneDetected": found,
        **body,
    }
    return jsonify(body)


@blueprint.post("/idcard")
def detect_idcard():
    """ID cards, worn on a lanyard or held up, in one frame."""
    service = _service()
    models = service.host.bundle()
    body = _analyse(service, "idcard", models.idcard, ("id card",))
    found = bool(body["detections"])
    body = {
        "success": True,
        "message": "ID card visible." if found else "No ID card visible.",
        "idCardVisible": found,
        **body,
    }
    return jsonify(body)


@blueprint.get("/sessions/<session_id>/review")
def review_session(session_id: str):
    """Counts and kept frames of one session, newest first."""
    return jsonify({"success": True, **_service().review.session(session_id)})


@blueprint.get("/sessions/<session_id>/review/<item_id>/image")
def review_image(session_id: str, item_id: str):
    """The JPEG of one kept frame."""
    path = _service().review.image_path(session_id, item_id)
    return send_file(path, mimetype="image/jpeg", max_age=0)


def _analyse(
    service: DetectionService, kind: str, slot: SlotModel, labels: tuple[str, ...]
) -> dict:
    settings = service.settings
    image = image_from_request(request, settings.core.image_limits)
    default_confidence = (
        settings.phone_min_confidence
        if kind == "phone"
        else settings.idcard_min_confidence
    )
    confidence, default_labels = slot_defaults(slot, default_confidence, labels)
    allowed = settings.allowed_labels if kind == "phone" else slot.backend.labels
    query = parse_query(
        json_body(request),
        slot,
        confidence,
        default_labels,
        allowed,
        settings.min_confidence_floor,
    )

    with timed_inference(slot.backend.info):
        detections = slot.backend.detect(image, query.min_confidence, query.labels)
    model = slot.backend.info.as_dict()
    review_id = None
    if query.session_id:
        review_id = service.review.record(
            query.session_id, kind, image, detections, model, slot.path
        )
    log.info(
        "detection_done",
        kind=kind,
        found=len(detections),
        path=slot.path,
        model=model["name"],
        version=model["version"],
    )
    return {
        "detections": [item.as_dict() for item in detections],
        "model": model,
        "path": slot.path,
        "minConfidence": query.min_confidence,
        "labels": list(query.labels),
        "sessionId": query.session_id,
        "reviewId": review_id,
    }
