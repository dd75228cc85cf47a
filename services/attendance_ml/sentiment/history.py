"""Short per-session history of each face track, kept in the worker's memory.

A request with a ``sessionId`` adds one sample per face. Faces are followed from
frame to frame as tracks: the largest face takes the request's ``studentId`` when
one is given; the others are matched to the session's anonymous tracks by the
overlap (intersection over union) of their boxes with each track's last box, and
start a new ``face-N`` track when nothing overlaps enough.

History lives in one worker's memory: it is lost on restart and not shared
between pods, so route a session's frames to one pod (or accept per-pod views).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

# Boxes overlapping at least this much (intersection over union) continue a track.
TRACK_MIN_IOU = 0.3
# A track's eye baseline uses only samples this close to frontal (degrees of yaw)
# and not smiling (happiness score below this), where the eye ratio is reliable.
BASELINE_MAX_YAW = 20.0
BASELINE_MAX_HAPPY = 0.5
TIMELINE_POINTS = 60


@dataclass(frozen=True)
class Sample:
    """What one frame measured on one face track."""

    at: float  # seconds since the epoch
    box: tuple[float, float, float, float]
    emotion: str
    engagement: float
    attention: float
    eye_openness: float | None
    yaw: float | None
    happy: float


@dataclass
class Track:
    """The samples of one face (a student or an anonymous face) in a session."""

    track_id: str
    student_id: str | None
    samples: deque[Sample]

    def eye_baseline(self, minimum: int) -> float | None:
        """Median eye openness of the frontal, unsmiling samples; None if too few."""
        values = [
            s.eye_openness
            for s in self.samples
            if s.eye_openness is not None
            and s.yaw is not None
            and abs(s.yaw) <= BASELINE_MAX_YAW
            and s.happy < BASELINE_MAX_HAPPY
        ]
        return float(np.median(values)) if len(values) >= minimum else None

    def summary(self) -> dict:
        samples = list(self.samples)
        engagement = [s.engagement for s in samples]
        attention = [s.attention for s in samples]
        emotions: dict[str, int] = {}
        for sample in samples:
            emotions[sample.emotion] = emotions.get(sample.emotion, 0) + 1
        step = max(1, len(samples) // TIMELINE_POINTS)
        return {
            "trackId": self.track_id,
            "studentId": self.student_id,
            "samples": len(samples),
            "firstSeen": samples[0].at,
            "lastSeen": samples[-1].at,
            "engagement": _stats(engagement),
            "attention": _stats(attention),
            "emotions": dict(sorted(emotions.items(), key=lambda kv: -kv[1])),
            "timeline": [
                {
                    "at": s.at,
                    "engagement": s.engagement,
                    "attention": s.attention,
                    "emotion": s.emotion,
                }
                for s in samples[::-1][::step][::-1]
            ],
        }


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "mean": round(float(np.mean(values)), 4),
        "min": round(min(values), 4),
        "max": round(max(values), 4),
        "latest": round(values[-1], 4),
    }


@dataclass
class Session:
    tracks: dict[str, Track] = field(default_factory=dict)
    next_face: int = 1
    touched: float = 0.0


class SessionHistory:
    """Sessions by id, least recently used first; safe to use from many threads.

    history_length: samples kept per track; max_sessions: sessions kept;
    ttl_seconds: idle time after which a session is dropped.
    clock: seconds since the epoch (tests pass their own).
    """

    def __init__(
        self,
        history_length: int,
        max_sessions: int,
        ttl_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.history_length = history_length
        self.max_sessions = max_sessions
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def assign_tracks(
        self,
        session_id: str,
        student_id: str | None,
        boxes: list[tuple[float, float, float, float]],
        baseline_samples: int,
    ) -> list[tuple[str, float | None]]:
        """Track id and eye baseline for each box (largest first), in order."""
        with self._lock:
            session = self._session(session_id, create=True)
            taken: set[str] = set()
            assigned = []
            for index, box in enumerate(boxes):
                if index == 0 and student_id:
                    track = self._track(session, student_id, student_id)
                else:
                    track = self._match(session, box, taken)
                taken.add(track.track_id)
                assigned.append((track.track_id, track.eye_baseline(baseline_samples)))
            return assigned

    def record(self, session_id: str, track_id: str, sample: Sample) -> None:
        with self._lock:
            session = self._session(session_id, create=True)
            track = session.tracks.get(track_id) or self._track(session, track_id, None)
            track.samples.append(sample)

    def summary(self, session_id: str) -> dict | None:
        """Per-track statistics and timeline, or None for an unknown session."""
        with self._lock:
            session = self._session(session_id, create=False)
            if session is None:
                return None
            tracks = [t for t in session.tracks.values() if t.samples]
            return {"tracks": [track.summary() for track in tracks]}

    def forget(self, session_id: str) -> bool:
        with self._lock:
            return self._sessions.pop(session_id, None) is not None

    def _session(self, session_id: str, create: bool) -> Session | None:
        now = self.clock()
        while self._sessions:
            oldest_id, oldest = next(iter(self._sessions.items()))
            if now - oldest.touched <= self.ttl_seconds:
                break
            del self._sessions[oldest_id]

        session = self._sessions.get(session_id)
        if session is None:
            if not create:
                return None
            session = self._sessions[session_id] = Session()
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
        session.touched = now
        self._sessions.move_to_end(session_id)
        return session

    def _track(self, session: Session, track_id: str, student_id: str | None) -> Track:
        track = session.tracks.get(track_id)
        if track is None:
            track = Track(track_id, student_id, deque(maxlen=self.history_length))
            session.tracks[track_id] = track
        return track

    def _match(
        self, session: Session, box: tuple[float, float, float, float], taken: set[str]
    ) -> Track:
        best, best_iou = None, TRACK_MIN_IOU
        for track in session.tracks.values():
            if track.student_id or track.track_id in taken or not track.samples:
                continue
            overlap = iou(track.samples[-1].box, box)
            if overlap >= best_iou:
                best, best_iou = track, overlap
        if best is not None:
            return best
        track_id = f"face-{session.next_face}"
        session.next_face += 1
        return self._track(session, track_id, None)


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes, 0..1."""
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
