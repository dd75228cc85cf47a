"""Where an ID card may be in a frame: OpenCV geometry only, no learned model.

Two scenes are looked for. A card worn on a lanyard is a small, bright, mostly
white patch on the chest below a detected face, with printed detail (photo, text)
inside it. A card held up to a webcam is a large bright quadrilateral with roughly
ID-1 proportions (85.6 x 54 mm), in either orientation. Candidates carry the simple
measurements the pipeline scores; boxes are x1, y1, x2, y2 in pixels of the upright
image.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from attendance_ml.core.face_detection import DetectedFace

# A card's long side over its short side is 1.586 (ID-1); badges in plastic
# sleeves and perspective spread that, so a wide band is accepted.
MIN_ASPECT, MAX_ASPECT = 1.15, 2.1
BRIGHT_MIN_VALUE = 150
WHITE_MAX_SATURATION = 40
# A card is brighter than the clothing around it: compare with the mean over this
# window (pixels) and ask for this much more brightness (0-255).
LOCAL_WINDOW = 41
VALUE_LIFT = 12
# A held card fills most of its rotated rectangle and outlines as a quadrilateral.
HELD_MIN_FILL = 0.85


@dataclass(frozen=True)
class CardCandidate:
    """A region that may be a card, with the measurements used to score it.

    scene: "worn" (below a face) or "held" (large quadrilateral).
    fill: share of the region's bounding box covered by the bright blob, 0-1.
    detail: share of edge pixels inside the region (print, photo), 0-1.
    size_ratio: card width over the width of the face it belongs to (worn only).
    across: horizontal distance of the card centre from the face centre, in face
        widths (worn only).
    below: vertical distance of the card centre below the chin, in face heights
        (worn only).
    """

    scene: str
    box: tuple[float, float, float, float]
    fill: float
    detail: float
    size_ratio: float = 0.0
    across: float = 0.0
    below: float = 0.0


def worn_card_candidates(
    image: np.ndarray, faces: list[DetectedFace]
) -> list[CardCandidate]:
    """Bright card-shaped blobs on the chest of each detected face."""
    height, width = image.shape[:2]
    found: list[CardCandidate] = []
    for face in faces:
        face_width = max(face.width, 1.0)
        centre_x = (face.box[0] + face.box[2]) / 2
        x1 = int(max(0, centre_x - 1.6 * face_width))
        x2 = int(min(width, centre_x + 1.6 * face_width))
        y1 = int(min(height, face.box[3] + 0.3 * face.height))
        y2 = int(min(height, face.box[3] + 4.5 * face.height))
        if x2 - x1 < 8 or y2 - y1 < 8:
            continue
        for candidate in _bright_blobs(image[y1:y2, x1:x2], x1, y1, "worn"):
            box = candidate.box
            ratio = (box[2] - box[0]) / face_width
            across = abs((box[0] + box[2]) / 2 - centre_x) / face_width
            below = ((box[1] + box[3]) / 2 - face.box[3]) / max(face.height, 1.0)
            if 0.2 <= ratio <= 1.2:
                found.append(
                    CardCandidate(
                        "worn",
                        box,
                        candidate.fill,
                        candidate.detail,
                        ratio,
                        across,
                        below,
                    )
                )
    return found


def held_card_candidates(
    image: np.ndarray, min_area_share: float = 0.02
) -> list[CardCandidate]:
    """Large bright quadrilaterals with card proportions anywhere in the frame."""
    height, width = image.shape[:2]
    candidates = _bright_blobs(
        image, 0, 0, "held", min_area=min_area_share * height * width, corners=4
    )
    return [item for item in candidates if item.fill >= HELD_MIN_FILL]


def _bright_blobs(
    region: np.ndarray,
    offset_x: int,
    offset_y: int,
    scene: str,
    min_area: float = 30.0,
    corners: int | None = None,
) -> list[CardCandidate]:
    hsv = cv2.cvtColor(region, cv2.COLOR_RGB2HSV).astype(np.int16)
    value, saturation = hsv[..., 2], hsv[..., 1]
    local_value = cv2.blur(value.astype(np.float32), (LOCAL_WINDOW, LOCAL_WINDOW))
    local_saturation = cv2.blur(
        saturation.astype(np.float32), (LOCAL_WINDOW, LOCAL_WINDOW)
    )
    mask = (
        (value >= BRIGHT_MIN_VALUE)
        & (value >= local_value + VALUE_LIFT)
        & ((saturation <= WHITE_MAX_SATURATION) | (saturation <= local_saturation - 25))
    )
    mask = cv2.morphologyEx(
        mask.astype(np.uint8) * 255, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8)
    )
    edges = cv2.Canny(cv2.cvtColor(region, cv2.COLOR_RGB2GRAY), 60, 160)

    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    found: list[CardCandidate] = []
    for contour in contours:
        area = cv2.contourArea(contour)
        if area < min_area:
            continue
        (_, _), (side_a, side_b), _ = cv2.minAreaRect(contour)
        if min(side_a, side_b) < 4:
            continue
        aspect = max(side_a, side_b) / min(side_a, side_b)
        if not MIN_ASPECT <= aspect <= MAX_ASPECT:
            continue
        if corners is not None and not _has_corners(contour, corners):
            continue
        x, y, w, h = cv2.boundingRect(contour)
        fill = float(area / (side_a * side_b))
        detail = float(np.count_nonzero(edges[y : y + h, x : x + w]) / max(w * h, 1))
        box = (
            float(x + offset_x),
            float(y + offset_y),
            float(x + w + offset_x),
            float(y + h + offset_y),
        )
        found.append(CardCandidate(scene, box, fill, detail))
    return found


def _has_corners(contour: np.ndarray, corners: int) -> bool:
    """True when the outline simplifies to exactly ``corners`` convex corners."""
    outline = cv2.approxPolyDP(contour, 0.04 * cv2.arcLength(contour, True), True)
    return len(outline) == corners and cv2.isContourConvex(outline)
