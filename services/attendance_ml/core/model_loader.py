"""Resolves a model named by environment variables, verifies it and loads it.

The MLModel operator rolls a model onto a pod as five variables per slot, for
example for the phone detector of the detection service::

    ATTENDANCE_DETECTION_MODEL_PHONE_DETECTOR_URI       builtin: | file:/// | https://
    ATTENDANCE_DETECTION_MODEL_PHONE_DETECTOR_VERSION   free text, shown in readiness
    ATTENDANCE_DETECTION_MODEL_PHONE_DETECTOR_SHA256    64 hex digits of the file
    ATTENDANCE_DETECTION_MODEL_PHONE_DETECTOR_FORMAT    onnx|ultralytics|keras|tflite
    ATTENDANCE_DETECTION_MODEL_PHONE_DETECTOR_SETTINGS  JSON object (thresholds...)

``builtin:`` means the default model packaged with the service; the service loads
it itself. Remote files are downloaded into a cache directory under a temporary
name, hashed while they stream, and renamed into place only when the sha256
matches, so a cache never holds a partial or wrong file under a final name.
``http(s)`` sources must name a sha256; ``file:`` sources are checked when they do.

``ModelSlot`` holds the model a worker serves: a replacement is loaded and warmed
up beside the current one and installed only when that succeeded, so a bad
model never replaces a good one in a running process.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import unquote, urlparse

import requests
import structlog

from attendance_ml.core.errors import NotReady
from attendance_ml.core.metrics import ModelInfo
from attendance_ml.core.settings import EnvReader

log = structlog.get_logger("attendance_ml.model_loader")

FORMATS = ("onnx", "ultralytics", "keras", "tflite")
BUILTIN_URI = "builtin:"
CHUNK_BYTES = 1024 * 1024
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
T = TypeVar("T")


class ModelSourceError(Exception):
    """A model could not be resolved, fetched, verified or loaded."""


class UnknownModelFormat(ModelSourceError):
    """The format is not one of onnx, ultralytics, keras, tflite."""


class UnsupportedModelUri(ModelSourceError):
    """The URI scheme is not builtin:, file:, http: or https:, or lacks a sha256."""


class ModelDownloadFailed(ModelSourceError):
    """The server was unreachable, answered an error, or the body was cut short."""


class ModelChecksumMismatch(ModelSourceError):
    """The file's sha256 differs from the one the source names."""


class ModelBackendUnavailable(ModelSourceError):
    """The runtime for the format is not installed in this image."""


@dataclass(frozen=True)
class ModelSource:
    """Where one slot's model comes from, as the environment names it.

    settings: model-specific values (thresholds, class names) for the service.
    """

    slot: str
    uri: str
    version: str
    format: str
    sha256: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def builtin(self) -> bool:
        return self.uri.strip() == BUILTIN_URI

    @property
    def name(self) -> str:
        """The model's name: settings["name"], else the file name without suffix."""
        if isinstance(self.settings.get("name"), str):
            return self.settings["name"]
        if self.builtin:
            return "builtin"
        return Path(unquote(urlparse(self.uri).path)).stem or "model"

    def info(self, name: str | None = None) -> ModelInfo:
        return ModelInfo(self.slot, name or self.name, self.version)

    @classmethod
    def from_env(
        cls, env: EnvReader, slot: str, default_version: str, default_format: str
    ) -> ModelSource:
        """Read ``MODEL_<SLOT>_*``; with no URI set, the builtin default applies."""
        prefix = f"MODEL_{slot.upper()}_"
        uri = env.raw(prefix + "URI") or BUILTIN_URI
        fmt = (env.raw(prefix + "FORMAT") or default_format).lower()
        if fmt not in FORMATS:
            raise UnknownModelFormat(
                f"{env.service_prefix}{prefix}FORMAT={fmt!r}: use one of {FORMATS}"
            )
        sha256 = (env.raw(prefix + "SHA256") or "").lower() or None
        if sha256 is not None and not SHA256_PATTERN.match(sha256):
            raise ModelSourceError(f"{prefix}SHA256 is not 64 hex digits")
        return cls(
            slot=slot,
            uri=uri,
            version=env.raw(prefix + "VERSION") or default_version,
            format=fmt,
            sha256=sha256,
            settings=_parse_settings(env.raw(prefix + "SETTINGS"), prefix),
        )


def _parse_settings(raw: str | None, prefix: str) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ModelSourceError(f"{prefix}SETTINGS is not JSON: {error}") from error
    if not isinstance(value, dict):
        raise ModelSourceError(f"{prefix}SETTINGS must be a JSON object")
    return value


def fetch_model(
    source: ModelSource,
    cache_dir: Path,
    timeout_s: float = 30.0,
    max_bytes: int = 2 * 1024**3,
) -> Path | None:
    """Return a verified local path for the source; None for ``builtin:``.

    timeout_s: connect and read timeout of one HTTP request, in seconds.
    max_bytes: downloads larger than this are refused.
    """
    if source.format not in FORMATS:
        raise UnknownModelFormat(f"format {source.format!r}: use one of {FORMATS}")
    if source.builtin:
        return None

    parsed = urlparse(source.uri)
    if parsed.scheme == "file":
        path = Path(unquote(parsed.path))
        if not path.is_file():
            raise ModelDownloadFailed(f"{source.uri}: no such file")
        if source.sha256 is not None:
            _verify_file(path, source.sha256)
        return path
    if parsed.scheme not in ("http", "https"):
        raise UnsupportedModelUri(
            f"{source.uri!r}: use builtin:, file:///path, https:// or http://"
        )
    if source.sha256 is None:
        raise UnsupportedModelUri(f"{source.uri}: a downloaded model needs a sha256")

    suffix = Path(parsed.path).suffix[:16]
    final = cache_dir / f"{source.sha256}{suffix}"
    if final.is_file():
        try:
            _verify_file(final, source.sha256)
            log.info("model_cache_hit", slot=source.slot, version=source.version)
            return final
        except ModelChecksumMismatch:
            log.warning("model_cache_corrupt", slot=source.slot, path=str(final))
            final.unlink(missing_ok=True)

    cache_dir.mkdir(parents=True, exist_ok=True)
    _download_verified(source, final, timeout_s, max_bytes)
    return final


