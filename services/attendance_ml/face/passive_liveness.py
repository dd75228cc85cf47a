"""Passive, per-frame liveness: a conservative presentation-attack flag.

No anti-spoofing model with usable weights ships in any registry package (the ones
tried scored a screen replay and a printed photo as live). The one cue kept here is
geometric: long straight edges bracketing the face on three or more sides, as the
bezel of a phone or tablet or the borders of a printed photo do when they are in
view. A spectral "moire" cue was measured too and did not separate live faces from
replays on the shared samples, so it is not used.

The passive check therefore never claims "live": it answers "spoof" when the face
sits inside a frame, and "uncertain" otherwise. It does not stop a replay or print
whose edges are outside the picture, a mask, or a deepfake. Only the active
challenge can answer "pass".
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from attendance_ml.core.face_detection import DetectedFace

SPOOF_AT_SIDES = 3


@dataclass(frozen=True)
class PassiveLivenessResult:
    """score: 0-1, lower = more like an attack; decision: spoof or uncertain."""

    score: float
    decision: str
    frame_sides: int

    def as_dict(self) -> dict:
        return {
            "score": round(self.score, 3),
            "decision": self.decision,
            "method": "bracketing-edges",
            "cues": {"frameSides": self.frame_sides, "spoofAtSides": SPOOF_AT_SIDES},
        }


def passive_liveness(image: np.ndarray, face: DetectedFace) -> PassiveLivenessResult:
    """Flag a face held inside a frame; anything else is uncertain."""
    sides = bracketing_edge_sides(image, face)
    score = float(np.clip(0.6 - 0.15 * sides, 0.0, 1.0))
    decision = "spoof" if sides >= SPOOF_AT_SIDES else "uncertain"
    return PassiveLivenessResult(score, decision, sides)


def bracketing_edge_sides(image: np.ndarray, face: DetectedFace) -> int:
    """On how many sides of the face a long straight edge runs close and parallel.

    The search region is the face box grown by one face width/height; an edge
    counts when it is at least 1.2 face heights long (sides) or 1.2 face widths
    (top/bottom), lies outside the face box, and is within 15 degrees of vertical
    or horizontal.
    """
    height, width = image.shape[:2]
    x1, y1, x2, y2 = face.box
    face_w, face_h = face.width, face.height
    rx1, ry1 = int(max(0, x1 - face_w)), int(max(0, y1 - face_h))
    rx2, ry2 = int(min(width, x2 + face_w)), int(min(height, y2 + face_h))
    region = image[ry1:ry2, rx1:rx2]
    if region.size == 0:
        return 0

    scale = min(1.0, 480 / max(region.shape[:2]))
    small = cv2.resize(region, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    grey = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), (5, 5), 0)
    edges = cv2.Canny(grey, 50, 150)
    min_length = int(1.2 * min(face_w, face_h) * scale)
    lines = cv2.HoughLinesP(
        edges,
        1,
        np.pi / 180,
        threshold=60,
        minLineLength=max(min_length, 20),
        maxLineGap=8,
    )
    if lines is None:
        return 0

    fx1, fy1 = (x1 - rx1) * scale, (y1 - ry1) * scale
    fx2, fy2 = (x2 - rx1) * scale, (y2 - ry1) * scale
    sides = set()
    for lx1, ly1, lx2, ly2 in lines[:, 0, :]:
        angle = abs(np.degrees(np.arctan2(ly2 - ly1, lx2 - lx1))) % 180
        if angle > 75 and angle < 105:
            x_mid = (lx1 + lx2) / 2
            if x_mid < fx1:
                sides.add("left")
            elif x_mid > fx2:
                sides.add("right")
        elif angle < 15 or angle > 165:
            y_mid = (ly1 + ly2) / 2
            if y_mid < fy1:
                sides.add("top")
            elif y_mid > fy2:
                sides.add("bottom")
    return len(sides)
