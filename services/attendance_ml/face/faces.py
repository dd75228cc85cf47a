"""Choosing which face in a frame is the subject, and whether it is usable."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attendance_ml.core.errors import (
    FaceTooBlurry,
    FaceTooSmall,
    MultipleFaces,
    NoFace,
)
from attendance_ml.core.face_detection import DetectedFace
from attendance_ml.core.metrics import timed_inference
from attendance_ml.face.embedding import AlignedFace
from attendance_ml.face.models import FaceModels
from attendance_ml.face.settings import FaceSettings


@dataclass(frozen=True)
class Subject:
    """The one face a request is about, aligned, with the faces left aside."""

    face: DetectedFace
    aligned: AlignedFace
    face_count: int
    ignored_faces: int

    def describe(self) -> dict:
        return {
            "box": self.face.box_ints(),
            "detectorScore": round(self.face.score, 4),
            "sharpness": round(self.aligned.sharpness, 1),
        }


def detect_faces(
    models: FaceModels, image: np.ndarray, min_face_size: float | None = None
) -> list[DetectedFace]:
    """Faces largest first; with ``min_face_size``, searched at a cheaper scale."""
    with timed_inference(models.detector.info):
        return models.detector.detect(image, min_face_size)


def usable_faces(faces: list[DetectedFace], min_size: int) -> list[DetectedFace]:
    """Faces whose box's shorter side is at least ``min_size`` pixels, largest first."""
    return [face for face in faces if min(face.width, face.height) >= min_size]


def found_usable_faces(
    models: FaceModels, image: np.ndarray, min_size: int, advice: str
) -> tuple[list[DetectedFace], list[DetectedFace]]:
    """Every detected face and the usable ones; NoFace or FaceTooSmall if none."""
    faces = detect_faces(models, image, min_size)
    if not faces:
        raise NoFace()
    usable = usable_faces(faces, min_size)
    if not usable:
        raise FaceTooSmall(
            f"The face is smaller than {min_size} pixels; {advice}",
            faceSize=round(min(faces[0].width, faces[0].height)),
        )
    return faces, usable


def enrolment_subject(
    models: FaceModels, image: np.ndarray, settings: FaceSettings
) -> Subject:
    """The single usable face of an enrolment photo; anything else is refused.

    Faces too small to be usable (people far in the background) are ignored; two
    usable faces make the photo ambiguous, so it is refused.
    """
    faces, usable = found_usable_faces(
        models, image, settings.min_enrol_face_size, "enrolment needs a closer photo."
    )
    if len(usable) > 1:
        raise MultipleFaces(faceCount=len(usable))
    return _aligned_subject(models, image, usable[0], len(faces), settings, strict=True)


def verification_subject(
    models: FaceModels, image: np.ndarray, settings: FaceSettings
) -> Subject:
    """The dominant face of a verify frame.

    Only the largest face is ever compared, and only when it clearly dominates
    (``dominance_ratio`` times the area of the next usable face), so a second
    person in the frame can never make a verification succeed.
    """
    faces, usable = found_usable_faces(
        models, image, settings.min_face_size, "move closer to the camera."
    )
    if len(usable) > 1 and usable[0].area < settings.dominance_ratio * usable[1].area:
        raise MultipleFaces(
            "Several faces of similar size are in the frame; only one person "
            "may face the camera.",
            faceCount=len(usable),
        )
    return _aligned_subject(
        models, image, usable[0], len(faces), settings, strict=False
    )


def _aligned_subject(
    models: FaceModels,
    image: np.ndarray,
    face: DetectedFace,
    face_count: int,
    settings: FaceSettings,
    strict: bool,
) -> Subject:
    aligned = models.embedder.align(image, face)
    if strict and aligned.sharpness < settings.min_sharpness:
        raise FaceTooBlurry(sharpness=round(aligned.sharpness, 1))
    return Subject(face, aligned, face_count, face_count - 1)


def embed_subjects(models: FaceModels, subjects: list[Subject]) -> np.ndarray:
    """Descriptors of the subjects' aligned chips, (n, 128) float32."""
    with timed_inference(models.embedder.info):
        return models.embedder.embed([subject.aligned.chip for subject in subjects])
