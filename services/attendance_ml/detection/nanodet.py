"""NanoDet-m (COCO, 80 classes) converted to ONNX, the alternative phone detector.

The network takes one 416x416 image, channels first, BGR normalised with the
ImageNet mean and spread of the original training, and returns per-anchor class
scores (already through a sigmoid) and box distributions for strides 8, 16 and 32.
A box side is the expectation over 11 bins (0-10 strides) of a softmax, measured from
the anchor centre. The frame is stretched to the square, as for CenterNet.
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

INPUT_SIDE = 416
STRIDES = (8, 16, 32)
BINS = 11
NMS_IOU = 0.5
_BGR_MEAN = np.array([103.53, 116.28, 123.675], np.float32)
_BGR_STD = np.array([57.375, 57.12, 58.395], np.float32)


def _anchor_centres() -> tuple[np.ndarray, np.ndarray]:
    centres, strides = [], []
    for stride in STRIDES:
        cells = INPUT_SIDE // stride
        ys, xs = np.mgrid[0:cells, 0:cells]
        points = (np.stack([xs.ravel(), ys.ravel()], axis=1) + 0.5) * stride
        centres.append(points.astype(np.float32))
        strides.append(np.full(cells * cells, stride, np.float32))
    return np.concatenate(centres), np.concatenate(strides)


class NanoDetDetector:
    """COCO object detector backed by the converted NanoDet-m ONNX file."""

    labels = COCO_LABELS

    def __init__(self, path: Path, info: ModelInfo, threads: int = 2) -> None:
        self.info = info
        self._session = LockedSession(path, threads)
        self._centres, self._strides = _anchor_centres()

    def detect(
        self,
        image: np.ndarray,
        min_confidence: float,
        labels: Iterable[str] | None = None,
    ) -> list[Detection]:
        """Objects in an upright RGB uint8 image (see the module docstring)."""
        height, width = image.shape[:2]
        square = cv2.resize(image, (INPUT_SIDE, INPUT_SIDE))
        normalised = (square[..., ::-1].astype(np.float32) - _BGR_MEAN) / _BGR_STD
        batch = np.ascontiguousarray(normalised.transpose(2, 0, 1)[np.newaxis])
        outputs = list(self._session.run(batch).values())
        scores = np.concatenate([out[0] for out in outputs[:3]])
        spreads = np.concatenate([out[0] for out in outputs[3:]])

        best = scores.max(axis=1)
        chosen = np.nonzero(best >= min_confidence)[0]
        classes = scores[chosen].argmax(axis=1)
        boxes = self._decode(spreads[chosen], chosen)
        scale = np.array([width, height, width, height], np.float32) / INPUT_SIDE
        boxes = np.clip(boxes * scale, 0, [width, height, width, height])

        found: list[Detection] = []
        for class_index in np.unique(classes):
            members = np.nonzero(classes == class_index)[0]
            member_scores = best[chosen][members]
            for index in non_max_suppression(boxes[members], member_scores, NMS_IOU):
                found.append(
                    Detection(
                        COCO_LABELS[int(class_index)],
                        float(member_scores[index]),
                        tuple(float(v) for v in boxes[members][index]),
                    )
                )
        return keep(found, min_confidence, labels)

    def _decode(self, spreads: np.ndarray, anchors: np.ndarray) -> np.ndarray:
        logits = spreads.reshape(-1, 4, BINS)
        logits = logits - logits.max(axis=2, keepdims=True)
        weights = np.exp(logits)
        weights /= weights.sum(axis=2, keepdims=True)
        distances = (weights * np.arange(BINS, dtype=np.float32)).sum(axis=2)
        distances *= self._strides[anchors, np.newaxis]
        centres = self._centres[anchors]
        return np.concatenate(
            [centres - distances[:, :2], centres + distances[:, 2:]], axis=1
        )
