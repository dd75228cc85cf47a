"""CenterNet-MobileNetV3 (COCO, 80 classes) converted to ONNX, the default detector.

The network takes one 512x512 RGB image with raw 0-255 values (the frame is
stretched to that square) and returns its own top 100 rows of x1, y1, x2, y2 in the
512 frame, score 0-1 and class index (0-based COCO order). Neighbouring peaks of one
object are merged here with NMS per class.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from attendance_ml.core.metrics import ModelInfo
from attendance_ml.detection.coco import COCO_LABELS
from attendance_ml.detection.detections import Detection, keep, non_max_suppression
from attendance_ml.detection.onnx_runtime import LockedSession

INPUT_SIDE = 512
NMS_IOU = 0.5


class CenterNetDetector:
    """COCO object detector backed by the converted CenterNet ONNX file."""

    labels = COCO_LABELS

    def __init__(self, path: Path, info: ModelInfo, threads: int = 2) -> None:
        self.info = info
        self._session = LockedSession(path, threads)

    def detect(
        self,
        image: np.ndarray,
        min_confidence: float,
        labels: Iterable[str] | None = None,
    ) -> list[Detection]:
        """Objects in an upright RGB uint8 image (see the module docstring)."""
        height, width = image.shape[:2]
        square = cv2.resize(
            image, (INPUT_SIDE, INPUT_SIDE), interpolation=cv2.INTER_LINEAR
        )
        batch = square.astype(np.float32)[np.newaxis]
        rows = next(iter(self._session.run(batch).values()))[0]

        rows = rows[rows[:, 4] >= min_confidence]
        scale = np.array([width, height, width, height], np.float32) / INPUT_SIDE
        found: list[Detection] = []
        for class_index in np.unique(rows[:, 5]).astype(int):
            if not 0 <= class_index < len(COCO_LABELS):
                continue
            of_class = rows[rows[:, 5] == class_index]
            boxes = of_class[:, :4] * scale
            boxes = np.clip(boxes, 0, [width, height, width, height])
            for index in non_max_suppression(boxes, of_class[:, 4], NMS_IOU):
                found.append(
                    Detection(
                        COCO_LABELS[class_index],
                        float(of_class[index, 4]),
                        tuple(float(v) for v in boxes[index]),
                    )
                )
        return keep(found, min_confidence, labels)
