"""Per-session history: tracks, eye baselines and the summary endpoint."""

from __future__ import annotations

import cv2
import pytest
from sentiment_support import file_data_url, png_b64


def analyze(client, image, **fields):
    return client.post("/api/sentiment/analyze", json={"image": image, **fields})


def test_student_track_builds_an_eye_baseline_and_a_summary(client, hopper):
    image = png_b64(hopper)

    answers = [
        analyze(client, image, sessionId="lesson-7", studentId="s-42").get_json()
        for _ in range(6)
    ]

    first, last = answers[0]["results"][0], answers[-1]["results"][0]
    assert answers[0]["sessionId"] == "lesson-7"
    assert answers[0]["studentId"] == "s-42"
    assert first["trackId"] == last["trackId"] == "s-42"
    assert first["eyeOpenness"]["baseline"] is None
    assert last["eyeOpenness"]["baseline"] == pytest.approx(
        first["eyeOpenness"]["mean"], abs=1e-4
    )
    assert last["eyeOpenness"]["relative"] == pytest.approx(1.0, abs=1e-3)

    response = client.get("/api/sentiment/sessions/lesson-7/summary")
    assert response.status_code == 200
    summary = response.get_json()
    assert list(summary) == ["success", "message", "sessionId", "tracks"]
    assert summary["sessionId"] == "lesson-7"
    [track] = summary["tracks"]
    assert track["trackId"] == "s-42"
    assert track["studentId"] == "s-42"
    assert track["samples"] == 6
    assert track["emotions"] == {first["emotions"]["primary_emotion"]: 6}
    assert track["attention"]["latest"] == last["attention"]
    assert track["engagement"]["latest"] == last["engagement"]
    assert len(track["timeline"]) == 6
    assert track["firstSeen"] <= track["lastSeen"]


def test_anonymous_faces_keep_their_track_while_they_move_a_little(client, hopper):
    shifted = cv2.copyMakeBorder(hopper, 0, 0, 12, 0, cv2.BORDER_REPLICATE)

    one = analyze(client, png_b64(hopper), sessionId="moving").get_json()
    two = analyze(client, png_b64(shifted), sessionId="moving").get_json()

    assert one["results"][0]["trackId"] == two["results"][0]["trackId"] == "face-1"


def test_without_a_session_no_track_is_kept(client, hopper):
    body = analyze(client, png_b64(hopper)).get_json()

    assert "trackId" not in body["results"][0]
    assert "sessionId" not in body


def test_unknown_session_summary_is_not_found(client):
    response = client.get("/api/sentiment/sessions/never-seen/summary")

    assert response.status_code == 404
    body = response.get_json()
    assert body == {
        "success": False,
        "message": "No history for session 'never-seen'.",
        "code": "not_found",
        "requestId": body["requestId"],
    }


def test_forgotten_session_has_no_summary(client, hopper):
    analyze(client, png_b64(hopper), sessionId="to-forget")

    deleted = client.delete("/api/sentiment/sessions/to-forget")
    summary = client.get("/api/sentiment/sessions/to-forget/summary")

    assert deleted.status_code == 200
    assert summary.status_code == 404


@pytest.mark.data
def test_group_photo_gives_one_track_per_face(client, shared_data):
    path = shared_data / "faces" / "deepface_dataset" / "couple.jpg"

    for _ in range(2):
        body = analyze(client, file_data_url(path), sessionId="couple").get_json()

    assert [r["trackId"] for r in body["results"]] == ["face-1", "face-2"]
    summary = client.get("/api/sentiment/sessions/couple/summary").get_json()
    assert [(t["trackId"], t["samples"]) for t in summary["tracks"]] == [
        ("face-1", 2),
        ("face-2", 2),
    ]
