"""The detection service's two model slots, each with a primary and a fallback path.

The primary model of a slot is what the deployment configured (by default the
built-in one). When a configured model cannot be loaded, the slot falls back to its
built-in model and every answer says ``"path": "fallback"``; the failure is logged and
counted, so an operator sees it without the service going down.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import cv2
import numpy as np
import structlog

from attendance_ml.core.face_detection import RetinaFaceDetector
from attendance_ml.core.metrics import ModelInfo
from attendance_ml.detection.centernet import CenterNetDetector
from attendance_ml.detection.detections import DetectorBackend
from attendance_ml.detection.idcard import IdCardPipeline
from attendance_ml.detection.model_source import local_model_file
from attendance_ml.detection.nanodet import NanoDetDetector
from attendance_ml.detection.settings import DetectionSettings, ModelSpec
from attendance_ml.detection.tiling import TiledDetector

log = structlog.get_logger("attendance_ml.detection.models")
MANIFEST = "manifest.json"
BUILTIN_PHONE_MODEL = "centernet-mobilenetv3"


@dataclass
class SlotModel:
    """What answers for one slot, and whether it is the configured model."""

    backend: DetectorBackend
    path: str  # "primary" or "fallback"
    options: dict
    load_error: str | None = None


@dataclass
class DetectionModels:
    """The loaded bundle the model host hands to request handlers."""

    phone: SlotModel
    idcard: SlotModel

    def fallback_slots(self) -> list[str]:
        """Slots whose configured model failed to load and that run the built-in."""
        return [
            slot.backend.info.slot
            for slot in (self.phone, self.idcard)
            if slot.path == "fallback"
        ]

    def model_infos(self) -> list[ModelInfo]:
        return [self.phone.backend.info, self.idcard.backend.info]

    def warm_up(self) -> None:
        """One inference per slot; the card frame also runs OCR once, if enabled."""
        frame = np.zeros((480, 640, 3), np.uint8)
        self.phone.backend.detect(frame, 0.5)
        cv2.rectangle(frame, (200, 160), (440, 312), (250, 250, 250), -1)
        cv2.putText(
            frame, "ID 42", (230, 250), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (0, 0, 0), 3
        )
        self.idcard.backend.detect(frame, 0.5)

    @classmethod
    def load(cls, settings: DetectionSettings) -> DetectionModels:
        faces = RetinaFaceDetector(threads=settings.threads)
        phone = load_slot(
            settings.phone_model,
            settings,
            lambda: builtin_phone_detector(settings.models_dir, settings.threads),
        )
        if settings.phone_tiles > 1:
            phone.backend = TiledDetector(phone.backend, settings.phone_tiles)
        return cls(
            phone=phone,
            idcard=load_slot(
                settings.idcard_model,
                settings,
                lambda: builtin_idcard_pipeline(faces, settings.idcard_ocr),
            ),
        )


def load_slot(
    spec: ModelSpec,
    settings: DetectionSettings,
    builtin: Callable[[], DetectorBackend],
) -> SlotModel:
    """The configured model, else the built-in one marked as the fallback path."""
    if spec.builtin:
        return SlotModel(builtin(), "primary", dict(spec.options))
    try:
        backend = configured_backend(spec, settings)
        log.info("model_loaded", **backend.info.as_dict(), uri=spec.uri)
        return SlotModel(backend, "primary", dict(spec.options))
    except Exception as error:
        reason = f"{type(error).__name__}: {error}"
        log.error("model_load_failed_using_fallback", slot=spec.slot, error=reason)
        return SlotModel(builtin(), "fallback", {}, load_error=reason)


def configured_backend(spec: ModelSpec, settings: DetectionSettings) -> DetectorBackend:
    """Load a deployment's own model file in the format it names."""
    path = local_model_file(spec, settings.download_dir)
    name = Path(urlparse(spec.uri).path).stem or path.stem
    info = ModelInfo(spec.slot, name, spec.version or "unversioned")
    if spec.format == "ultralytics":
        from attendance_ml.detection.ultralytics_backend import UltralyticsDetector

        return UltralyticsDetector(path, info, int(spec.options.get("imgsz", 640)))

    architecture = str(spec.options.get("architecture", "centernet"))
    if architecture == "centernet":
        return CenterNetDetector(path, info, settings.threads)
    if architecture == "nanodet":
        return NanoDetDetector(path, info, settings.threads)
    raise ValueError(f"unknown onnx architecture {architecture!r}")


def builtin_phone_detector(models_dir: Path, threads: int) -> CenterNetDetector:
    """The converted CenterNet named in models/manifest.json, digest checked."""
    entry = manifest_entry(models_dir, BUILTIN_PHONE_MODEL)
    path = models_dir / entry["file"]
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `make detection-models`")
    spec = ModelSpec(slot="phone_detector", uri=path.as_uri(), sha256=entry["sha256"])
    local_model_file(spec, models_dir)
    info = ModelInfo("phone_detector", BUILTIN_PHONE_MODEL, entry["version"])
    return CenterNetDetector(path, info, threads)


def builtin_idcard_pipeline(faces: RetinaFaceDetector, ocr: bool) -> IdCardPipeline:
    reader = None
    if ocr:
        from attendance_ml.detection.ocr import TextReader

        reader = TextReader()
    return IdCardPipeline(faces, reader)


def manifest_entry(models_dir: Path, name: str) -> dict:
    manifest = json.loads((models_dir / MANIFEST).read_text())
    return next(item for item in manifest["models"] if item["name"] == name)
