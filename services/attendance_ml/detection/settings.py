"""Detection service settings, from ``ATTENDANCE_DETECTION_*`` (then ``ATTENDANCE_*``).

A model slot is described by the operator's variables
``ATTENDANCE_DETECTION_MODEL_<SLOT>_{URI,VERSION,SHA256,FORMAT,SETTINGS}``; with none
set the slot runs its built-in model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from attendance_ml.core.settings import CoreSettings, EnvReader, SettingError
from attendance_ml.detection.coco import PHONE_LABEL

SERVICE = "detection"
PHONE_SLOT = "phone_detector"
IDCARD_SLOT = "idcard_detector"
FORMATS = ("onnx", "ultralytics")
REVIEW_MODES = ("off", "positives", "all")
# The repository's models/ folder (manifest and the converted CenterNet file).
DEFAULT_MODELS_DIR = Path(__file__).resolve().parents[3] / "models"


@dataclass(frozen=True)
class ModelSpec:
    """Where a slot's model comes from.

    uri: ``builtin:`` (the packaged default), ``file:///path``, ``https://...`` or
        ``http://...``.
    sha256: expected hex digest of the file; checked when given.
    format: ``onnx`` (the converted COCO detectors) or ``ultralytics`` (YOLO
        ``.pt``/``.onnx`` through the optional ultralytics package).
    options: the SETTINGS JSON object: ``minConfidence`` (0-1), ``labels`` (the
        classes that count as a hit) and, for ``onnx``, ``architecture``
        (``centernet`` or ``nanodet``).
    """

    slot: str
    uri: str = "builtin:"
    version: str | None = None
    sha256: str | None = None
    format: str = "onnx"
    options: Mapping[str, object] = field(default_factory=dict)

    @property
    def builtin(self) -> bool:
        return self.uri.startswith("builtin:")

    @classmethod
    def from_env(cls, env: EnvReader, slot: str) -> ModelSpec:
        prefix = f"MODEL_{slot.upper()}_"
        raw_options = env.raw(prefix + "SETTINGS") or "{}"
        try:
            options = json.loads(raw_options)
        except json.JSONDecodeError as error:
            raise SettingError(f"{prefix}SETTINGS is not JSON: {error}") from error
        if not isinstance(options, dict):
            raise SettingError(f"{prefix}SETTINGS must be a JSON object")
        model_format = (env.raw(prefix + "FORMAT") or "onnx").lower()
        if model_format not in FORMATS:
            raise SettingError(f"{prefix}FORMAT must be one of {', '.join(FORMATS)}")
        return cls(
            slot=slot,
            uri=env.raw(prefix + "URI") or "builtin:",
            version=env.raw(prefix + "VERSION"),
            sha256=(env.raw(prefix + "SHA256") or "").lower() or None,
            format=model_format,
            options=options,
        )


@dataclass(frozen=True)
class DetectionSettings:
    """Tunable behaviour of the detection service.

    phone_min_confidence, idcard_min_confidence: default thresholds, 0-1; a request
        may ask for another within [min_confidence_floor, 1].
    phone_labels: COCO classes that count as a hit on the phone endpoint (e.g. add
        ``laptop`` or ``book``); a request may narrow or change them within
        allowed_labels.
    review_mode: which analysed images are kept for review: off, positives, all.
    review_max_age_hours, review_max_bytes: retention of kept images.
    threads: onnxruntime threads per model.
    phone_tiles: 1 runs the phone detector on the whole frame; N > 1 adds an N x N
        grid of overlapping tiles (small, far phones; N*N + 1 runs per frame).
    """

    core: CoreSettings
    models_dir: Path
    phone_model: ModelSpec
    idcard_model: ModelSpec
    phone_min_confidence: float
    idcard_min_confidence: float
    min_confidence_floor: float
    phone_labels: tuple[str, ...]
    allowed_labels: tuple[str, ...]
    idcard_ocr: bool
    review_mode: str
    review_max_age_hours: float
    review_max_bytes: int
    threads: int
    phone_tiles: int

    @property
    def review_dir(self) -> Path:
        return self.core.data_dir / "detection" / "review"

    @property
    def download_dir(self) -> Path:
        return self.core.data_dir / "detection" / "models"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DetectionSettings:
        env = EnvReader(SERVICE, environ)
        core = CoreSettings.from_env(SERVICE, env)
        phone_labels = env.csv("PHONE_LABELS", (PHONE_LABEL,))
        settings = cls(
            core=core,
            models_dir=Path(env.get("MODELS_DIR", str(DEFAULT_MODELS_DIR))),
            phone_model=ModelSpec.from_env(env, PHONE_SLOT),
            idcard_model=ModelSpec.from_env(env, IDCARD_SLOT),
            phone_min_confidence=env.get("PHONE_MIN_CONFIDENCE", 0.3),
            idcard_min_confidence=env.get("IDCARD_MIN_CONFIDENCE", 0.2),
            min_confidence_floor=env.get("MIN_CONFIDENCE_FLOOR", 0.05),
            phone_labels=phone_labels,
            allowed_labels=env.csv(
                "ALLOWED_LABELS", (*phone_labels, "laptop", "book", "remote")
            ),
            idcard_ocr=env.flag("IDCARD_OCR", True),
            review_mode=env.get("REVIEW_MODE", "off").lower(),
            review_max_age_hours=env.get("REVIEW_MAX_AGE_HOURS", 72.0),
            review_max_bytes=env.get("REVIEW_MAX_MB", 500) * 1024 * 1024,
            threads=env.get("THREADS", 2),
            phone_tiles=env.get("PHONE_TILES", 1),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        for name in ("phone_min_confidence", "idcard_min_confidence"):
            value = getattr(self, name)
            if not self.min_confidence_floor <= value <= 1:
                raise SettingError(f"{name}={value} is outside [floor, 1]")
        if not 0 <= self.min_confidence_floor <= 1:
            raise SettingError("MIN_CONFIDENCE_FLOOR must be within 0-1")
        if self.review_mode not in REVIEW_MODES:
            raise SettingError(f"REVIEW_MODE must be one of {', '.join(REVIEW_MODES)}")
        if self.review_max_age_hours <= 0 or self.review_max_bytes <= 0:
            raise SettingError("review retention limits must be positive")
        if not 1 <= self.phone_tiles <= 4:
            raise SettingError("PHONE_TILES must be from 1 to 4")
        if not set(self.phone_labels) <= set(self.allowed_labels):
            raise SettingError("PHONE_LABELS must be within ALLOWED_LABELS")
