"""YOLO weights (``.pt`` or ``.onnx``) run through the optional ultralytics package.

ultralytics is AGPL-3.0 and pulls PyTorch, so it is an optional extra
(``pip install -e '.[yolo]'`` then ``pip install --no-deps ultralytics``; see the
README). Importing this module does not import ultralytics; building a detector does.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from attendance_ml.core.metrics import ModelInfo
from attendance_ml.detection.detections import Detection, keep


class UltralyticsUnavailable(RuntimeError):
    """The ultralytics extra is not installed."""


def import_yolo():
    """The ``ultralytics.YOLO`` class, offline, or UltralyticsUnavailable."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    try:
        from ultralytics import YOLO
    except ImportError as error:
        raise UltralyticsUnavailable(
            "the YOLO backend needs the optional ultralytics extra (make install-yolo)"
        ) from error
    return YOLO


class UltralyticsDetector:
    """A user's YOLO detector; labels are the class names stored in the weights.

    imgsz: the square side, in pixels, frames are letterboxed to (the training size).
    """

    def __init__(self, path: Path, info: ModelInfo, imgsz: int = 640) -> None:
        yolo = import_yolo()
        self.info = info
        self.imgsz = imgsz
        self._model = yolo(str(path), task="detect")
        names = self._model.names
        self.labels = tuple(names[index] for index in sorted(names))
        self._lock = threading.Lock()

    def detect(
        self,
        image: np.ndarray,
        min_confidence: float,
        labels: Iterable[str] | None = None,
    ) -> list[Detection]:
        """Objects in an upright RGB uint8 image."""
        bgr = np.ascontiguousarray(image[..., ::-1])
        with self._lock:
            result = self._model.predict(
                bgr, imgsz=self.imgsz, conf=min_confidence, verbose=False, device="cpu"
            )[0]
        boxes = result.boxes
        found = [
            Detection(
                self.labels[int(class_index)],
                float(confidence),
                tuple(float(value) for value in box),
            )
            for box, confidence, class_index in zip(
                boxes.xyxy.tolist(),
                boxes.conf.tolist(),
                boxes.cls.tolist(),
                strict=True,
            )
        ]
        return keep(found, min_confidence, labels)
