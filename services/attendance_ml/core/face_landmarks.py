"""Dense face landmarks, head pose and eye openness from MediaPipe Face Mesh.

The mesh runs on a square crop around one face found by the core RetinaFace
detector, so several faces in a frame are each measured on their own. Results come
back in the frame of the upright input image.

Conventions (all angles in degrees, as seen by the camera):

- yaw: positive when the subject turns to THEIR left, so the nose moves towards the
  image's right edge. A three-quarter view reads about 45.
- pitch: positive when the subject looks up.
- roll: positive when the head is tilted clockwise in the image.
- eye openness: the eye aspect ratio (lid gap over eye width, both in 3-D mesh
  units), about 0.2-0.35 for an open eye and below about 0.15 for a closed or
  nearly closed one. A broad smile also narrows the eyes, so compare a face with
  its own baseline rather than with a fixed threshold where possible.
"""

from __future__ import annotations

import importlib.metadata
import queue
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import cv2
import numpy as np

from attendance_ml.core.face_detection import DetectedFace
from attendance_ml.core.metrics import ModelInfo

# Side of the square crop handed to the mesh, in pixels, and the crop's size
# relative to the longer side of the detector's box (the mesh's own face detector
# needs some context around the face).
CROP_SIZE = 256
CROP_MARGIN = 1.6

# Mesh indices (MediaPipe's canonical 468-point topology, plus 10 iris points).
_FOREHEAD, _CHIN, _NOSE_TIP = 10, 152, 1
_RIGHT_EYE_OUTER, _LEFT_EYE_OUTER = 33, 263
# Eye contours: outer corner, two upper-lid points, inner corner, two lower-lid
# points, in the order the eye aspect ratio formula takes them.
_RIGHT_EYE = (33, 160, 158, 133, 153, 144)
_LEFT_EYE = (263, 387, 385, 362, 380, 373)

# The mesh's forehead-to-chin line leans back from the vertical on a level head.
# This offset is the median pitch measured on the 100 LFW photos in the shared
# data set (news photos, heads mostly level), added so that level reads about 0.
PITCH_OFFSET_DEGREES = 7.0


@dataclass(frozen=True)
class FaceGeometry:
    """Head pose and eye openness of one face.

    yaw, pitch, roll: degrees, conventions in the module docstring.
    left_eye_openness, right_eye_openness: eye aspect ratio of the subject's own
    left and right eye (0 closed, about 0.3 wide open).
    landmarks: (478, 2) float32, x and y in pixels of the full upright image.
    """

    yaw: float
    pitch: float
    roll: float
    left_eye_openness: float
    right_eye_openness: float
    landmarks: np.ndarray

    @property
    def eye_openness(self) -> float:
        """Mean eye aspect ratio of both eyes."""
        return (self.left_eye_openness + self.right_eye_openness) / 2.0


