"""The optional TensorFlow backend: Keras files and SavedModel directories.

Runs where requirements/sentiment-tensorflow.optional.txt is installed (CI installs
it in scripts/ci.d/50-sentiment.sh); elsewhere it skips.
"""

from __future__ import annotations

import hashlib
import shutil

import numpy as np
import pytest
from attendance_ml.core.metrics import ModelInfo
from attendance_ml.core.model_loader import ModelSource
from attendance_ml.sentiment.emotion import (
    TensorFlowRuntime,
    load_emotion_model,
    packaged_model_path,
)

tf = pytest.importorskip(
    "tensorflow",
    reason="TensorFlow not installed: pip install -r "
    "requirements/sentiment-tensorflow.optional.txt",
)


@pytest.fixture(scope="module")
def crops() -> np.ndarray:
    """Two grey 64x64 crops with structure (a gradient and its transpose)."""
    ramp = np.tile(np.linspace(0, 255, 64, dtype=np.float32), (64, 1))
    return np.stack([ramp, ramp.T]).astype(np.uint8)[..., np.newaxis]


def test_packaged_keras_model_agrees_with_its_tflite_copy(tmp_path, crops):
    keras_model = load_emotion_model(
        ModelSource("emotion", "builtin:", "builtin", "keras"), tmp_path, threads=1
    )
    tflite_model = load_emotion_model(
        ModelSource("emotion", "builtin:", "builtin", "tflite"), tmp_path, threads=1
    )

    assert keras_model.info == ModelInfo(
        "emotion", "fer-mini-xception-keras", "25.10.3"
    )
    assert isinstance(keras_model.runtime, TensorFlowRuntime)
    np.testing.assert_allclose(
        keras_model.scores(crops), tflite_model.scores(crops), atol=0.03
    )


def test_delivered_keras_file_loads_with_its_checksum(tmp_path, crops):
    path = tmp_path / "emotion-keras-v4.h5"
    shutil.copy(packaged_model_path("keras"), path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    source = ModelSource("emotion", path.as_uri(), "4.0", "keras", digest)

    model = load_emotion_model(source, tmp_path / "cache", threads=1)

    assert model.info == ModelInfo("emotion", "emotion-keras-v4", "4.0")
    assert model.scores(crops).sum(axis=1) == pytest.approx([1.0, 1.0], abs=1e-4)


def test_savedmodel_directory_gives_the_keras_answers(tmp_path, crops):
    keras_model = tf.keras.models.load_model(
        str(packaged_model_path("keras")), compile=False
    )
    exported = tmp_path / "emotion-savedmodel"
    keras_model.export(str(exported), verbose=False)
    source = ModelSource(
        "emotion", exported.as_uri(), "5.0", "keras", settings={"name": "fer-sm"}
    )
    builtin = load_emotion_model(
        ModelSource("emotion", "builtin:", "builtin", "keras"), tmp_path, threads=1
    )

    model = load_emotion_model(source, tmp_path / "cache", threads=1)

    assert model.info == ModelInfo("emotion", "fer-sm", "5.0")
    assert (model.input_size, model.channels) == ((64, 64), 1)
    np.testing.assert_allclose(model.scores(crops), builtin.scores(crops), atol=1e-5)
