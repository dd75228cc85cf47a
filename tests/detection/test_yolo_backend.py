"""The ultralytics backend for real: train a tiny YOLO, roll it out, predict.

Needs the optional ultralytics extra (``make install-yolo``; ``make test`` installs
it). The data set is synthesised here: bright cards on dark frames, 64x64 pixels.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np
import pytest

# torch probes for triton (a GPU compiler) when torchvision loads; in a process that
# already holds TensorFlow's LLVM (mediapipe imports TensorFlow when it is installed,
# as the face and sentiment tests do) triton's own LLVM crashes the interpreter. The
# detection service never loads mediapipe or TensorFlow, so only this shared test
# process needs triton kept out; torch runs on the CPU without it.
sys.modules.setdefault("triton", None)
os.environ.setdefault("YOLO_CONFIG_DIR", tempfile.mkdtemp(prefix="yolo-config-"))
os.environ.setdefault("YOLO_OFFLINE", "1")
pytest.importorskip(
    "ultralytics", reason="the optional ultralytics extra is not installed"
)

from attendance_ml.core.metrics import ModelInfo  # noqa: E402
from attendance_ml.detection.app import create_app  # noqa: E402
from attendance_ml.detection.ultralytics_backend import (  # noqa: E402
    UltralyticsDetector,
)

from tests.detection.conftest import as_data_url, detection_environ  # noqa: E402

SIDE = 64


def synthetic_card_set(root, count: int, seed: int) -> None:
    """``count`` frames with one white card each, and YOLO label files."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    for index in range(count):
        frame = np.full((SIDE, SIDE, 3), rng.integers(20, 90), np.uint8)
        width, height = int(rng.integers(18, 28)), int(rng.integers(12, 18))
        x, y = (
            int(rng.integers(2, SIDE - width - 2)),
            int(rng.integers(2, SIDE - height - 2)),
        )
        cv2.rectangle(frame, (x, y), (x + width, y + height), (245, 245, 245), -1)
        cv2.imwrite(str(root / "images" / f"card-{index}.png"), frame)
        centre_x, centre_y = (x + width / 2) / SIDE, (y + height / 2) / SIDE
        (root / "labels" / f"card-{index}.txt").write_text(
            f"0 {centre_x:.5f} {centre_y:.5f} {width / SIDE:.5f} {height / SIDE:.5f}\n"
        )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Weights trained by the ``train`` command, and what the command printed."""
    root = tmp_path_factory.mktemp("cards")
    synthetic_card_set(root / "train", 8, seed=1)
    synthetic_card_set(root / "val", 4, seed=2)
    data = root / "data.yaml"
    data.write_text(
        f"path: {root}\ntrain: train/images\nval: val/images\nnames:\n  0: card\n"
    )
    # The train command runs in its own process, as users run it: training imports
    # torch's compiler stack (triton), which crashes in a process that already
    # loaded TensorFlow's LLVM (mediapipe imports TensorFlow when it is installed).
    completed = subprocess.run(
        [
            sys.executable, "-m", "attendance_ml.detection.train",
            "--data", str(data), "--model", "yolo11n.yaml", "--epochs", "3",
            "--imgsz", str(SIDE), "--batch", "4", "--out", str(root / "run"),
        ],
        capture_output=True, text=True, timeout=600, env=os.environ.copy(),
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-2000:]
    ours = [
        line
        for line in completed.stdout.splitlines()
        if line.startswith(("weights: ", "ATTENDANCE_"))
    ]  # ultralytics prints its progress to stdout too
    return root / "run" / "weights" / "best.pt", ours


def test_train_command_prints_rollout_variables(trained):
    weights, lines = trained

    assert weights.is_file()
    assert lines[0] == f"weights: {weights}"
    prefix = "ATTENDANCE_DETECTION_MODEL_IDCARD_DETECTOR_"
    assert lines[1] == f"{prefix}URI={weights.resolve().as_uri()}"
    assert lines[3:] == [
        f"{prefix}FORMAT=ultralytics",
        f'{prefix}SETTINGS={{"imgsz": {SIDE}}}',
    ]


def test_backend_loads_saved_weights_and_predicts(trained):
    weights, _ = trained
    detector = UltralyticsDetector(
        weights, ModelInfo("idcard_detector", "best", "t"), SIDE
    )
    frame = np.full((SIDE * 2, SIDE * 3, 3), 40, np.uint8)
    cv2.rectangle(frame, (60, 40), (110, 70), (245, 245, 245), -1)

    found = detector.detect(frame, min_confidence=1e-4)

    assert detector.labels == ("card",)
    assert found, "the trained model returned no box at all"
    assert [item.label for item in found] == ["card"] * len(found)
    confidences = [item.confidence for item in found]
    assert confidences == sorted(confidences, reverse=True)
    for item in found:
        x1, y1, x2, y2 = item.box
        assert 0 <= x1 <= x2 <= frame.shape[1] and 0 <= y1 <= y2 <= frame.shape[0]


def test_service_rolls_out_trained_weights_from_printed_variables(trained, tmp_path):
    _, lines = trained
    rollout = dict(line.split("=", 1) for line in lines[1:])
    rollout["ATTENDANCE_DETECTION_MODEL_IDCARD_DETECTOR_VERSION"] = "school-1"
    rollout["ATTENDANCE_DETECTION_MIN_CONFIDENCE_FLOOR"] = "0.0001"
    app = create_app(detection_environ(tmp_path, **rollout))
    frame = np.full((SIDE, SIDE, 3), 40, np.uint8)
    cv2.rectangle(frame, (20, 20), (44, 36), (245, 245, 245), -1)

    reply = app.test_client().post(
        "/api/object-detection/idcard",
        json={"image": as_data_url(frame), "minConfidence": 0.0001},
    )

    body = reply.get_json()
    assert reply.status_code == 200
    assert body["path"] == "primary"
    assert body["model"] == {
        "slot": "idcard_detector",
        "name": "best",
        "version": "school-1",
    }
    assert body["labels"] == ["card"]
    assert body["idCardVisible"] is True
    assert {item["label"] for item in body["detections"]} == {"card"}
