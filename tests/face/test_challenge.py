"""Active liveness: challenge issuing and judging frame readings."""

from __future__ import annotations

import time

from attendance_ml.face.challenge import (
    ACTIONS,
    ChallengeStore,
    FrameReading,
    judge,
)

OPEN, CLOSED = 0.30, 0.08


def frames(*steps: tuple[float, float]) -> list[FrameReading]:
    return [FrameReading(True, True, yaw, eyes) for yaw, eyes in steps]


def test_challenges_are_random_single_use_and_expire():
    store = ChallengeStore(ttl_seconds=60, action_count=3)
    issued = [store.issue(None) for _ in range(30)]

    assert len({c.nonce for c in issued}) == 30
    assert all(set(c.actions) <= set(ACTIONS) for c in issued)
    assert len({c.actions for c in issued}) > 1
    assert store.redeem(issued[0].nonce) is not None
    assert store.redeem(issued[0].nonce) is None

    expiring = ChallengeStore(ttl_seconds=0, action_count=2).issue(None)
    time.sleep(0.01)
    assert ChallengeStore(ttl_seconds=0, action_count=2).redeem(expiring.nonce) is None


def test_actions_in_the_asked_order_pass():
    readings = frames((0, OPEN), (25, OPEN), (0, OPEN), (0, CLOSED), (0, OPEN))

    verdict = judge(("turn_left", "blink"), readings)

    assert verdict.result == "pass"
    assert verdict.observed == ["turn_left", "blink"]


def test_wrong_direction_fails():
    readings = frames((0, OPEN), (-25, OPEN), (0, OPEN), (0, OPEN))

    verdict = judge(("turn_left",), readings)

    assert verdict.result == "fail"
    assert verdict.reasons == ["action_not_seen:turn_left"]


def test_a_still_photo_fails():
    readings = frames(*[(2.0, OPEN)] * 8)

    assert judge(("blink", "turn_right"), readings).result == "fail"


def test_actions_out_of_order_fail():
    readings = frames((0, OPEN), (0, CLOSED), (0, OPEN), (-25, OPEN), (0, OPEN))

    assert judge(("turn_right", "blink"), readings).result == "fail"


def test_another_person_in_the_frames_fails():
    readings = frames((0, OPEN), (25, OPEN))
    readings.append(FrameReading(True, False, 0.0, OPEN))

    verdict = judge(("turn_left",), readings)

    assert verdict.result == "fail"
    assert verdict.reasons == ["different_person_in_frames"]


def test_too_few_usable_frames_are_uncertain():
    readings = [FrameReading(False)] * 5 + frames((0, OPEN))

    assert judge(("blink",), readings).result == "uncertain"


def test_no_face_at_all_fails():
    assert judge(("blink",), [FrameReading(False)] * 4).result == "fail"
