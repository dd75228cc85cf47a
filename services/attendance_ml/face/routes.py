"""HTTP routes of the face service (port 5001)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from attendance_ml.core.errors import InvalidRequest, NotFound, UnknownStudent
from attendance_ml.core.imaging import image_from_request
from attendance_ml.core.metrics import ModelInfo
from attendance_ml.face.analysis import analyze_faces
from attendance_ml.face.faces import verification_subject
from attendance_ml.face.gallery.base import validate_student_id
from attendance_ml.face.liveness_flow import answer_challenge
from attendance_ml.face.passive_liveness import passive_liveness
from attendance_ml.face.requests import (
    body_of,
    flag,
    many_images,
    optional_student_id,
    required_student_id,
)
from attendance_ml.face.service import FaceService

blueprint = Blueprint("face", __name__, url_prefix="/api/face")


def _service() -> FaceService:
    return current_app.extensions["face_service"]


def _models_used(infos: list[ModelInfo]) -> dict[str, dict[str, str]]:
    return {info.slot: {"name": info.name, "version": info.version} for info in infos}


@blueprint.post("/register")
def register():
    service = _service()
    body = body_of(request)
    student_id = required_student_id(body)
    force = flag(body, "force")
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise InvalidRequest("metadata must be a JSON object.")
    images = many_images(
        request, body, service.limits, "images", service.settings.max_images_per_request
    )

    models = service.models()
    record, subjects = service.recognizer.register(
        models, student_id, images, force=force, metadata=metadata
    )
    return jsonify(
        {
            "success": True,
            "message": f"Registered {len(subjects)} photo(s) for {student_id}.",
            "studentId": student_id,
            "embeddingsAdded": len(subjects),
            "totalEmbeddings": record.embedding_count,
            "faces": [subject.describe() for subject in subjects],
            "models": _models_used([models.detector.info, models.embedder.info]),
        }
    ), 201


@blueprint.post("/verify")
def verify():
    service = _service()
    body = body_of(request)
    student_id = optional_student_id(body)
    image = image_from_request(request, service.limits)
    models = service.models()
    result = service.recognizer.verify(models, image, student_id)

    if result.verified:
        message = f"Verified as {result.student_id}."
    elif student_id is None:
        message = "Face not recognised: no enrolled student is close enough."
    else:
        message = f"Face does not match {student_id}."
    body_out: dict[str, Any] = {
        "success": result.verified,
        "message": message,
        "verified": result.verified,
        "studentId": result.student_id,
        "confidence": round(result.confidence, 4),
        "mode": "1:1" if student_id else "1:N",
        "reason": result.reason,
        "distance": result.distance,
        "threshold": result.threshold,
        "margin": result.margin,
        "review": result.review,
        "face": result.subject.describe(),
        "faceCount": result.subject.face_count,
        "ignoredFaces": result.subject.ignored_faces,
        "models": _models_used([models.detector.info, models.embedder.info]),
    }
    if student_id is not None:
        body_out["claimedStudentId"] = student_id
    if not result.verified:
        body_out["code"] = "face_mismatch" if student_id else "face_not_recognised"
    return jsonify(body_out)


@blueprint.post("/analyze")
def analyze():
    service = _service()
    image = image_from_request(request, service.limits)
    models = service.models()
    faces = analyze_faces(models, image, service.settings)
    return jsonify(
        {
            "success": True,
            "message": f"Found {len(faces)} face(s).",
            "faceCount": len(faces),
            "imageSize": {"width": image.shape[1], "height": image.shape[0]},
            "faces": faces,
            "models": _models_used(models.model_infos()),
        }
    )


@blueprint.post("/liveness")
def liveness_passive():
    service = _service()
    image = image_from_request(request, service.limits)
    models = service.models()
    subject = verification_subject(models, image, service.settings)
    result = passive_liveness(image, subject.face)
    return jsonify(
        {
            "success": True,
            "message": f"Passive liveness: {result.decision}.",
            "liveness": result.as_dict(),
            "face": subject.describe(),
        }
    )


@blueprint.post("/liveness/challenge")
def liveness_challenge():
    service = _service()
    body = body_of(request) if request.get_data(cache=True) else {}
    student_id = optional_student_id(body)
    if student_id is not None and not service.recognizer.index.contains(student_id):
        raise UnknownStudent(studentId=student_id)
    challenge = service.challenges.issue(student_id)
    return jsonify(
        {
            "success": True,
            "message": "Perform the actions in order while the camera records.",
            **challenge.as_dict(),
        }
    ), 201


@blueprint.post("/liveness/challenge/<challenge_id>")
def liveness_answer(challenge_id: str):
    service = _service()
    body = body_of(request)
    frames = many_images(request, body, service.limits, "frames", 40)
    challenge = service.challenges.redeem(challenge_id)
    if challenge is None:
        raise NotFound("Unknown, expired or already used challenge.")
    return jsonify(answer_challenge(service, challenge, frames))


@blueprint.get("/students")
def list_students():
    service = _service()
    limit = _int_arg("limit", 100, 1, 1000)
    offset = _int_arg("offset", 0, 0, 10**9)
    gallery = service.recognizer.gallery
    records, total = gallery.list_students(limit, offset)
    return jsonify(
        {
            "success": True,
            "message": f"{total} student(s) enrolled.",
            "total": total,
            "embeddingModel": gallery.model_key,
            "embeddingsOfOtherModels": gallery.count_other_model_embeddings(),
            "limit": limit,
            "offset": offset,
            "students": [record.as_dict() for record in records],
        }
    )


@blueprint.get("/students/<student_id>")
def show_student(student_id: str):
    record = _service().recognizer.gallery.get_student(validate_student_id(student_id))
    if record is None:
        raise UnknownStudent(studentId=student_id)
    return jsonify({"success": True, "message": "Student found.", **record.as_dict()})


@blueprint.delete("/students/<student_id>")
def delete_student(student_id: str):
    student_id = validate_student_id(student_id)
    removed = _service().recognizer.delete(student_id)
    return jsonify(
        {
            "success": True,
            "message": f"Erased {student_id} and {removed} embedding(s).",
            "studentId": student_id,
            "embeddingsRemoved": removed,
        }
    )


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise InvalidRequest(f"{name} must be an integer.") from error
    if not low <= value <= high:
        raise InvalidRequest(f"{name} must be between {low} and {high}.")
    return value
