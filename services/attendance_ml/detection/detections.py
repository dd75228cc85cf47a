"""What every detector backend returns, and the interface a backend implements.

Boxes are ``(x1, y1, x2, y2)`` in pixels of the upright input image, x to the right
and y downwards; confidences are 0-1.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from attendance_ml.core.metrics import ModelInfo


@dataclass(frozen=True)
class Detection:
    """One object: class label, confidence 0-1 and box in upright-image pixels."""

    label: str
    confidence: float
    box: tuple[float, float, float, float]

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            "confidence": round(self.confidence, 4),
            "box": [round(value) for value in self.box],
        }


class DetectorBackend(Protocol):
    """A loaded object detector.

    ``detect`` returns every detection at or above ``min_confidence`` whose label is
    in ``labels`` (all labels when None), highest confidence first. Implementations
    serialise calls into their runtime themselves, so one instance may be shared by
    request threads.
    """

    info: ModelInfo
    labels: tuple[str, ...]

    def detect(
        self,
        image: np.ndarray,
        min_confidence: float,
        labels: Iterable[str] | None = None,
    ) -> list[Detection]: ...


def keep(
    detections: Iterable[Detection],
    min_confidence: float,
    labels: Iterable[str] | None,
) -> list[Detection]:
    """Filter by confidence and label set, highest confidence first."""
    wanted = None if labels is None else set(labels)
    kept = [
        item
        for item in detections
        if item.confidence >= min_confidence
        and (wanted is None or item.label in wanted)
    ]
    return sorted(kept, key=lambda item: item.confidence, reverse=True)


def non_max_suppression(
    boxes: np.ndarray, scores: np.ndarray, iou_threshold: float
) -> list[int]:
    """Indices of the boxes kept by greedy NMS, best score first.

    boxes: (N, 4) float array of x1, y1, x2, y2; scores: (N,).
    """
    order = np.argsort(-scores)
    areas = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(
        boxes[:, 3] - boxes[:, 1], 0, None
    )
    kept: list[int] = []
    while order.size:
        best = int(order[0])
        kept.append(best)
        rest = order[1:]
        x1 = np.maximum(boxes[best, 0], boxes[rest, 0])
        y1 = np.maximum(boxes[best, 1], boxes[rest, 1])
        x2 = np.minimum(boxes[best, 2], boxes[rest, 2])
        y2 = np.minimum(boxes[best, 3], boxes[rest, 3])
        overlap = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
        iou = overlap / np.maximum(areas[best] + areas[rest] - overlap, 1e-9)
        order = rest[iou <= iou_threshold]
    return kept
