"""Bad input to the face service answers with the one JSON error shape, never a 500."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image
from tests_face_support import b64_array, tiny_png_claiming


def error_body(response) -> dict:
    body = response.get_json()
    assert set(body) >= {"success", "message", "code"}
    assert body["success"] is False
    assert isinstance(body["message"], str) and body["message"]
    return body


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"image": "!!!not base64!!!"}, 400, "invalid_base64"),
        ({"image": "/etc/passwd"}, 400, "invalid_base64"),
        ({"image": "http://127.0.0.1:1/face.jpg"}, 400, "invalid_base64"),
        ({"image": 12345}, 400, "invalid_base64"),
        ({}, 400, "missing_image"),
        (
            {"image": base64.b64encode(b"hello, not an image" * 5).decode()},
            415,
            "unsupported_format",
        ),
        (
            {"image": base64.b64encode(tiny_png_claiming(40_000, 40_000)).decode()},
            413,
            "image_too_large",
        ),
    ],
)
def test_verify_rejects_bad_images_with_stable_codes(client, payload, status, code):
    response = client.post("/api/face/verify", json=payload)

    assert response.status_code == status
    assert error_body(response)["code"] == code
    assert response.headers["X-Request-ID"]


def test_truncated_jpeg_is_corrupt_image(client, hopper):
    data = base64.b64decode(b64_array(hopper))
    truncated = base64.b64encode(data[: len(data) // 3]).decode()

    response = client.post("/api/face/verify", json={"image": truncated})

    assert response.status_code == 422
    assert error_body(response)["code"] == "corrupt_image"


def test_body_that_is_not_json_is_refused(client):
    response = client.post(
        "/api/face/verify", data="{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert error_body(response)["code"] == "invalid_request"


def test_json_array_body_is_refused(client):
    response = client.post("/api/face/verify", json=["image"])

    assert response.status_code == 400
    assert error_body(response)["code"] == "invalid_request"


def test_blank_wall_has_no_face(client):
    wall = np.full((480, 640, 3), 200, dtype=np.uint8)
    wall[::8] = 180

    response = client.post("/api/face/verify", json={"image": b64_array(wall)})

    assert response.status_code == 422
    assert error_body(response)["code"] == "no_face"


def test_tiny_face_is_too_small(client, hopper):
    small = np.asarray(Image.fromarray(hopper).resize((40, 52)))
    canvas = np.full((480, 640, 3), 230, dtype=np.uint8)
    canvas[200:252, 300:340] = small

    response = client.post(
        "/api/face/register", json={"studentId": "s-tiny", "image": b64_array(canvas)}
    )

    assert response.status_code == 422
    assert error_body(response)["code"] in ("face_too_small", "no_face")


def test_register_requires_a_valid_student_id(client, hopper):
    for student_id in (None, "", "../../etc", "a" * 200, "semi;colon"):
        response = client.post(
            "/api/face/register",
            json={"studentId": student_id, "image": b64_array(hopper)},
        )
        assert response.status_code == 400
        assert error_body(response)["code"] == "invalid_request"


def test_images_must_be_a_list(client, hopper):
    response = client.post(
        "/api/face/register", json={"studentId": "s1", "images": b64_array(hopper)}
    )

    assert response.status_code == 400
    assert error_body(response)["code"] == "invalid_request"


def test_too_many_images_are_refused(client, hopper):
    photo = b64_array(hopper)
    response = client.post(
        "/api/face/register", json={"studentId": "s1", "images": [photo] * 11}
    )

    assert response.status_code == 400
    assert error_body(response)["code"] == "invalid_request"


def test_unknown_student_is_404(client, hopper):
    response = client.post(
        "/api/face/verify", json={"studentId": "nobody", "image": b64_array(hopper)}
    )

    assert response.status_code == 404
    assert error_body(response)["code"] == "unknown_student"


def test_delete_of_unknown_student_is_404(client):
    response = client.delete("/api/face/students/nobody")

    assert response.status_code == 404
    assert error_body(response)["code"] == "unknown_student"


def test_unknown_route_and_method_are_json(client):
    assert error_body(client.get("/api/face/nothing-here"))["code"] == "not_found"
    response = client.get("/api/face/verify")
    assert response.status_code == 405
    assert error_body(response)["code"] == "method_not_allowed"


def test_multipart_upload_is_accepted(client, hopper):
    buffer = io.BytesIO()
    Image.fromarray(hopper).save(buffer, format="PNG")
    buffer.seek(0)

    response = client.post(
        "/api/face/analyze",
        data={"image": (buffer, "photo.png", "image/jpeg")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 200
    assert response.get_json()["faceCount"] == 1


def test_transparent_png_is_analysed(client, hopper):
    rgba = np.dstack([hopper, np.full(hopper.shape[:2], 255, np.uint8)])
    rgba[:40, :, 3] = 0

    response = client.post(
        "/api/face/analyze",
        json={"image": "data:image/png;base64," + b64_array(rgba, "PNG")},
    )

    assert response.status_code == 200
    assert response.get_json()["faceCount"] == 1


def test_grey_and_palette_images_are_analysed(client, hopper):
    grey = Image.fromarray(hopper).convert("L")
    palette = Image.fromarray(hopper).convert("P")
    for image in (grey, palette):
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        response = client.post(
            "/api/face/analyze",
            json={"image": base64.b64encode(buffer.getvalue()).decode()},
        )
        assert response.status_code == 200
        assert response.get_json()["faceCount"] == 1


def test_rotated_phone_photo_is_turned_upright(client, hopper):
    sideways = Image.fromarray(np.rot90(hopper, k=1))  # as a phone sensor stores it
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    sideways.save(buffer, format="JPEG", exif=exif)

    response = client.post(
        "/api/face/analyze",
        json={"image": base64.b64encode(buffer.getvalue()).decode()},
    )

    body = response.get_json()
    assert response.status_code == 200
    assert body["imageSize"] == {"width": hopper.shape[1], "height": hopper.shape[0]}
    assert body["faceCount"] == 1
    assert abs(body["faces"][0]["headPose"]["roll"]) < 20


@pytest.mark.parametrize("student_id", ["s-001\n", " s-001", "s 001", "s-001\t"])
def test_student_ids_with_whitespace_or_control_characters_are_refused(
    client, hopper, student_id
):
    response = client.post(
        "/api/face/register", json={"studentId": student_id, "image": b64_array(hopper)}
    )

    assert response.status_code == 400
    assert error_body(response)["code"] == "invalid_request"


def test_doubled_slashes_are_a_json_404_not_a_redirect(client):
    response = client.get("/api//face/students")

    assert response.status_code == 404
    assert error_body(response)["code"] == "not_found"


def test_empty_frame_list_is_an_invalid_request(client):
    challenge = client.post("/api/face/liveness/challenge", json={}).get_json()

    response = client.post(
        f"/api/face/liveness/challenge/{challenge['challengeId']}", json={"frames": []}
    )

    assert response.status_code == 400
    assert error_body(response)["code"] == "invalid_request"
