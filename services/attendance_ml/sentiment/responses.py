"""The JSON the front end reads for one analysed face."""

from __future__ import annotations

from typing import Any

from attendance_ml.sentiment.analysis import FaceReading
from attendance_ml.sentiment.emotion import EMOTIONS
from attendance_ml.sentiment.signals import Signals

DECIMALS = 4


def face_result(
    index: int,
    reading: FaceReading,
    signals: Signals,
    track_id: str | None,
    eye_baseline: float | None,
) -> dict[str, Any]:
    """One entry of ``results``: box, emotions, engagement, attention, pose, eyes.

    position: [x1, y1, x2, y2] in pixels of the image as sent. headPose: degrees
    (yaw positive = the subject turned to their left; pitch positive = looking up;
    roll positive = tilted clockwise). eyeOpenness: eye aspect ratios (about 0.28
    open, under 0.15 closed). headPose and eyeOpenness are null when the face mesh
    could not be fitted (for instance a profile).
    """
    geometry = reading.geometry
    primary = reading.primary_emotion
    result: dict[str, Any] = {
        "faceId": index,
        "position": [round(value, 1) for value in reading.face.box],
        "detectionScore": _round(reading.face.score),
        "emotions": {
            "primary_emotion": primary,
            "emotion_scores": {name: _round(reading.scores[name]) for name in EMOTIONS},
            "confidence": _round(reading.scores[primary]),
        },
        "engagement": _round(signals.engagement),
        "attention": _round(signals.attention),
        "headPose": None,
        "eyeOpenness": None,
        "signals": {
            "facing": _round(signals.facing),
            "eyeScore": _maybe(signals.eye_score),
            "expressiveness": _round(signals.expressiveness),
        },
    }
    if geometry is not None:
        result["headPose"] = {
            "yaw": round(geometry.yaw, 1),
            "pitch": round(geometry.pitch, 1),
            "roll": round(geometry.roll, 1),
        }
        result["eyeOpenness"] = {
            "left": _round(geometry.left_eye_openness),
            "right": _round(geometry.right_eye_openness),
            "mean": _round(geometry.eye_openness),
            "baseline": _maybe(eye_baseline),
            "relative": _maybe(signals.relative_eye_openness),
        }
    if track_id is not None:
        result["trackId"] = track_id
    return result


def _round(value: float) -> float:
    return round(float(value), DECIMALS)


def _maybe(value: float | None) -> float | None:
    return None if value is None else _round(value)
