"""The sentiment pipeline: faces, then mesh and emotion per face.

Faces come from the core RetinaFace detector (largest first). Each face gets the
shared face mesh (head pose, eye openness) and the emotion model on an aligned
crop, averaged with its mirror image when ``flip_average`` is on. Small images are
enlarged before detection; every position returned is in pixels of the image as
it was sent.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import cv2
import numpy as np
from flask import has_app_context

from attendance_ml.core.face_detection import DetectedFace, RetinaFaceDetector
from attendance_ml.core.face_landmarks import FaceGeometry, FaceLandmarker
from attendance_ml.core.metrics import ModelInfo, timed_inference
from attendance_ml.sentiment.emotion import EMOTIONS, EmotionModel, load_emotion_model
from attendance_ml.sentiment.face_crops import face_crops
from attendance_ml.sentiment.settings import SentimentSettings


@dataclass(frozen=True)
class FaceReading:
    """What the models measured on one face.

    face: box and landmarks in pixels of the image as sent.
    geometry: head pose and eye openness, or None when the mesh found no face.
    scores: probability per emotion, summing to 1.
    """

    face: DetectedFace
    geometry: FaceGeometry | None
    scores: dict[str, float]

    @property
    def primary_emotion(self) -> str:
        return max(EMOTIONS, key=lambda name: self.scores[name])


class SentimentModels:
    """The three models of the service, loaded once per worker."""

    def __init__(
        self,
        detector: RetinaFaceDetector,
        landmarker: FaceLandmarker,
        emotion: EmotionModel,
        settings: SentimentSettings,
    ) -> None:
        self.detector = detector
        self.landmarker = landmarker
        self.emotion = emotion
        self.settings = settings
        # The mesh graphs run in C++; with several faces they work side by side.
        self._mesh_pool = ThreadPoolExecutor(
            max_workers=settings.landmark_threads, thread_name_prefix="face-mesh"
        )

    @classmethod
    def load(cls, settings: SentimentSettings) -> SentimentModels:
        return cls(
            RetinaFaceDetector(
                max_side=settings.detector_max_side,
                score_threshold=settings.detector_score_threshold,
                threads=settings.detector_threads or None,
            ),
            FaceLandmarker(threads=settings.landmark_threads),
            load_emotion_model(
                settings.emotion_model,
                settings.core.data_dir / "models" / "sentiment",
                settings.emotion_threads,
            ),
            settings,
        )

    def model_infos(self) -> list[ModelInfo]:
        return [self.detector.info, self.landmarker.info, self.emotion.info]

    def warm_up(self) -> None:
        self.detector.detect(np.zeros((240, 320, 3), dtype=np.uint8))
        self.landmarker.warm_up()
        self.emotion.warm_up()

    def analyze(self, image: np.ndarray) -> list[FaceReading]:
        """Up to ``max_faces`` readings for an RGB uint8 image, largest face first."""
        scale = _detection_scale(image, self.settings.detect_min_side)
        work = image
        if scale != 1.0:
            size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
            work = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)

        min_face = self.settings.min_face_size * scale or None
        with _timed(self.detector.info):
            faces = self.detector.detect(work, min_face)[: self.settings.max_faces]
        if not faces:
            return []

        with _timed(self.landmarker.info):
            geometries = self.face_geometries(work, faces)
        with _timed(self.emotion.info):
            scores = self.emotion_scores(work, faces)

        return [
            FaceReading(
                _rescale_face(face, scale),
                _rescale_geometry(geometry, scale),
                dict(zip(EMOTIONS, (float(v) for v in row), strict=True)),
            )
            for face, geometry, row in zip(faces, geometries, scores, strict=True)
        ]

    def face_geometries(
        self, image: np.ndarray, faces: list[DetectedFace]
    ) -> list[FaceGeometry | None]:
        """Face-mesh measurements of every face, in order (None where it failed)."""
        if len(faces) == 1 or self.settings.landmark_threads == 1:
            return [self.landmarker.analyze(image, face) for face in faces]
        return list(
            self._mesh_pool.map(
                lambda face: self.landmarker.analyze(image, face), faces
            )
        )

    def emotion_scores(
        self, image: np.ndarray, faces: list[DetectedFace]
    ) -> np.ndarray:
        """(N, 7) probabilities in EMOTIONS order for faces of an RGB image."""
        crops = face_crops(
            image,
            faces,
            self.emotion.input_size,
            self.emotion.channels,
            self.settings.crop_margin,
        )
        scores = self.emotion.scores(crops)
        if self.settings.flip_average:
            scores = (scores + self.emotion.scores(crops[:, :, ::-1])) / 2.0
        return scores


def _timed(info: ModelInfo) -> AbstractContextManager[None]:
    """Inference timing into the app's metrics; nothing outside a Flask app."""
    return timed_inference(info) if has_app_context() else nullcontext()


def _detection_scale(image: np.ndarray, min_side: int) -> float:
    longer = max(image.shape[:2])
    return min_side / longer if longer < min_side else 1.0


def _rescale_face(face: DetectedFace, scale: float) -> DetectedFace:
    if scale == 1.0:
        return face
    box = tuple(value / scale for value in face.box)
    return DetectedFace(box, face.score, face.landmarks / scale)


def _rescale_geometry(
    geometry: FaceGeometry | None, scale: float
) -> FaceGeometry | None:
    if geometry is None or scale == 1.0:
        return geometry
    return FaceGeometry(
        yaw=geometry.yaw,
        pitch=geometry.pitch,
        roll=geometry.roll,
        left_eye_openness=geometry.left_eye_openness,
        right_eye_openness=geometry.right_eye_openness,
        landmarks=(geometry.landmarks / scale).astype(np.float32),
    )
