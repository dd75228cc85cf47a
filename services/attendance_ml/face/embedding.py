"""Face alignment and 128-d embeddings with dlib's ResNet (face_recognition_models).

Alignment: dlib's 5-point shape predictor placed in the RetinaFace box, then a
150x150 chip rotated and scaled so the eyes sit level, which is what the ResNet
was trained on. Two embeddings of the same person are usually within 0.45
Euclidean distance; different people usually above 0.6.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import dlib
import numpy as np

from attendance_ml.core.face_detection import DetectedFace
from attendance_ml.core.metrics import ModelInfo

CHIP_SIZE = 150
CHIP_PADDING = 0.25
EMBEDDING_SIZE = 128


def packaged_model_path(file_name: str) -> Path:
    """Path of a weight file inside face_recognition_models, without importing it.

    The package's __init__ imports pkg_resources, which newer setuptools lacks.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("face_recognition_models is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / file_name
    if not path.is_file():
        raise FileNotFoundError(path)
    return path


@dataclass(frozen=True)
class AlignedFace:
    """A face cut out and aligned for the embedder, with its sharpness."""

    chip: np.ndarray  # (150, 150, 3) uint8 RGB
    sharpness: float  # variance of the Laplacian of the grey chip; low = blurry


class DlibFaceEmbedder:
    """Aligns faces and turns them into 128-d descriptors (float32)."""

    def __init__(self) -> None:
        self._shape_predictor = dlib.shape_predictor(
            str(packaged_model_path("shape_predictor_5_face_landmarks.dat"))
        )
        self._network = dlib.face_recognition_model_v1(
            str(packaged_model_path("dlib_face_recognition_resnet_model_v1.dat"))
        )
        self._lock = threading.Lock()
        self.info = ModelInfo(
            slot="face_embedder",
            name="dlib-resnet-v1",
            version=f"dlib-{dlib.__version__}"
            f"+models-{importlib.metadata.version('face-recognition-models')}",
        )

    def align(self, image: np.ndarray, face: DetectedFace) -> AlignedFace:
        """Cut out the face and rotate it upright to a 150x150 chip."""
        x1, y1, x2, y2 = face.box_ints()
        rectangle = dlib.rectangle(x1, y1, x2, y2)
        with self._lock:
            shape = self._shape_predictor(image, rectangle)
            chip = dlib.get_face_chip(
                image, shape, size=CHIP_SIZE, padding=CHIP_PADDING
            )

        chip = np.asarray(chip, dtype=np.uint8)
        grey = cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY)
        sharpness = float(cv2.Laplacian(grey, cv2.CV_64F).var())
        return AlignedFace(chip=chip, sharpness=sharpness)

    def embed(self, chips: list[np.ndarray]) -> np.ndarray:
        """Descriptors for aligned chips, shape (len(chips), 128), float32."""
        if not chips:
            return np.empty((0, EMBEDDING_SIZE), dtype=np.float32)
        with self._lock:
            descriptors = self._network.compute_face_descriptor(
                [np.ascontiguousarray(chip) for chip in chips]
            )
        return np.asarray([np.asarray(d) for d in descriptors], dtype=np.float32)
