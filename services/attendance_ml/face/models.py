"""The face service's models, loaded once per worker."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attendance_ml.core.face_detection import RetinaFaceDetector
from attendance_ml.core.face_landmarks import FaceLandmarker
from attendance_ml.core.metrics import ModelInfo
from attendance_ml.face.embedding import CHIP_SIZE, DlibFaceEmbedder
from attendance_ml.face.settings import FaceSettings


@dataclass
class FaceModels:
    """Detector, aligner/embedder and landmarker."""

    detector: RetinaFaceDetector
    embedder: DlibFaceEmbedder
    landmarker: FaceLandmarker

    @classmethod
    def load(cls, settings: FaceSettings) -> FaceModels:
        return cls(
            detector=RetinaFaceDetector(
                max_side=settings.detector_max_side,
                score_threshold=settings.detector_score_threshold,
            ),
            embedder=DlibFaceEmbedder(),
            landmarker=FaceLandmarker(),
        )

    def model_infos(self) -> list[ModelInfo]:
        return [self.detector.info, self.embedder.info, self.landmarker.info]

    def warm_up(self) -> None:
        """One inference per model, so the first request pays no start-up cost."""
        frame = np.full((480, 640, 3), 127, dtype=np.uint8)
        self.detector.detect(frame)
        self.embedder.embed([np.full((CHIP_SIZE, CHIP_SIZE, 3), 127, np.uint8)])
        self.landmarker.warm_up()
