"""Sentiment service settings from ``ATTENDANCE_SENTIMENT_*``, then ``ATTENDANCE_*``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from attendance_ml.core.model_loader import ModelSource
from attendance_ml.core.settings import CoreSettings, EnvReader, SettingError

SERVICE = "sentiment"
EMOTION_SLOT = "emotion"


@dataclass(frozen=True)
class SentimentSettings:
    """Tunable behaviour of the sentiment service.

    emotion_model: where the emotion model comes from (``MODEL_EMOTION_*``; the
        packaged fer model through LiteRT when unset).
    max_faces: largest faces analysed per image; smaller ones are left out.
    min_face_size: faces narrower than this many pixels (of the input image) need
        not be found; the detector then searches a smaller copy of the frame (a
        640x480 frame at 320x240 for 40 px: about 4x cheaper). 0 searches at full
        size for every face the detector can find.
    detect_min_side: images whose longer side is shorter than this many pixels are
        enlarged to it before detection (RetinaFace misses faces under ~16 px).
    crop_margin: side of the emotion crop relative to the longer side of the face box.
    flip_average: average the emotion scores of the face and its mirror image.
    detector_threads: onnxruntime threads of the face detector; 0 takes the core's
        default (the CPU count, at most 4). One thread used about half the CPU time
        of two on the 2-core machine, at a similar wall time while it was shared.
    landmark_threads: face-mesh graphs that may run at once.
    emotion_threads: CPU threads of the emotion model's runtime.
    history_length: samples kept per face track in a session.
    max_sessions: sessions kept; the least recently used is dropped beyond it.
    session_ttl_seconds: a session idle for this long is dropped.
    baseline_samples: frontal samples a track needs before its own eye-openness
        baseline replaces the population one.
    """

    core: CoreSettings
    emotion_model: ModelSource
    max_faces: int
    detect_min_side: int
    min_face_size: int
    detector_max_side: int
    detector_score_threshold: float
    detector_threads: int
    crop_margin: float
    flip_average: bool
    landmark_threads: int
    emotion_threads: int
    history_length: int
    max_sessions: int
    session_ttl_seconds: float
    baseline_samples: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SentimentSettings:
        env = EnvReader(SERVICE, environ)
        settings = cls(
            core=CoreSettings.from_env(SERVICE, env),
            emotion_model=ModelSource.from_env(
                env, EMOTION_SLOT, default_version="builtin", default_format="tflite"
            ),
            max_faces=env.get("MAX_FACES", 20),
            detect_min_side=env.get("DETECT_MIN_SIDE", 192),
            min_face_size=env.get("MIN_FACE_SIZE", 40),
            detector_max_side=env.get("DETECTOR_MAX_SIDE", 640),
            detector_score_threshold=env.get("DETECTOR_SCORE_THRESHOLD", 0.8),
            detector_threads=env.get("DETECTOR_THREADS", 1),
            crop_margin=env.get("CROP_MARGIN", 1.2),
            flip_average=env.flag("FLIP_AVERAGE", True),
            landmark_threads=env.get("LANDMARK_THREADS", 2),
            emotion_threads=env.get("EMOTION_THREADS", 1),
            history_length=env.get("HISTORY_LENGTH", 300),
            max_sessions=env.get("MAX_SESSIONS", 1000),
            session_ttl_seconds=env.get("SESSION_TTL_SECONDS", 4 * 3600.0),
            baseline_samples=env.get("BASELINE_SAMPLES", 5),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        """Raise SettingError naming the first value that cannot work."""
        positive = {
            "MAX_FACES": self.max_faces,
            "DETECT_MIN_SIDE": self.detect_min_side,
            "DETECTOR_MAX_SIDE": self.detector_max_side,
            "LANDMARK_THREADS": self.landmark_threads,
            "EMOTION_THREADS": self.emotion_threads,
            "HISTORY_LENGTH": self.history_length,
            "MAX_SESSIONS": self.max_sessions,
            "SESSION_TTL_SECONDS": self.session_ttl_seconds,
            "BASELINE_SAMPLES": self.baseline_samples,
        }
        for name, value in positive.items():
            if value <= 0:
                raise SettingError(f"ATTENDANCE_SENTIMENT_{name} must be positive")
        if self.min_face_size < 0:
            raise SettingError(
                "ATTENDANCE_SENTIMENT_MIN_FACE_SIZE must not be negative"
            )
        if self.detector_threads < 0:
            raise SettingError(
                "ATTENDANCE_SENTIMENT_DETECTOR_THREADS must be 0 or more"
            )
        if not 0.0 < self.detector_score_threshold < 1.0:
            raise SettingError(
                "ATTENDANCE_SENTIMENT_DETECTOR_SCORE_THRESHOLD must be between 0 and 1"
            )
        if not 0.5 <= self.crop_margin <= 3.0:
            raise SettingError("ATTENDANCE_SENTIMENT_CROP_MARGIN must be in 0.5..3")
