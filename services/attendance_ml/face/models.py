"""The face service's models, loaded once per worker."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attendance_ml.core.face_detection import RetinaFaceDetector
from attendance_ml.core.face_landmarks import FaceLandmarker
from attendance_ml.core.metrics import ModelInfo
from attendance_ml.core.model_loader import ModelSourceError, fetch_model
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
        """Load the packaged models, or the detector the model operator rolled out.

        The embedder slot only takes the packaged dlib ResNet: a rollout of another
        embedder fails to load (readiness stays false, so the operator rolls back)
        rather than silently comparing vectors of two models.
        """
        detector_source = settings.detector_source
        detector_path = fetch_model(detector_source, settings.model_cache_dir)
        threshold = detector_source.settings.get(
            "scoreThreshold", settings.detector_score_threshold
        )
        detector = RetinaFaceDetector(
            max_side=settings.detector_max_side,
            score_threshold=float(threshold),
            model_path=str(detector_path) if detector_path else None,
            info=None if detector_source.builtin else detector_source.info(),
        )
        if not settings.embedder_source.builtin:
            raise ModelSourceError(
                "face_embedder: only the packaged dlib ResNet (builtin:) is supported"
            )
        return cls(
            detector=detector, embedder=DlibFaceEmbedder(), landmarker=FaceLandmarker()
        )

    def model_infos(self) -> list[ModelInfo]:
        return [self.detector.info, self.embedder.info, self.landmarker.info]

    def warm_up(self) -> None:
        """One inference per model, so the first request pays no start-up cost."""
        frame = np.full((480, 640, 3), 127, dtype=np.uint8)
        self.detector.detect(frame)
        self.embedder.embed([np.full((CHIP_SIZE, CHIP_SIZE, 3), 127, np.uint8)])
        self.landmarker.warm_up()
