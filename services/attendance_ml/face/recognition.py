"""Enrolment and verification against the gallery.

Verification is open-set: a face farther than the threshold from every student is
"unknown", never the nearest student. A 1:1 verification succeeds only when the
claimed student is within the threshold AND is the nearest enrolled student.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import structlog

from attendance_ml.core.errors import (
    FaceAlreadyEnrolled,
    ServiceError,
    UnknownStudent,
)
from attendance_ml.face.faces import (
    Subject,
    embed_subjects,
    enrolment_subject,
    verification_subject,
)
from attendance_ml.face.gallery.base import FaceGallery, StudentRecord
from attendance_ml.face.index import EmbeddingIndex, Match
from attendance_ml.face.models import FaceModels
from attendance_ml.face.settings import FaceSettings

log = structlog.get_logger("attendance_ml.face")

# Photos in one enrolment may differ by this much beyond the verify threshold
# (pose, lighting) and still be taken for one person.
SAME_PERSON_SLACK = 0.1


class InconsistentFaces(ServiceError):
    status, code = 422, "inconsistent_faces"
    message = "The photos do not all show the same person."


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of one verification; distances are Euclidean, lower = closer."""

    verified: bool
    student_id: str | None
    claimed_student_id: str | None
    distance: float | None
    threshold: float
    margin: float | None
    review: bool
    reason: str
    subject: Subject

    @property
    def confidence(self) -> float:
        """1 - distance, clipped to 0-1 (0.4 at the 1:1 threshold 0.6)."""
        if self.distance is None or not np.isfinite(self.distance):
            return 0.0
        return float(np.clip(1.0 - self.distance, 0.0, 1.0))


def _finite(value: float) -> float | None:
    return round(value, 4) if np.isfinite(value) else None


class FaceRecognizer:
    """Registers and verifies students; keeps the index in step with the gallery."""

    def __init__(self, gallery: FaceGallery, settings: FaceSettings) -> None:
        self.gallery = gallery
        self.settings = settings
        self.index = EmbeddingIndex()
        self._write_lock = threading.Lock()

    def load_index(self) -> int:
        stored = self.gallery.load_embeddings()
        self.index.replace_all(stored.student_ids, stored.vectors)
        return len(stored.student_ids)

    def register(
        self,
        models: FaceModels,
        student_id: str,
        images: list[np.ndarray],
        force: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> tuple[StudentRecord, list[Subject]]:
        """Enrol photos of one student: all or nothing."""
        subjects = []
        for position, image in enumerate(images):
            try:
                subjects.append(enrolment_subject(models, image, self.settings))
            except ServiceError as error:
                if len(images) > 1:
                    error.details = {**error.details, "imageIndex": position}
                raise
        vectors = embed_subjects(models, subjects)
        self._check_same_person(student_id, vectors)

        with self._write_lock:
            self.gallery.check_current()
            if not force:
                self._refuse_faces_of_others(student_id, vectors)
            record = self.gallery.add_embeddings(student_id, vectors, metadata)
            self.index.add(student_id, vectors)

        log.info("student_registered", student_id=student_id, added=len(vectors))
        return record, subjects

    def verify(
        self, models: FaceModels, image: np.ndarray, student_id: str | None
    ) -> VerifyResult:
        """1:1 when a student id is given, else open-set 1:N identification."""
        self.gallery.check_current()
        if student_id is not None and not self.index.contains(student_id):
            raise UnknownStudent(studentId=student_id)

        subject = verification_subject(models, image, self.settings)
        vector = embed_subjects(models, [subject])[0]
        match = self.index.search(vector)
        if student_id is None:
            return self._identification(match, subject)
        return self._one_to_one(student_id, vector, match, subject)

    def delete(self, student_id: str) -> int:
        with self._write_lock:
            removed = self.gallery.delete_student(student_id)
            self.index.remove(student_id)
        log.info("student_erased", student_id=student_id, embeddings=removed)
        return removed

    def apply_change(self, change: Callable[[EmbeddingIndex], None]) -> None:
        """Apply a change read from a shared gallery, serialised with own writes."""
        with self._write_lock:
            change(self.index)

    def _identification(self, match: Match, subject: Subject) -> VerifyResult:
        threshold = self.settings.identify_threshold
        found = match.student_id is not None and match.distance <= threshold
        margin = match.margin if found else None
        return VerifyResult(
            verified=found,
            student_id=match.student_id if found else None,
            claimed_student_id=None,
            distance=_finite(match.distance),
            threshold=threshold,
            margin=_finite(margin) if margin is not None else None,
            review=found and match.margin < self.settings.review_margin,
            reason="match" if found else "unknown_face",
            subject=subject,
        )

    def _one_to_one(
        self, student_id: str, vector: np.ndarray, match: Match, subject: Subject
    ) -> VerifyResult:
        threshold = self.settings.verify_threshold
        distance = self.index.distance_to(student_id, vector)
        assert distance is not None
        nearest_is_claimed = match.student_id == student_id
        nearest_other = (
            match.runner_up_distance if nearest_is_claimed else match.distance
        )
        verified = distance <= threshold and nearest_is_claimed
        if verified:
            reason = "match"
        elif distance <= threshold:
            reason = "closer_to_another_student"
        else:
            reason = "different_face"
        margin = nearest_other - distance
        return VerifyResult(
            verified=verified,
            student_id=student_id if verified else None,
            claimed_student_id=student_id,
            distance=_finite(distance),
            threshold=threshold,
            margin=_finite(margin),
            review=(not verified and distance <= threshold)
            or (verified and margin < self.settings.review_margin),
            reason=reason,
            subject=subject,
        )

    def _check_same_person(self, student_id: str, vectors: np.ndarray) -> None:
        """Refuse a batch whose photos, or whose enrolled photos, are not one person."""
        limit = self.settings.verify_threshold + SAME_PERSON_SLACK
        if len(vectors) > 1:
            gaps = np.linalg.norm(vectors[:, None, :] - vectors[None, :, :], axis=2)
            if gaps.max() > limit:
                raise InconsistentFaces(maxDistance=round(float(gaps.max()), 3))
        if self.index.contains(student_id):
            distances = [self.index.distance_to(student_id, v) for v in vectors]
            if max(d for d in distances if d is not None) > limit:
                raise InconsistentFaces(
                    "The new photos do not match the photos already enrolled "
                    "for this student."
                )

    def _refuse_faces_of_others(self, student_id: str, vectors: np.ndarray) -> None:
        for vector in vectors:
            match = self.index.search(vector, exclude=student_id)
            # A photo that would pass 1:1 verification as another student must not
            # become a second identity, or that student's own verification breaks.
            if match.student_id and match.distance <= self.settings.verify_threshold:
                raise FaceAlreadyEnrolled(
                    existingStudentId=match.student_id,
                    distance=round(match.distance, 4),
                )
