"""Reading and checking the optional fields of a detection request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from attendance_ml.core.errors import InvalidRequest
from attendance_ml.detection.models import SlotModel
from attendance_ml.detection.review_store import checked_session_id


@dataclass(frozen=True)
class DetectionQuery:
    """What one request asks for: threshold 0-1, labels that count, session."""

    min_confidence: float
    labels: tuple[str, ...]
    session_id: str | None


def slot_defaults(
    slot: SlotModel, min_confidence: float, labels: Sequence[str]
) -> tuple[float, tuple[str, ...]]:
    """The slot's threshold and labels: its model SETTINGS first, then the service's.

    Labels the model does not know are dropped; a model that knows none of them
    (a user's YOLO detector with its own class names) counts all its classes.
    """
    threshold = float(slot.options.get("minConfidence", min_confidence))
    wanted = slot.options.get("labels") or labels
    usable = tuple(label for label in wanted if label in slot.backend.labels)
    return threshold, usable or tuple(slot.backend.labels)


def parse_query(
    body: dict,
    slot: SlotModel,
    default_confidence: float,
    default_labels: tuple[str, ...],
    allowed_labels: Sequence[str],
    floor: float,
) -> DetectionQuery:
    """Validate ``minConfidence``, ``labels`` and ``sessionId`` against the bounds."""
    min_confidence = default_confidence
    if body.get("minConfidence") is not None:
        min_confidence = _confidence(body["minConfidence"], floor)

    labels = default_labels
    if body.get("labels") is not None:
        allowed = {label for label in allowed_labels if label in slot.backend.labels}
        allowed |= set(default_labels)
        labels = _labels(body["labels"], allowed)

    session_id = None
    if body.get("sessionId") not in (None, ""):
        session_id = checked_session_id(body["sessionId"])
    return DetectionQuery(min_confidence, labels, session_id)


def _confidence(value: object, floor: float) -> float:
    try:
        number = float(value)  # form fields arrive as text
    except (TypeError, ValueError):
        number = float("nan")
    if isinstance(value, bool) or not floor <= number <= 1:
        raise InvalidRequest(f"minConfidence must be a number from {floor} to 1.")
    return number


def _labels(value: object, allowed: set[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [item.strip() for item in value.split(",") if item.strip()]
    if not isinstance(value, list) or not value:
        raise InvalidRequest("labels must be a non-empty list of class names.")
    unknown = [
        item for item in value if not isinstance(item, str) or item not in allowed
    ]
    if unknown:
        raise InvalidRequest(
            f"labels must be among: {', '.join(sorted(allowed))}.",
            unknown=[str(item) for item in unknown],
        )
    return tuple(dict.fromkeys(value))
