"""What the sentiment routes share: settings, models and session history."""

from __future__ import annotations

from dataclasses import dataclass

from attendance_ml.core.imaging import ImageLimits
from attendance_ml.core.model_host import ModelHost
from attendance_ml.sentiment.analysis import SentimentModels
from attendance_ml.sentiment.history import SessionHistory
from attendance_ml.sentiment.settings import SentimentSettings


@dataclass
class SentimentService:
    settings: SentimentSettings
    host: ModelHost[SentimentModels]
    history: SessionHistory

    @property
    def limits(self) -> ImageLimits:
        return self.settings.core.image_limits

    def models(self) -> SentimentModels:
        """The loaded models; NotReady (503) while they load."""
        return self.host.bundle()
