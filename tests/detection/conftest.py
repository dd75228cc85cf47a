"""Fixtures of the detection tests: one app with real models, synthetic frames."""

from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest
from attendance_ml.detection.app import create_app


def as_data_url(rgb: np.ndarray) -> str:
    """A PNG data URL of an RGB uint8 frame."""
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return "data:image/png;base64," + base64.b64encode(encoded.tobytes()).decode()


def card_frame() -> np.ndarray:
    """A 640x480 frame with a white ID-1 shaped card bearing three printed lines."""
    frame = np.full((480, 640, 3), (70, 80, 90), np.uint8)
    cv2.rectangle(frame, (150, 130), (490, 344), (250, 250, 250), -1)
    for row, text in enumerate(("STUDENT CARD", "ANNA MEYER", "No 2024 0153")):
        cv2.putText(
            frame,
            text,
            (175, 185 + row * 55),
            cv2.FONT_HERSHEY_SIMPLEX,
            1.1,
            (20, 20, 20),
            2,
            cv2.LINE_AA,
        )
    return frame


def blank_frame() -> np.ndarray:
    """A 640x480 frame of flat grey: nothing to detect."""
    return np.full((480, 640, 3), (70, 80, 90), np.uint8)


def detection_environ(data_dir, **extra: str) -> dict[str, str]:
    environ = {
        "ATTENDANCE_DETECTION_LOAD_IN_BACKGROUND": "0",
        "ATTENDANCE_DATA_DIR": str(data_dir),
        "ATTENDANCE_DETECTION_LOG_LEVEL": "WARNING",
    }
    environ.update(extra)
    return environ


@pytest.fixture(scope="session")
def detection_app(tmp_path_factory):
    """The service with its built-in models, keeping every frame for review."""
    data_dir = tmp_path_factory.mktemp("detection-data")
    app = create_app(
        detection_environ(
            data_dir,
            ATTENDANCE_DETECTION_REVIEW_MODE="all",
            ATTENDANCE_DETECTION_ALLOWED_LABELS="cell phone,laptop,book,person",
        )
    )
    return app


@pytest.fixture()
def client(detection_app):
    return detection_app.test_client()