def _download_verified(
    source: ModelSource, final: Path, timeout_s: float, max_bytes: int
) -> None:
    """Stream to a temporary file beside ``final``; rename only when it verifies."""
    handle, temporary = tempfile.mkstemp(dir=final.parent, prefix=".partial-")
    digest = hashlib.sha256()
    received = 0
    try:
        with os.fdopen(handle, "wb") as out:
            try:
                response = requests.get(source.uri, stream=True, timeout=timeout_s)
                with response:
                    if response.status_code != 200:
                        raise ModelDownloadFailed(
                            f"{source.uri}: HTTP {response.status_code}"
                        )
                    expected = response.headers.get("Content-Length")
                    for chunk in response.iter_content(CHUNK_BYTES):
                        received += len(chunk)
                        if received > max_bytes:
                            raise ModelDownloadFailed(
                                f"{source.uri}: larger than {max_bytes} bytes"
                            )
                        digest.update(chunk)
                        out.write(chunk)
            except requests.RequestException as error:
                raise ModelDownloadFailed(f"{source.uri}: {error}") from error
            if expected is not None and int(expected) != received:
                raise ModelDownloadFailed(
                    f"{source.uri}: got {received} of {expected} bytes"
                )
        if digest.hexdigest() != source.sha256:
            raise ModelChecksumMismatch(
                f"{source.uri}: sha256 {digest.hexdigest()} is not {source.sha256}"
            )
        os.replace(temporary, final)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

    log.info(
        "model_downloaded", slot=source.slot, version=source.version, bytes=received
    )


def _verify_file(path: Path, sha256: str) -> None:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            digest.update(chunk)
    if digest.hexdigest() != sha256:
        raise ModelChecksumMismatch(
            f"{path}: sha256 {digest.hexdigest()} is not {sha256}"
        )


def load_backend(path: Path, fmt: str) -> Any:
    """Open the file with the runtime of its format and return the runtime object.

    onnx: an onnxruntime InferenceSession on the CPU; tflite: an ai-edge-litert
    Interpreter with tensors allocated; keras: a Keras model (needs TensorFlow or
    Keras in the image); ultralytics: a YOLO model (optional AGPL extra).
    """
    if fmt == "onnx":
        import onnxruntime

        return onnxruntime.InferenceSession(
            str(path), providers=["CPUExecutionProvider"]
        )
    if fmt == "tflite":
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=str(path))
        interpreter.allocate_tensors()
        return interpreter
    if fmt == "keras":
        try:
            import keras
        except ImportError as error:
            raise ModelBackendUnavailable("keras is not installed") from error
        return keras.models.load_model(str(path), compile=False)
    if fmt == "ultralytics":
        try:
            from ultralytics import YOLO
        except ImportError as error:
            raise ModelBackendUnavailable(
                "ultralytics is not installed (optional AGPL extra)"
            ) from error
        return YOLO(str(path))
    raise UnknownModelFormat(f"format {fmt!r}: use one of {FORMATS}")


@dataclass(frozen=True)
class LoadedModel(Generic[T]):
    """A model ready to serve: its identity, runtime object and settings."""

    info: ModelInfo
    backend: T
    settings: dict[str, Any]


def load_model(
    source: ModelSource,
    cache_dir: Path,
    builtin_path: Path,
    timeout_s: float = 30.0,
) -> LoadedModel[Any]:
    """Fetch, verify and open the source's model with the runtime of its format.

    builtin_path: the packaged model file ``builtin:`` stands for.
    """
    path = fetch_model(source, cache_dir, timeout_s) or builtin_path
    return LoadedModel(
        source.info(), load_backend(path, source.format), source.settings
    )


class ModelSlot(Generic[T]):
    """The model one slot serves; replaced only by a model that loaded and warmed up."""

    def __init__(self, slot: str) -> None:
        self.slot = slot
        self._current: LoadedModel[T] | None = None
        self._lock = threading.Lock()

    def replace(
        self,
        load: Callable[[], LoadedModel[T]],
        warm_up: Callable[[LoadedModel[T]], None],
    ) -> LoadedModel[T]:
        """Load and warm up a candidate; install it only if both succeed.

        Any exception from ``load`` or ``warm_up`` propagates and the current
        model stays in place.
        """
        candidate = load()
        warm_up(candidate)
        with self._lock:
            previous, self._current = self._current, candidate
        log.info(
            "model_installed",
            slot=self.slot,
            model=candidate.info.name,
            version=candidate.info.version,
            replaced=previous.info.version if previous else None,
        )
        return candidate

    @property
    def current(self) -> LoadedModel[T]:
        model = self._current
        if model is None:
            raise NotReady(f"No model is loaded in slot {self.slot!r} yet.")
        return model
