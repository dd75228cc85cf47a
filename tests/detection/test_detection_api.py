"""The detection endpoints with the built-in models: answers, bounds, concurrency."""

from __future__ import annotations

import base64
import io
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.detection.conftest import as_data_url, blank_frame, card_frame

PHONE_MODEL = {
    "slot": "phone_detector",
    "name": "centernet-mobilenetv3",
    "version": "human-models-3.0.4-onnx-opset17",
}


def test_ready_lists_both_slots(client):
    reply = client.get("/health/ready")

    assert reply.status_code == 200
    models = reply.get_json()["models"]
    assert models[0] == PHONE_MODEL
    assert models[1]["slot"] == "idcard_detector"
    assert models[1]["name"] == "idcard-pipeline"


def test_phone_on_empty_frame_answers_no_phone(client):
    reply = client.post(
        "/api/object-detection/phone", json={"image": as_data_url(blank_frame())}
    )

    assert reply.status_code == 200
    assert reply.get_json() == {
        "success": True,
        "message": "No phone detected.",
        "phoneDetected": False,
        "detections": [],
        "model": PHONE_MODEL,
        "path": "primary",
        "minConfidence": 0.3,
        "labels": ["cell phone"],
        "sessionId": None,
        "reviewId": None,
    }


def test_held_card_with_print_is_found_by_ocr(client):
    reply = client.post(
        "/api/object-detection/idcard", json={"image": as_data_url(card_frame())}
    )

    body = reply.get_json()
    assert reply.status_code == 200
    assert body["idCardVisible"] is True
    assert body["message"] == "ID card visible."
    assert body["path"] == "primary"
    card = body["detections"][0]
    assert card["label"] == "id card"
    assert card["confidence"] >= 0.5
    x1, y1, x2, y2 = card["box"]
    assert abs(x1 - 150) <= 6 and abs(y1 - 130) <= 6
    assert abs(x2 - 490) <= 6 and abs(y2 - 344) <= 6


def test_idcard_on_empty_frame_answers_not_visible(client):
    reply = client.post(
        "/api/object-detection/idcard", json={"image": as_data_url(blank_frame())}
    )

    body = reply.get_json()
    assert reply.status_code == 200
    assert (body["idCardVisible"], body["detections"]) == (False, [])
    assert body["minConfidence"] == 0.2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"minConfidence": 1.5}, "minConfidence must be a number from 0.05 to 1."),
        ({"minConfidence": "high"}, "minConfidence must be a number from 0.05 to 1."),
        ({"minConfidence": 0.01}, "minConfidence must be a number from 0.05 to 1."),
        ({"labels": []}, "labels must be a non-empty list of class names."),
        ({"sessionId": "../etc"}, None),
    ],
)
def test_out_of_bounds_options_are_refused(client, extra, message):
    body = {"image": as_data_url(blank_frame()), **extra}

    reply = client.post("/api/object-detection/phone", json=body)

    assert reply.status_code == 400
    answer = reply.get_json()
    assert answer["code"] == "invalid_request"
    assert answer["success"] is False
    if message:
        assert answer["message"] == message


def test_label_outside_allowed_set_is_refused(client):
    body = {"image": as_data_url(blank_frame()), "labels": ["dog"]}

    reply = client.post("/api/object-detection/phone", json=body)

    answer = reply.get_json()
    assert reply.status_code == 400
    assert (
        answer["message"] == "labels must be among: book, cell phone, laptop, person."
    )
    assert answer["details"] == {"unknown": ["dog"]}


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({}, 400, "missing_image"),
        ({"image": "bm90IGFuIGltYWdl"}, 415, "unsupported_format"),
        ({"image": "%%%"}, 400, "invalid_base64"),
        ({"image": "file:///etc/passwd"}, 400, "invalid_base64"),
        (
            {"image": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA"},
            422,
            "corrupt_image",
        ),
    ],
)
def test_bad_images_get_core_errors(client, payload, status, code):
    for endpoint in ("phone", "idcard"):
        reply = client.post(f"/api/object-detection/{endpoint}", json=payload)

        assert reply.status_code == status
        assert reply.get_json()["code"] == code


def test_parallel_requests_each_get_their_own_detections(detection_app):
    frames = [card_frame(), blank_frame()] * 3

    def ask(frame):
        client = detection_app.test_client()
        reply = client.post(
            "/api/object-detection/idcard", json={"image": as_data_url(frame)}
        )
        return reply.status_code, reply.get_json()["idCardVisible"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(ask, frames))

    assert answers == [(200, True), (200, False)] * 3


def test_multipart_upload_with_text_fields_is_accepted(client):
    png = base64.b64decode(as_data_url(blank_frame()).split(",", 1)[1])
    form = {
        "image": (io.BytesIO(png), "frame.png"),
        "minConfidence": "0.5",
        "labels": "cell phone,laptop",
    }

    reply = client.post(
        "/api/object-detection/phone", data=form, content_type="multipart/form-data"
    )

    body = reply.get_json()
    assert reply.status_code == 200
    assert (body["minConfidence"], body["labels"]) == (0.5, ["cell phone", "laptop"])
    assert body["phoneDetected"] is False
