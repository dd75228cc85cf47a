"""Attention and engagement formulas: documented, deterministic, bounded."""

from __future__ import annotations

import numpy as np
import pytest
from attendance_ml.core.face_detection import DetectedFace
from attendance_ml.core.face_landmarks import FaceGeometry
from attendance_ml.sentiment.signals import (
    POPULATION_EYE_OPENNESS,
    eye_score,
    face_signals,
    facing_score,
    five_point_yaw,
    ramp,
)

NEUTRAL = {e: 0.0 for e in ("angry", "disgusted", "fearful", "sad", "surprised")} | {
    "happy": 0.0,
    "neutral": 1.0,
}
HAPPY = NEUTRAL | {"happy": 1.0, "neutral": 0.0}
SAD = NEUTRAL | {"sad": 1.0, "neutral": 0.0}


def geometry(yaw=0.0, pitch=0.0, eyes=POPULATION_EYE_OPENNESS) -> FaceGeometry:
    return FaceGeometry(yaw, pitch, 0.0, eyes, eyes, np.zeros((478, 2), np.float32))


def face(nose_x: float = 50.0) -> DetectedFace:
    points = np.array(
        [[30, 40], [70, 40], [nose_x, 60], [35, 80], [65, 80]], np.float32
    )
    return DetectedFace((0.0, 0.0, 100.0, 120.0), 0.99, points)


def test_ramp_is_linear_between_its_ends_and_clamped_outside():
    assert ramp(5, 0, 10) == 0.5
    assert ramp(-1, 0, 10) == 0.0
    assert ramp(11, 0, 10) == 1.0
    assert ramp(35, 50, 20) == 0.5


@pytest.mark.parametrize(
    ("yaw", "pitch", "expected"),
    [
        (0, 0, 1.0),
        (20, 0, 1.0),
        (-35, 0, 0.5),
        (60, 0, 0.0),
        (0, -30, 0.5),
        (0, 45, 0.0),
    ],
)
def test_facing_score_follows_the_documented_ramps(yaw, pitch, expected):
    assert facing_score(yaw, pitch) == pytest.approx(expected)


def test_smile_lowers_the_eye_thresholds():
    assert eye_score(0.5, happiness=0.0) == 0.0
    assert eye_score(0.8, happiness=0.0) == 1.0
    assert eye_score(0.5, happiness=1.0) == 1.0


def test_frontal_open_eyed_neutral_face_is_attentive():
    signals = face_signals(face(), geometry(), NEUTRAL, eye_baseline=None)

    assert signals.attention == 1.0
    assert signals.engagement == pytest.approx(0.8)
    assert signals.relative_eye_openness == pytest.approx(1.0)


def test_closed_eyes_keep_a_quarter_of_the_attention():
    signals = face_signals(face(), geometry(eyes=0.05), NEUTRAL, eye_baseline=None)

    assert signals.attention == pytest.approx(0.25)


def test_turned_head_loses_attention():
    turned = face_signals(face(), geometry(yaw=45.0), NEUTRAL, eye_baseline=None)

    assert turned.attention == pytest.approx(1 / 6)


def test_own_baseline_replaces_the_population_one():
    narrow = geometry(eyes=0.16)

    alone = face_signals(face(), narrow, NEUTRAL, eye_baseline=None)
    with_baseline = face_signals(face(), narrow, NEUTRAL, eye_baseline=0.17)

    assert alone.attention < 0.6
    assert with_baseline.attention == 1.0


def test_expression_moves_engagement_but_not_attention():
    happy = face_signals(face(), geometry(), HAPPY, eye_baseline=None)
    sad = face_signals(face(), geometry(), SAD, eye_baseline=None)

    assert happy.attention == sad.attention == 1.0
    assert happy.engagement == 1.0
    assert sad.engagement == pytest.approx(0.55)


def test_five_point_yaw_has_the_mesh_sign():
    assert five_point_yaw(face(nose_x=50.0)) == 0.0
    assert five_point_yaw(face(nose_x=60.0)) > 20
    assert five_point_yaw(face(nose_x=40.0)) < -20


def test_without_a_mesh_attention_comes_from_the_five_points():
    frontal = face_signals(face(), None, NEUTRAL, eye_baseline=None)
    profile = face_signals(face(nose_x=75.0), None, NEUTRAL, eye_baseline=None)

    assert frontal.attention == pytest.approx(0.625)
    assert frontal.eye_score is None
    assert profile.attention == 0.0
