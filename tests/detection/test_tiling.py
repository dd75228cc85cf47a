"""The tiled detector: tiles cover the frame and boxes map back to frame pixels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from attendance_ml.core.metrics import ModelInfo
from attendance_ml.detection.centernet import CenterNetDetector
from attendance_ml.detection.settings import DEFAULT_MODELS_DIR
from attendance_ml.detection.tiling import TiledDetector, _tiles


@pytest.mark.parametrize(("grid", "shape"), [(2, (480, 640)), (3, (640, 640))])
def test_tiles_cover_every_pixel_and_stay_inside(grid, shape):
    covered = np.zeros(shape, bool)
    frame = np.zeros((*shape, 3), np.uint8)

    tiles = list(_tiles(frame, grid))

    for x0, y0, tile in tiles:
        covered[y0 : y0 + tile.shape[0], x0 : x0 + tile.shape[1]] = True
    assert len(tiles) == grid * grid
    assert covered.all()


@pytest.mark.data
def test_tiled_detector_finds_at_least_the_whole_frame_people(shared_data):
    path = next(
        (shared_data / "classroom_phone" / "test" / "images").glob("sample_1_*")
    )
    frame = np.ascontiguousarray(cv2.imread(str(path))[..., ::-1])
    detector = CenterNetDetector(
        DEFAULT_MODELS_DIR / "centernet-mobilenetv3.onnx", ModelInfo("p", "c", "1")
    )

    whole = detector.detect(frame, 0.3, ["person"])
    tiled = TiledDetector(detector, 2).detect(frame, 0.3, ["person"])

    assert len(tiled) >= len(whole) >= 3
    for item in tiled:
        x1, y1, x2, y2 = item.box
        assert 0 <= x1 < x2 <= frame.shape[1] and 0 <= y1 < y2 <= frame.shape[0]
