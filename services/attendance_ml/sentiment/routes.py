"""HTTP routes of the sentiment service (port 5003)."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from attendance_ml.core.errors import InvalidRequest, NoFace, NotFound
from attendance_ml.core.imaging import image_from_request, json_body
from attendance_ml.sentiment.history import Sample
from attendance_ml.sentiment.responses import face_result
from attendance_ml.sentiment.service import SentimentService
from attendance_ml.sentiment.signals import face_signals

blueprint = Blueprint("sentiment", __name__, url_prefix="/api/sentiment")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")


def _service() -> SentimentService:
    return current_app.extensions["sentiment_service"]


def optional_id(body: dict[str, Any], field: str) -> str | None:
    """A session or student id: 1-128 letters, digits and ``._:@-``; or None."""
    value = body.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _ID.match(value):
        raise InvalidRequest(
            f"{field} must be 1-128 characters: letters, digits and . _ : @ -"
        )
    return value


@blueprint.post("/analyze")
def analyze():
    service = _service()
    body = json_body(request)
    session_id = optional_id(body, "sessionId")
    student_id = optional_id(body, "studentId")
    image = image_from_request(request, service.limits)

    models = service.models()
    readings = models.analyze(image)
    if not readings:
        raise NoFace("No face was found in the image.")

    tracks: list[tuple[str | None, float | None]] = [(None, None)] * len(readings)
    if session_id is not None:
        tracks = service.history.assign_tracks(
            session_id,
            student_id,
            [reading.face.box for reading in readings],
            service.settings.baseline_samples,
        )

    results = []
    for index, (reading, (track_id, baseline)) in enumerate(
        zip(readings, tracks, strict=True)
    ):
        signals = face_signals(reading.face, reading.geometry, reading.scores, baseline)
        results.append(face_result(index, reading, signals, track_id, baseline))
        if session_id is not None and track_id is not None:
            service.history.record(session_id, track_id, _sample(reading, signals))

    body_out: dict[str, Any] = {
        "success": True,
        "message": f"Analyzed {len(results)} face(s).",
        "faceCount": len(results),
        "results": results,
        "models": [info.as_dict() for info in models.model_infos()],
    }
    if session_id is not None:
        body_out["sessionId"] = session_id
    if student_id is not None:
        body_out["studentId"] = student_id
    return jsonify(body_out)


def _sample(reading, signals) -> Sample:
    geometry = reading.geometry
    return Sample(
        at=_service().history.clock(),
        box=reading.face.box,
        emotion=reading.primary_emotion,
        engagement=round(signals.engagement, 4),
        attention=round(signals.attention, 4),
        eye_openness=None if geometry is None else geometry.eye_openness,
        yaw=None if geometry is None else geometry.yaw,
        happy=reading.scores["happy"],
    )


@blueprint.get("/sessions/<session_id>/summary")
def session_summary(session_id: str):
    service = _service()
    if not _ID.match(session_id):
        raise InvalidRequest("sessionId must be 1-128 letters, digits and . _ : @ -")
    summary = service.history.summary(session_id)
    if summary is None:
        raise NotFound(f"No history for session {session_id!r}.")
    return jsonify(
        {"success": True, "message": "Session summary.", "sessionId": session_id}
        | summary
    )


@blueprint.delete("/sessions/<session_id>")
def forget_session(session_id: str):
    if not _service().history.forget(session_id):
        raise NotFound(f"No history for session {session_id!r}.")
    return jsonify(
        {"success": True, "message": "Session forgotten.", "sessionId": session_id}
    )
