"""Active liveness: a nonce and a random sequence of actions the person performs.

The service issues a challenge (single-use nonce, expiry, 2+ actions drawn with a
cryptographic random generator from blink, turn_left, turn_right). The client films
the person doing them and sends the frames in order. The service answers:

- pass: the same person is in every frame (and is the claimed student, if any),
  every action was seen in the asked order, starting from a frontal baseline;
- fail: a different person appears, no face at all, or the actions were not seen
  though the frames were usable (a photo or a looped video cannot follow a random
  order it did not know in advance);
- uncertain: too few usable frames to tell.

Turns use the mesh yaw (positive = the subject's own left); a blink is the eye
openness falling below ``BLINK_DROP`` of the person's own open-eye baseline and
coming back. Challenges live in this worker's memory: with several replicas, send
the frames to the replica that issued the challenge (sticky sessions) or they are
refused as unknown.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

ACTIONS = ("blink", "turn_left", "turn_right")
TURN_DEGREES = 18.0
FRONTAL_DEGREES = 12.0
BLINK_DROP = 0.6
BLINK_RECOVER = 0.8
MIN_USABLE_FRAMES = 3


@dataclass
class Challenge:
    nonce: str
    actions: tuple[str, ...]
    student_id: str | None
    expires_at: float
    used: bool = False

    def as_dict(self) -> dict:
        return {
            "challengeId": self.nonce,
            "actions": list(self.actions),
            "studentId": self.student_id,
            "expiresAt": int(self.expires_at),
            "expiresInSeconds": max(0, int(self.expires_at - time.time())),
        }


@dataclass(frozen=True)
class FrameReading:
    """What one frame showed: the subject's yaw and eye openness, if a face was seen."""

    has_face: bool
    same_person: bool = True
    yaw: float | None = None
    eye_openness: float | None = None


@dataclass
class ChallengeVerdict:
    result: str  # pass | fail | uncertain
    reasons: list[str] = field(default_factory=list)
    observed: list[str] = field(default_factory=list)


class ChallengeStore:
    """Issued challenges of this worker, expiring and single-use."""

    def __init__(self, ttl_seconds: int, action_count: int, capacity: int = 10_000):
        self.ttl_seconds = ttl_seconds
        self.action_count = max(1, action_count)
        self.capacity = capacity
        self._challenges: dict[str, Challenge] = {}
        self._lock = threading.Lock()

    def issue(self, student_id: str | None) -> Challenge:
        actions: list[str] = []
        while len(actions) < self.action_count:
            action = secrets.choice(ACTIONS)
            if not actions or action != actions[-1]:
                actions.append(action)
        challenge = Challenge(
            nonce=secrets.token_urlsafe(18),
            actions=tuple(actions),
            student_id=student_id,
            expires_at=time.time() + self.ttl_seconds,
        )
        with self._lock:
            self._purge()
            if len(self._challenges) >= self.capacity:
                oldest = min(self._challenges.values(), key=lambda c: c.expires_at)
                del self._challenges[oldest.nonce]
            self._challenges[challenge.nonce] = challenge
        return challenge

    def redeem(self, nonce: str) -> Challenge | None:
        """Take a challenge out for answering; None if unknown, expired or used."""
        with self._lock:
            self._purge()
            challenge = self._challenges.pop(nonce, None)
        if challenge is None or challenge.used or challenge.expires_at < time.time():
            return None
        challenge.used = True
        return challenge

    def _purge(self) -> None:
        now = time.time()
        for nonce in [n for n, c in self._challenges.items() if c.expires_at < now]:
            del self._challenges[nonce]


def judge(actions: tuple[str, ...], frames: list[FrameReading]) -> ChallengeVerdict:
    """Decide pass, fail or uncertain from the per-frame readings, in order."""
    usable = [frame for frame in frames if frame.has_face and frame.yaw is not None]
    if any(frame.has_face and not frame.same_person for frame in frames):
        return ChallengeVerdict("fail", ["different_person_in_frames"])
    if not any(frame.has_face for frame in frames):
        return ChallengeVerdict("fail", ["no_face_in_frames"])
    if len(usable) < MIN_USABLE_FRAMES:
        return ChallengeVerdict("uncertain", ["too_few_usable_frames"])

    baseline = _open_eye_baseline(usable)
    if baseline is None:
        return ChallengeVerdict("uncertain", ["no_frontal_baseline_frame"])

    observed = _observed_actions(usable, baseline)
    position = 0
    for action in observed:
        if position < len(actions) and action == actions[position]:
            position += 1
    if position == len(actions):
        return ChallengeVerdict("pass", [], observed)
    missing = list(actions[position:])
    return ChallengeVerdict("fail", [f"action_not_seen:{a}" for a in missing], observed)


def _open_eye_baseline(frames: list[FrameReading]) -> float | None:
    frontal = [
        f.eye_openness
        for f in frames
        if abs(f.yaw or 0.0) <= FRONTAL_DEGREES and f.eye_openness is not None
    ]
    if not frontal:
        return None
    return float(sorted(frontal)[len(frontal) * 3 // 4])


def _observed_actions(frames: list[FrameReading], baseline: float) -> list[str]:
    """Actions in the order they began; a turn counts once until the head returns."""
    observed: list[str] = []
    pose = "frontal"
    eyes_closed = False
    for frame in frames:
        yaw = frame.yaw or 0.0
        if yaw >= TURN_DEGREES and pose != "left":
            pose = "left"
            observed.append("turn_left")
        elif yaw <= -TURN_DEGREES and pose != "right":
            pose = "right"
            observed.append("turn_right")
        elif abs(yaw) <= FRONTAL_DEGREES:
            pose = "frontal"

        openness = frame.eye_openness
        if openness is None or abs(yaw) > FRONTAL_DEGREES:
            continue
        if not eyes_closed and openness < BLINK_DROP * baseline:
            eyes_closed = True
        elif eyes_closed and openness >= BLINK_RECOVER * baseline:
            eyes_closed = False
            observed.append("blink")
    return observed
