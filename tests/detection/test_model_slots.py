"""Where a slot's model comes from, and the fallback when it cannot load."""

from __future__ import annotations

import hashlib
import http.server
import shutil
import threading

import pytest
from attendance_ml.core.settings import SettingError
from attendance_ml.detection.app import create_app
from attendance_ml.detection.settings import DEFAULT_MODELS_DIR, DetectionSettings

from tests.detection.conftest import as_data_url, blank_frame, detection_environ

PREFIX = "ATTENDANCE_DETECTION_MODEL_PHONE_DETECTOR_"
BUILTIN = DEFAULT_MODELS_DIR / "centernet-mobilenetv3.onnx"


def phone_answer(app) -> dict:
    client = app.test_client()
    reply = client.post(
        "/api/object-detection/phone", json={"image": as_data_url(blank_frame())}
    )
    assert reply.status_code == 200
    return reply.get_json()


def test_missing_configured_model_falls_back_to_builtin(tmp_path):
    app = create_app(
        detection_environ(
            tmp_path,
            **{PREFIX + "URI": "file:///nowhere/phones.onnx", PREFIX + "VERSION": "9"},
        )
    )

    answer = phone_answer(app)
    metrics = app.test_client().get("/metrics").get_data(as_text=True)

    assert answer["path"] == "fallback"
    assert answer["model"]["name"] == "centernet-mobilenetv3"
    assert (
        'attendance_model_load_failures_total{service="detection",'
        'slot="phone_detector"} 1.0'
    ) in metrics


def test_configured_file_with_wrong_digest_falls_back(tmp_path):
    copy = tmp_path / "phones.onnx"
    shutil.copy(BUILTIN, copy)
    environ = {PREFIX + "URI": copy.as_uri(), PREFIX + "SHA256": "0" * 64}

    answer = phone_answer(create_app(detection_environ(tmp_path, **environ)))

    assert answer["path"] == "fallback"


def test_configured_file_with_right_digest_is_primary(tmp_path):
    copy = tmp_path / "phones-v2.onnx"
    shutil.copy(BUILTIN, copy)
    environ = {
        PREFIX + "URI": copy.as_uri(),
        PREFIX + "SHA256": hashlib.sha256(copy.read_bytes()).hexdigest(),
        PREFIX + "VERSION": "2.0.0",
        PREFIX + "SETTINGS": '{"minConfidence": 0.45, "architecture": "centernet"}',
    }

    app = create_app(detection_environ(tmp_path, **environ))
    answer = phone_answer(app)

    assert answer["path"] == "primary"
    assert answer["model"] == {
        "slot": "phone_detector",
        "name": "phones-v2",
        "version": "2.0.0",
    }
    assert answer["minConfidence"] == 0.45
    ready = app.test_client().get("/health/ready").get_json()
    assert ready["models"][0]["version"] == "2.0.0"


def test_model_over_http_is_downloaded_and_checked(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(BUILTIN, served / "phones-http.onnx")
    digest = hashlib.sha256(BUILTIN.read_bytes()).hexdigest()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(served), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/phones-http.onnx"
        environ = {PREFIX + "URI": url, PREFIX + "SHA256": digest}
        answer = phone_answer(create_app(detection_environ(tmp_path, **environ)))
    finally:
        server.shutdown()
        server.server_close()

    assert answer["path"] == "primary"
    assert answer["model"]["name"] == "phones-http"
    assert (tmp_path / "detection" / "models" / f"{digest}.onnx").is_file()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ATTENDANCE_DETECTION_REVIEW_MODE", "sometimes"),
        ("ATTENDANCE_DETECTION_PHONE_MIN_CONFIDENCE", "1.5"),
        (PREFIX + "FORMAT", "keras"),
        (PREFIX + "SETTINGS", "[1, 2]"),
        ("ATTENDANCE_DETECTION_ALLOWED_LABELS", "laptop,book"),
        ("ATTENDANCE_DETECTION_PHONE_TILES", "5"),
    ],
)
def test_unusable_settings_are_refused_at_start(name, value):
    with pytest.raises(SettingError):
        DetectionSettings.from_env({name: value})
