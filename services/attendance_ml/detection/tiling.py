"""Run a detector on the whole frame and on overlapping tiles, for small objects.

A phone in an overhead classroom frame is a few pixels wide at the detector's input
size; cutting the frame into a grid of tiles enlarges it by the grid size. Costs one
extra inference per tile (a 2x2 grid: five runs per frame).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from attendance_ml.detection.detections import (
    Detection,
    DetectorBackend,
    keep,
    non_max_suppression,
)

OVERLAP = 0.2  # share of a tile's side shared with its neighbour
MERGE_IOU = 0.5


class TiledDetector:
    """Wraps a backend: whole frame plus a ``grid`` x ``grid`` set of tiles."""

    def __init__(self, backend: DetectorBackend, grid: int) -> None:
        self.backend = backend
        self.grid = grid
        self.info = backend.info
        self.labels = backend.labels

    def detect(
        self,
        image: np.ndarray,
        min_confidence: float,
        labels: Iterable[str] | None = None,
    ) -> list[Detection]:
        """Detections of the whole frame and every tile, duplicates merged."""
        labels = None if labels is None else tuple(labels)
        found = list(self.backend.detect(image, min_confidence, labels))
        for x0, y0, tile in _tiles(image, self.grid):
            for item in self.backend.detect(tile, min_confidence, labels):
                box = (
                    item.box[0] + x0,
                    item.box[1] + y0,
                    item.box[2] + x0,
                    item.box[3] + y0,
                )
                found.append(Detection(item.label, item.confidence, box))
        return keep(_merge(found), min_confidence, labels)


def _tiles(image: np.ndarray, grid: int):
    height, width = image.shape[:2]
    tile_w = math.ceil(width / (grid - (grid - 1) * OVERLAP))
    tile_h = math.ceil(height / (grid - (grid - 1) * OVERLAP))
    for row in range(grid):
        for column in range(grid):
            # Evenly spaced: the first tile at 0, the last flush with the far edge.
            x0 = round(column * (width - tile_w) / (grid - 1))
            y0 = round(row * (height - tile_h) / (grid - 1))
            yield x0, y0, image[y0 : y0 + tile_h, x0 : x0 + tile_w]


def _merge(found: list[Detection]) -> list[Detection]:
    merged: list[Detection] = []
    for label in {item.label for item in found}:
        same = [item for item in found if item.label == label]
        boxes = np.array([item.box for item in same], np.float32)
        scores = np.array([item.confidence for item in same], np.float32)
        merged += [
            same[index] for index in non_max_suppression(boxes, scores, MERGE_IOU)
        ]
    return merged
