"""Attention and engagement: deterministic functions of measured signals.

Both are numbers in 0..1 computed from what the models measured on one face, with
no randomness and no learned weights: the same measurements always give the same
values. They are heuristics built from the literature's usual cues (facing the
front, eyes open, expressive face), not a model validated against labelled
engagement; treat them as indicators to aggregate over time, not verdicts.

attention = facing x eyes, where

- facing = yaw_score x pitch_score. yaw_score is 1 while |yaw| <= 20 degrees and
  falls linearly to 0 at 50; pitch_score is 1 between -15 (looking down) and +20
  degrees and falls linearly to 0 at -45 and +45.
- eyes = 0.25 + 0.75 x eye_score. eye_score is 0 at or below a relative openness
  of 0.5 and 1 at or above 0.8, linear in between. Relative openness is the eye
  aspect ratio over the face's own baseline when its session has one, else over
  POPULATION_EYE_OPENNESS. Both thresholds drop by 0.3 x the happiness score,
  because a broad smile narrows the eyes. Closed eyes keep a quarter of the
  attention: a single frame may catch a blink.

Without the face mesh (a strongly turned or occluded face), yaw is estimated from
the detector's five landmarks and the eye term is left at its middle value.

engagement = attention x (0.5 + 0.5 x expressiveness), where expressiveness is
the emotion scores weighted by EXPRESSIVENESS_WEIGHTS (happy and surprised 1,
neutral 0.6, angry and fearful 0.3, disgusted 0.2, sad 0.1). An attentive,
expressionless face thus reads about 0.8; an attentive smiling one 1.0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from attendance_ml.core.face_detection import DetectedFace
from attendance_ml.core.face_landmarks import FaceGeometry
from attendance_ml.sentiment.emotion import EMOTIONS

# Median eye aspect ratio of frontal faces (|yaw| < 20) over the shared LFW photos.
POPULATION_EYE_OPENNESS = 0.28
EXPRESSIVENESS_WEIGHTS = {
    "angry": 0.3,
    "disgusted": 0.2,
    "fearful": 0.3,
    "happy": 1.0,
    "sad": 0.1,
    "surprised": 1.0,
    "neutral": 0.6,
}
# Ratio of the nose's offset from the eye midpoint to the eye distance at which
# the five-point yaw estimate reads 90 degrees; least-squares fit of
# offset = k sin(yaw) against the mesh's yaw over the shared LFW photos.
_FIVE_POINT_PROFILE_RATIO = 0.62


@dataclass(frozen=True)
class Signals:
    """Attention and engagement of one face, with the terms they came from."""

    attention: float
    engagement: float
    facing: float
    eye_score: float | None
    relative_eye_openness: float | None
    expressiveness: float


def ramp(value: float, zero_at: float, one_at: float) -> float:
    """0 at ``zero_at``, 1 at ``one_at``, linear between and clamped outside."""
    if one_at == zero_at:
        return 1.0 if value >= one_at else 0.0
    return float(np.clip((value - zero_at) / (one_at - zero_at), 0.0, 1.0))


def facing_score(yaw: float, pitch: float) -> float:
    """1 when the head faces the front, 0 when turned or tilted far away."""
    yaw_score = ramp(abs(yaw), 50.0, 20.0)
    if pitch < -15.0:
        pitch_score = ramp(pitch, -45.0, -15.0)
    else:
        pitch_score = ramp(pitch, 45.0, 20.0)
    return yaw_score * pitch_score


def eye_score(relative_openness: float, happiness: float) -> float:
    """0 for closed eyes, 1 for open ones, judged against the face's baseline."""
    smile = 0.3 * float(np.clip(happiness, 0.0, 1.0))
    return ramp(relative_openness, 0.5 - smile, 0.8 - smile)


def expressiveness(scores: dict[str, float]) -> float:
    """Weighted sum of the emotion probabilities, 0..1."""
    return float(sum(EXPRESSIVENESS_WEIGHTS[name] * scores[name] for name in EMOTIONS))


def five_point_yaw(face: DetectedFace) -> float:
    """Rough yaw in degrees from the detector's landmarks (same sign as the mesh's).

    The nose tip's horizontal offset from the eye midpoint, over the eye distance,
    grows with the turn; it is mapped through an arcsine.
    """
    right_eye, left_eye, nose = face.landmarks[0], face.landmarks[1], face.landmarks[2]
    eye_distance = float(np.linalg.norm(left_eye - right_eye))
    if eye_distance <= 0:
        return 0.0
    offset = (nose[0] - (right_eye[0] + left_eye[0]) / 2.0) / eye_distance
    return math.degrees(
        math.asin(float(np.clip(offset / _FIVE_POINT_PROFILE_RATIO, -1, 1)))
    )


def face_signals(
    face: DetectedFace,
    geometry: FaceGeometry | None,
    scores: dict[str, float],
    eye_baseline: float | None,
) -> Signals:
    """Attention and engagement of one face (formulas in the module docstring).

    eye_baseline: the face's own usual eye aspect ratio in this session, or None.
    """
    express = expressiveness(scores)
    if geometry is None:
        facing = facing_score(five_point_yaw(face), 0.0)
        eyes, relative = None, None
        eye_term = 0.25 + 0.75 * 0.5
    else:
        facing = facing_score(geometry.yaw, geometry.pitch)
        relative = geometry.eye_openness / (eye_baseline or POPULATION_EYE_OPENNESS)
        eyes = eye_score(relative, scores["happy"])
        eye_term = 0.25 + 0.75 * eyes

    attention = facing * eye_term
    return Signals(
        attention=attention,
        engagement=attention * (0.5 + 0.5 * express),
        facing=facing,
        eye_score=eyes,
        relative_eye_openness=relative,
        expressiveness=express,
    )
