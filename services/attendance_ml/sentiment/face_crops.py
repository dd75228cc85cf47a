"""Aligned face crops for the emotion model.

Each face is rotated about its box centre so that the line through its eyes (from
the detector's five landmarks) is level, scaled so that the crop's side is
``margin`` times the longer side of the box, and cut to the model's input size.
Pixels outside the image repeat the border. Colour models get RGB, grey models the
luma of the image.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from attendance_ml.core.face_detection import DetectedFace


def eye_line_degrees(face: DetectedFace) -> float:
    """Angle of the line from the image-left eye to the image-right eye, degrees.

    Positive when the line slopes down to the right (the head tilted clockwise).
    """
    (left_x, left_y), (right_x, right_y) = face.landmarks[0], face.landmarks[1]
    return math.degrees(math.atan2(right_y - left_y, right_x - left_x))


def aligned_crop(
    image: np.ndarray, face: DetectedFace, size: tuple[int, int], margin: float
) -> np.ndarray:
    """A (height, width, channels) uint8 crop of ``image`` with the eyes level."""
    height, width = size
    x1, y1, x2, y2 = face.box
    centre = ((x1 + x2) / 2.0, (y1 + y2) / 2.0)
    side = max(x2 - x1, y2 - y1, 1.0) * margin
    if side > 2 * width:
        image, centre, side = _shrink_around(image, centre, side, 2.0 * width / side)

    matrix = cv2.getRotationMatrix2D(centre, eye_line_degrees(face), width / side)
    matrix[0, 2] += width / 2.0 - centre[0]
    matrix[1, 2] += height / 2.0 - centre[1]
    crop = cv2.warpAffine(
        image,
        matrix,
        (width, height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return crop if crop.ndim == 3 else crop[..., np.newaxis]


def _shrink_around(
    image: np.ndarray, centre: tuple[float, float], side: float, factor: float
) -> tuple[np.ndarray, tuple[float, float], float]:
    """Area-average the region a rotated square could touch, by ``factor`` < 1.

    Bilinear warping alone would alias when a big face becomes a small crop.
    """
    reach = side * 0.75  # half the diagonal of the square, with some room
    left = max(int(centre[0] - reach), 0)
    top = max(int(centre[1] - reach), 0)
    region = image[top : int(centre[1] + reach) + 1, left : int(centre[0] + reach) + 1]
    region = cv2.resize(
        region, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA
    )
    shifted = ((centre[0] - left) * factor, (centre[1] - top) * factor)
    return region, shifted, side * factor


def face_crops(
    image: np.ndarray,
    faces: list[DetectedFace],
    size: tuple[int, int],
    channels: int,
    margin: float,
) -> np.ndarray:
    """Aligned crops (N, height, width, channels) uint8 of every face, in order."""
    source = image if channels == 3 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    crops = [aligned_crop(source, face, size, margin) for face in faces]
    return np.stack(crops) if crops else np.zeros((0, *size, channels), np.uint8)
