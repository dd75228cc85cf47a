"""Answering an active liveness challenge from a sequence of frames."""

from __future__ import annotations

from typing import Any

import numpy as np

from attendance_ml.core.errors import ServiceError
from attendance_ml.face.challenge import Challenge, FrameReading, judge
from attendance_ml.face.faces import embed_subjects, verification_subject
from attendance_ml.face.passive_liveness import passive_liveness


def answer_challenge(
    service, challenge: Challenge, frames: list[np.ndarray]
) -> dict[str, Any]:
    """Read every frame, then judge the sequence; the body of the HTTP answer."""
    models = service.models()
    settings = service.settings
    readings: list[FrameReading] = []
    vectors: list[np.ndarray] = []
    spoof_frames = 0

    for frame in frames:
        try:
            subject = verification_subject(models, frame, settings)
        except ServiceError:
            readings.append(FrameReading(has_face=False))
            continue
        vector = embed_subjects(models, [subject])[0]
        geometry = models.landmarker.analyze(frame, subject.face)
        if passive_liveness(frame, subject.face).decision == "spoof":
            spoof_frames += 1
        same = _same_person(vector, vectors, service, challenge, settings)
        vectors.append(vector)
        readings.append(
            FrameReading(
                has_face=True,
                same_person=same,
                yaw=None if geometry is None else geometry.yaw,
                eye_openness=None if geometry is None else geometry.eye_openness,
            )
        )

    verdict = judge(challenge.actions, readings)
    reasons = list(verdict.reasons)
    result = verdict.result
    if result == "pass" and spoof_frames > len(frames) // 2:
        result = "uncertain"
        reasons.append("face_inside_a_frame_in_most_frames")
    return {
        "success": result == "pass",
        "message": f"Liveness challenge: {result}.",
        "result": result,
        "reasons": reasons,
        "challengeId": challenge.nonce,
        "requestedActions": list(challenge.actions),
        "observedActions": verdict.observed,
        "studentId": challenge.student_id,
        "framesReceived": len(frames),
        "framesWithFace": sum(1 for r in readings if r.has_face),
    }


def _same_person(vector, earlier, service, challenge, settings) -> bool:
    threshold = settings.verify_threshold
    if earlier and np.linalg.norm(vector - earlier[0]) > threshold:
        return False
    if challenge.student_id is not None:
        distance = service.recognizer.index.distance_to(challenge.student_id, vector)
        if distance is None or distance > threshold:
            return False
    return True
