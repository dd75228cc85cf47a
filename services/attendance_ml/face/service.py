"""The face service's long-lived parts, shared by the routes of one worker."""

from __future__ import annotations

from dataclasses import dataclass

from attendance_ml.core.imaging import ImageLimits
from attendance_ml.core.model_host import ModelHost
from attendance_ml.face.challenge import ChallengeStore
from attendance_ml.face.models import FaceModels
from attendance_ml.face.recognition import FaceRecognizer
from attendance_ml.face.settings import FaceSettings


@dataclass
class FaceService:
    settings: FaceSettings
    host: ModelHost[FaceModels]
    recognizer: FaceRecognizer
    challenges: ChallengeStore

    @property
    def limits(self) -> ImageLimits:
        return self.settings.core.image_limits

    def models(self) -> FaceModels:
        """The loaded models, or NotReady (503) while they load."""
        return self.host.bundle()
