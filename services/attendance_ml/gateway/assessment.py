"""Turns the answers of the analyze/all parts into one assessment.

Conventions: a part either answered (2xx, or a definitive 4xx such as ``no_face``)
or failed (service down, timeout, invalid or 5xx answer). A failed part leaves its
assessment field null and is listed in ``degraded``. ``engagement`` and
``attention`` (0-1) are those of the largest face the sentiment service found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from attendance_ml.core.errors import ServiceError

# 4xx codes that are real answers about the image, not failures of the service.
DEFINITIVE_CODES = frozenset(
    {
        "no_face",
        "multiple_faces",
        "face_too_small",
        "face_too_blurry",
        "unknown_student",
        "not_found",
    }
)
PART_NAMES = ("face", "liveness", "idcard", "phone", "sentiment")


@dataclass(frozen=True)
class PartResult:
    """What one part returned: its HTTP status and body, or the gateway's error."""

    name: str
    failed: bool
    status: int
    body: dict[str, Any]
    ms: float | None

    @classmethod
    def from_answer(
        cls, name: str, status: int, body: Any, ms: float | None
    ) -> PartResult:
        if not isinstance(body, dict):
            body = {"success": False, "code": "bad_gateway", "message": "not JSON"}
            return cls(name, True, 502, body, ms)
        answered = 200 <= status < 300 or (
            400 <= status < 500 and body.get("code") in DEFINITIVE_CODES
        )
        return cls(name, not answered, status, body, ms)

    @classmethod
    def from_error(cls, name: str, error: ServiceError, ms: float | None) -> PartResult:
        return cls(name, True, error.status, error.to_body(), ms)

    @property
    def ok(self) -> bool:
        """Answered with 2xx."""
        return not self.failed and 200 <= self.status < 300

    def detail(self) -> dict[str, Any]:
        body = {key: value for key, value in self.body.items() if key != "requestId"}
        return {"status": self.status, "ms": self.ms} | body


def build_assessment(
    results: dict[str, PartResult], fields: dict[str, str | None]
) -> dict[str, Any]:
    """The analyze/all response body (without timings)."""
    face = results.get("face")
    sentiment = results.get("sentiment")
    main_face = _largest_face(sentiment) if sentiment and sentiment.ok else None
    degraded = [name for name in PART_NAMES if name in results and results[name].failed]

    assessment = {
        "studentVerified": _student_verified(face, fields["studentId"]),
        "idCardVisible": _flag(results.get("idcard"), "idCardVisible"),
        "phoneDetected": _flag(results.get("phone"), "phoneDetected"),
        "engagement": _score(sentiment, main_face, "engagement"),
    }
    message = "Analysis complete."
    if degraded:
        message = f"Analysis complete without: {', '.join(degraded)}."
    return {
        "success": True,
        "message": message,
        "studentId": _identified_student(face, fields["studentId"]),
        "sessionId": fields["sessionId"],
        "assessment": assessment,
        "attention": _score(sentiment, main_face, "attention"),
        "liveness": _liveness(results.get("liveness")),
        "degraded": degraded,
        "details": {name: result.detail() for name, result in results.items()},
    }


def _student_verified(face: PartResult | None, requested: str | None) -> bool | None:
    """True only when the face service matched a student (the requested one if any)."""
    if face is None or face.failed:
        return None
    if not face.ok:
        return False
    body = face.body
    matched = body.get("verified", body.get("success")) is True
    student = body.get("studentId")
    if requested is not None:
        return matched and student == requested
    return matched and student is not None


def _identified_student(face: PartResult | None, requested: str | None) -> str | None:
    if face is not None and face.ok and _student_verified(face, requested):
        return face.body.get("studentId")
    return requested


def _flag(part: PartResult | None, field: str) -> bool | None:
    if part is None or part.failed:
        return None
    value = part.body.get(field) if part.ok else None
    return value if isinstance(value, bool) else None


def _largest_face(sentiment: PartResult) -> dict[str, Any] | None:
    faces = [
        face for face in sentiment.body.get("results") or [] if isinstance(face, dict)
    ]
    if not faces:
        return None

    def area(face: dict[str, Any]) -> float:
        position = face.get("position") or [0, 0, 0, 0]
        return max(position[2] - position[0], 0) * max(position[3] - position[1], 0)

    return max(faces, key=area)


def _score(
    part: PartResult | None, face: dict[str, Any] | None, field: str
) -> float | None:
    if part is None or part.failed or face is None:
        return None
    value = face.get(field)
    return float(value) if isinstance(value, int | float) else None


def _liveness(part: PartResult | None) -> dict[str, Any] | None:
    """The passive liveness verdict (score, decision: spoof/uncertain/live, cues)."""
    if part is None or part.failed or not part.ok:
        return None
    verdict = part.body.get("liveness")
    return verdict if isinstance(verdict, dict) else None
