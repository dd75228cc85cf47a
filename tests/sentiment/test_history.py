"""SessionHistory: tracks, baselines, eviction by age and by count."""

from __future__ import annotations

import pytest
from attendance_ml.sentiment.history import Sample, SessionHistory, iou


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def sample(clock, box=(0, 0, 10, 10), eyes=0.25, yaw=0.0, happy=0.0) -> Sample:
    return Sample(clock(), box, "neutral", 0.7, 0.9, eyes, yaw, happy)


def test_iou_of_boxes():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)
    assert iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0


def test_baseline_needs_enough_frontal_unsmiling_samples():
    clock = Clock()
    history = SessionHistory(50, 10, 60.0, clock)
    for eyes in (0.2, 0.22, 0.24):
        history.record("s", "st", sample(clock, eyes=eyes))
    history.record("s", "st", sample(clock, eyes=0.1, yaw=40.0))
    history.record("s", "st", sample(clock, eyes=0.1, happy=0.9))

    [(track, too_few)] = history.assign_tracks("s", "st", [(0, 0, 10, 10)], 4)
    [(_, baseline)] = history.assign_tracks("s", "st", [(0, 0, 10, 10)], 3)

    assert track == "st"
    assert too_few is None
    assert baseline == pytest.approx(0.22)


def test_overlapping_boxes_continue_anonymous_tracks():
    clock = Clock()
    history = SessionHistory(50, 10, 60.0, clock)
    boxes = [(0, 0, 10, 10), (50, 0, 60, 10)]
    for track, _ in history.assign_tracks("s", None, boxes, 5):
        history.record("s", track, sample(clock, box=boxes[int(track[-1]) - 1]))

    moved = [(51, 1, 61, 11), (1, 0, 11, 10), (100, 100, 110, 110)]
    assigned = [track for track, _ in history.assign_tracks("s", None, moved, 5)]

    assert assigned == ["face-2", "face-1", "face-3"]


def test_idle_sessions_expire_and_the_oldest_is_dropped_beyond_the_limit():
    clock = Clock()
    history = SessionHistory(50, 2, 60.0, clock)
    for name in ("a", "b", "c"):
        history.record(name, "t", sample(clock))
    assert history.summary("a") is None
    assert history.summary("b") is not None

    clock.now += 61
    assert history.summary("c") is None


def test_a_track_keeps_only_the_latest_samples():
    clock = Clock()
    history = SessionHistory(3, 10, 60.0, clock)
    for step in range(5):
        clock.now = 1000.0 + step
        history.record("s", "t", sample(clock))

    [track] = history.summary("s")["tracks"]

    assert track["samples"] == 3
    assert track["firstSeen"] == 1002.0
