"""Sentiment settings from ATTENDANCE_SENTIMENT_* variables."""

from __future__ import annotations

import pytest
from attendance_ml.core.model_loader import UnknownModelFormat
from attendance_ml.core.settings import SettingError
from attendance_ml.sentiment.settings import SentimentSettings


def test_defaults_use_the_packaged_tflite_emotion_model():
    settings = SentimentSettings.from_env({})

    assert settings.emotion_model.builtin
    assert settings.emotion_model.format == "tflite"
    assert settings.emotion_model.slot == "emotion"
    assert settings.flip_average is True
    assert settings.crop_margin == 1.2


def test_operator_variables_name_the_emotion_model():
    settings = SentimentSettings.from_env(
        {
            "ATTENDANCE_SENTIMENT_MODEL_EMOTION_URI": "file:///models/e.keras",
            "ATTENDANCE_SENTIMENT_MODEL_EMOTION_VERSION": "3.1",
            "ATTENDANCE_SENTIMENT_MODEL_EMOTION_FORMAT": "keras",
            "ATTENDANCE_SENTIMENT_MODEL_EMOTION_SETTINGS": '{"input_range": "0..1"}',
        }
    )

    source = settings.emotion_model
    assert (source.uri, source.version, source.format) == (
        "file:///models/e.keras",
        "3.1",
        "keras",
    )
    assert source.settings == {"input_range": "0..1"}


@pytest.mark.parametrize(
    ("name", "value"),
    [("MAX_FACES", "0"), ("CROP_MARGIN", "9"), ("HISTORY_LENGTH", "-1")],
)
def test_values_that_cannot_work_are_refused(name, value):
    with pytest.raises(SettingError, match=name):
        SentimentSettings.from_env({f"ATTENDANCE_SENTIMENT_{name}": value})


def test_unknown_model_format_is_refused():
    with pytest.raises(UnknownModelFormat):
        SentimentSettings.from_env({"ATTENDANCE_SENTIMENT_MODEL_EMOTION_FORMAT": "pt"})
