"""Review storage: modes, per-session counts, listing, fetching and retention."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from attendance_ml.core.errors import InvalidRequest, NotFound
from attendance_ml.detection.detections import Detection
from attendance_ml.detection.review_store import ReviewStore

from tests.detection.conftest import as_data_url, card_frame

FRAME = np.full((48, 64, 3), 128, np.uint8)
HIT = [Detection("cell phone", 0.9, (1.0, 2.0, 30.0, 40.0))]
MODEL = {"slot": "phone_detector", "name": "m", "version": "1"}


def store(tmp_path, mode: str, max_bytes: int = 10_000_000) -> ReviewStore:
    return ReviewStore(tmp_path / "review", mode, max_age_hours=1, max_bytes=max_bytes)


def test_positives_mode_keeps_hits_and_counts_everything(tmp_path):
    review = store(tmp_path, "positives")

    kept = review.record("lesson-1", "phone", FRAME, HIT, MODEL, "primary")
    skipped = review.record("lesson-1", "phone", FRAME, [], MODEL, "primary")

    assert kept is not None and skipped is None
    session = review.session("lesson-1")
    assert session["counts"] == {"phone": {"analysed": 2, "positive": 1}}
    assert [item["id"] for item in session["items"]] == [kept]
    assert session["items"][0]["detections"] == [
        {"label": "cell phone", "confidence": 0.9, "box": [1, 2, 30, 40]}
    ]
    assert review.image_path("lesson-1", kept).read_bytes()[:3] == b"\xff\xd8\xff"


def test_off_mode_keeps_no_image(tmp_path):
    review = store(tmp_path, "off")

    assert review.record("lesson-1", "idcard", FRAME, HIT, MODEL, "primary") is None
    assert review.session("lesson-1")["items"] == []
    assert not list((tmp_path / "review").glob("*/*.jpg"))


def test_retention_removes_old_items_then_oldest_over_the_cap(tmp_path):
    review = store(tmp_path, "all")
    first = review.record("s", "phone", FRAME, HIT, MODEL, "primary")
    second = review.record("s", "phone", FRAME, HIT, MODEL, "primary")
    third = review.record("s", "phone", FRAME, HIT, MODEL, "primary")
    old = time.time() - 2 * 3600
    os.utime(review.image_path("s", first), (old, old))
    size = review.image_path("s", third).stat().st_size
    review.max_bytes = size  # room for one image only
    os.utime(review.image_path("s", second), (time.time() - 60,) * 2)

    assert review.prune() == 2
    assert [item["id"] for item in review.session("s")["items"]] == [third]


def test_unknown_item_and_bad_session_are_refused(tmp_path):
    review = store(tmp_path, "all")

    with pytest.raises(NotFound):
        review.image_path("s", "phone-0000000000000-deadbeef")
    with pytest.raises(NotFound):
        review.image_path("s", "../../secret")
    with pytest.raises(InvalidRequest):
        review.session("../x")


def test_review_endpoints_list_and_serve_a_session(client):
    frame = as_data_url(card_frame())
    answer = client.post(
        "/api/object-detection/idcard", json={"image": frame, "sessionId": "room-7"}
    ).get_json()

    listing = client.get("/api/object-detection/sessions/room-7/review").get_json()
    image = client.get(
        f"/api/object-detection/sessions/room-7/review/{answer['reviewId']}/image"
    )
    missing = client.get(
        "/api/object-detection/sessions/room-7/review/idcard-0000000000000-00000000/image"
    )

    assert listing["counts"] == {"idcard": {"analysed": 1, "positive": 1}}
    assert listing["items"][0]["id"] == answer["reviewId"]
    assert listing["items"][0]["path"] == "primary"
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert missing.status_code == 404 and missing.get_json()["code"] == "not_found"
