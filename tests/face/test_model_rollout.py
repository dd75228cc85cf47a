"""The face service loads what the model operator rolls out, or refuses to be ready."""

from __future__ import annotations

import hashlib

import pytest
from attendance_ml.face.app import create_app
from retinaface.weights import WEIGHTS
from tests_face_support import b64_array, face_environ


@pytest.fixture()
def detector_file(tmp_path):
    path = tmp_path / "retinaface-v2.onnx"
    path.write_bytes(WEIGHTS)
    return path


def ready_body(app):
    return app.test_client().get("/health/ready")


def test_rolled_out_detector_is_loaded_and_reported(tmp_path, detector_file, hopper):
    environ = face_environ(
        tmp_path,
        ATTENDANCE_FACE_MODEL_FACE_DETECTOR_URI=detector_file.as_uri(),
        ATTENDANCE_FACE_MODEL_FACE_DETECTOR_VERSION="2.0.0",
        ATTENDANCE_FACE_MODEL_FACE_DETECTOR_SHA256=hashlib.sha256(WEIGHTS).hexdigest(),
        ATTENDANCE_FACE_MODEL_FACE_DETECTOR_SETTINGS='{"name": "retinaface-school"}',
    )
    app = create_app(environ)

    response = ready_body(app)
    models = {m["slot"]: m for m in response.get_json()["models"]}
    analyzed = app.test_client().post(
        "/api/face/analyze", json={"image": b64_array(hopper)}
    )

    assert response.status_code == 200
    assert models["face_detector"] == {
        "slot": "face_detector",
        "name": "retinaface-school",
        "version": "2.0.0",
    }
    assert analyzed.get_json()["models"]["face_detector"]["version"] == "2.0.0"
    metrics = app.test_client().get("/metrics").get_data(as_text=True)
    assert 'model="retinaface-school",service="face",slot="face_detector"' in metrics
    app.extensions["face_service"].recognizer.gallery.close()


def test_checksum_mismatch_leaves_the_service_not_ready(
    tmp_path, detector_file, hopper
):
    environ = face_environ(
        tmp_path,
        ATTENDANCE_FACE_MODEL_FACE_DETECTOR_URI=detector_file.as_uri(),
        ATTENDANCE_FACE_MODEL_FACE_DETECTOR_VERSION="2.0.0",
        ATTENDANCE_FACE_MODEL_FACE_DETECTOR_SHA256="0" * 64,
    )
    app = create_app(environ)
    client = app.test_client()

    ready = client.get("/health/ready")
    verify = client.post("/api/face/verify", json={"image": b64_array(hopper)})

    assert ready.status_code == 503
    assert "ModelChecksumMismatch" in ready.get_json()["error"]
    assert client.get("/health").get_json()["status"] == "error"
    assert verify.status_code == 503
    assert verify.get_json()["code"] == "not_ready"
    app.extensions["face_service"].recognizer.gallery.close()


def test_another_embedder_is_refused_rather_than_mixed(tmp_path, detector_file):
    environ = face_environ(
        tmp_path,
        ATTENDANCE_FACE_MODEL_FACE_EMBEDDER_URI=detector_file.as_uri(),
        ATTENDANCE_FACE_MODEL_FACE_EMBEDDER_VERSION="9",
    )
    app = create_app(environ)

    response = ready_body(app)

    assert response.status_code == 503
    assert "face_embedder" in response.get_json()["error"]
    app.extensions["face_service"].recognizer.gallery.close()
