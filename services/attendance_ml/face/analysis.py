"""Per-face analysis: box, landmarks, head pose, eye openness and quality."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from attendance_ml.core.face_detection import DetectedFace
from attendance_ml.core.metrics import timed_inference
from attendance_ml.face.faces import detect_faces
from attendance_ml.face.models import FaceModels
from attendance_ml.face.settings import FaceSettings

LANDMARK_NAMES = ("rightEye", "leftEye", "nose", "mouthRight", "mouthLeft")


def analyze_faces(
    models: FaceModels, image: np.ndarray, settings: FaceSettings
) -> list[dict[str, Any]]:
    """Describe every detected face, largest first."""
    return [
        describe_face(models, image, face, settings, position)
        for position, face in enumerate(detect_faces(models, image))
    ]


def describe_face(
    models: FaceModels,
    image: np.ndarray,
    face: DetectedFace,
    settings: FaceSettings,
    position: int,
) -> dict[str, Any]:
    """One face's geometry and quality, in pixels of the upright image."""
    with timed_inference(models.landmarker.info):
        geometry = models.landmarker.analyze(image, face)
    aligned = models.embedder.align(image, face)
    size = min(face.width, face.height)
    brightness = _mean_brightness(image, face)

    issues = []
    if size < settings.min_face_size:
        issues.append("face_too_small")
    if aligned.sharpness < settings.min_sharpness:
        issues.append("face_too_blurry")
    if brightness < 40:
        issues.append("too_dark")
    if geometry is not None and abs(geometry.yaw) > 35:
        issues.append("not_frontal")

    return {
        "faceId": position,
        "box": face.box_ints(),
        "detectorScore": round(face.score, 4),
        "landmarks": {
            name: [round(float(x), 1), round(float(y), 1)]
            for name, (x, y) in zip(LANDMARK_NAMES, face.landmarks, strict=True)
        },
        "headPose": None
        if geometry is None
        else {
            "yaw": round(geometry.yaw, 1),
            "pitch": round(geometry.pitch, 1),
            "roll": round(geometry.roll, 1),
        },
        "eyeOpenness": None
        if geometry is None
        else {
            "left": round(geometry.left_eye_openness, 3),
            "right": round(geometry.right_eye_openness, 3),
        },
        "quality": {
            "sizePx": round(size),
            "sharpness": round(aligned.sharpness, 1),
            "brightness": round(brightness, 1),
            "usableForEnrolment": not issues,
            "issues": issues,
        },
    }


def _mean_brightness(image: np.ndarray, face: DetectedFace) -> float:
    x1, y1, x2, y2 = face.box_ints()
    crop = image[max(y1, 0) : max(y2, y1 + 1), max(x1, 0) : max(x2, x1 + 1)]
    if crop.size == 0:
        return 0.0
    return float(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).mean())