class FaceLandmarker:
    """MediaPipe Face Mesh (with iris refinement) run per detected face.

    threads: how many mesh graphs may run at the same time. A MediaPipe graph is
    not safe to share between threads, so each call borrows one graph from a
    small pool; callers beyond that number wait.
    """

    def __init__(self, threads: int | None = None) -> None:
        from mediapipe.python.solutions import face_mesh

        self._pool: queue.Queue = queue.Queue()
        for _ in range(max(1, threads or 1)):
            self._pool.put(
                face_mesh.FaceMesh(
                    static_image_mode=True,
                    max_num_faces=1,
                    refine_landmarks=True,
                    min_detection_confidence=0.3,
                )
            )
        self.info = ModelInfo(
            slot="face_landmarks",
            name="mediapipe-face-mesh",
            version=importlib.metadata.version("mediapipe"),
        )

    @contextmanager
    def _graph(self) -> Iterator:
        graph = self._pool.get()
        try:
            yield graph
        finally:
            self._pool.put(graph)

    def analyze(self, image: np.ndarray, face: DetectedFace) -> FaceGeometry | None:
        """Measure one face of an RGB uint8 image; None when the mesh finds none.

        The mesh is also rejected when its nose tip falls outside the detector's
        box, which happens when a neighbouring face dominates the crop.
        """
        crop, scale, offset = _square_crop(image, face)
        with self._graph() as graph:
            result = graph.process(crop)
        if not result.multi_face_landmarks:
            return None

        points = np.array(
            [(p.x, p.y, p.z) for p in result.multi_face_landmarks[0].landmark],
            dtype=np.float64,
        )
        # Normalised crop coordinates -> pixels of the full image. MediaPipe's z
        # is on the same scale as x, so it gets the same factor.
        points *= CROP_SIZE / scale
        points[:, :2] += offset

        x1, y1, x2, y2 = face.box
        nose_x, nose_y = points[_NOSE_TIP, :2]
        if not (x1 <= nose_x <= x2 and y1 <= nose_y <= y2):
            return None

        yaw, pitch, roll = head_pose(points)
        return FaceGeometry(
            yaw=yaw,
            pitch=pitch,
            roll=roll,
            left_eye_openness=eye_aspect_ratio(points, _LEFT_EYE),
            right_eye_openness=eye_aspect_ratio(points, _RIGHT_EYE),
            landmarks=points[:, :2].astype(np.float32),
        )

    def warm_up(self) -> None:
        """Run every graph in the pool once on a blank crop."""
        blank = np.zeros((CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8)
        graphs = [self._pool.get() for _ in range(self._pool.qsize())]
        try:
            for graph in graphs:
                graph.process(blank)
        finally:
            for graph in graphs:
                self._pool.put(graph)


def head_pose(points: np.ndarray) -> tuple[float, float, float]:
    """Yaw, pitch and roll in degrees from (N, 3) mesh points in pixels.

    The face's own axes come from the eye corners (left-right) and the
    forehead-chin line (up-down); the facing direction is their cross product.
    Image axes: x right, y down, z away from the camera.
    """
    across = points[_LEFT_EYE_OUTER] - points[_RIGHT_EYE_OUTER]
    across /= np.linalg.norm(across)
    down = points[_CHIN] - points[_FOREHEAD]
    down -= down.dot(across) * across
    down /= np.linalg.norm(down)
    facing = -np.cross(across, down)  # towards the camera on a frontal face

    yaw = np.degrees(np.arctan2(facing[0], -facing[2]))
    pitch = np.degrees(np.arcsin(np.clip(-facing[1], -1.0, 1.0)))
    roll = np.degrees(np.arctan2(across[1], across[0]))
    return float(yaw), float(pitch + PITCH_OFFSET_DEGREES), float(roll)


def eye_aspect_ratio(points: np.ndarray, eye: tuple[int, ...]) -> float:
    """Lid gap over eye width for one eye, from 3-D points (unitless)."""
    corner_a, upper_a, upper_b, corner_b, lower_b, lower_a = (points[i] for i in eye)
    gap = np.linalg.norm(upper_a - lower_a) + np.linalg.norm(upper_b - lower_b)
    width = np.linalg.norm(corner_a - corner_b)
    return float(gap / (2.0 * width)) if width > 0 else 0.0


def _square_crop(
    image: np.ndarray, face: DetectedFace
) -> tuple[np.ndarray, float, np.ndarray]:
    """A CROP_SIZE square around the face; returns it, its scale and its offset.

    A crop pixel (u, v) maps back to the image as (u / scale + ox, v / scale + oy).
    Parts of the square outside the image are black.
    """
    x1, y1, x2, y2 = face.box
    side = max(round(max(x2 - x1, y2 - y1) * CROP_MARGIN), 2)
    left = round((x1 + x2 - side) / 2.0)
    top = round((y1 + y2 - side) / 2.0)
    height, width = image.shape[:2]

    region = image[max(top, 0) : top + side, max(left, 0) : left + side]
    region = cv2.copyMakeBorder(
        np.ascontiguousarray(region),
        max(-top, 0),
        max(top + side - height, 0),
        max(-left, 0),
        max(left + side - width, 0),
        cv2.BORDER_CONSTANT,
        value=(0, 0, 0),
    )
    scale = CROP_SIZE / side
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    crop = cv2.resize(region, (CROP_SIZE, CROP_SIZE), interpolation=interpolation)
    return crop, scale, np.array([left, top], dtype=np.float64)
