"""ONNX model files: checked, opened once, run one call at a time."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np
import onnxruntime as ort

from attendance_ml.core.face_detection import onnx_session


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class LockedSession:
    """An onnxruntime session whose ``run`` is serialised by a lock.

    onnxruntime allows concurrent runs, but on a 2-core pod they only fight over the
    same cores; one run at a time keeps latency predictable.
    """

    def __init__(self, path: Path, threads: int) -> None:
        # The core's session: bounded threads that sleep rather than spin, and the
        # execution providers named by ATTENDANCE_ONNX_PROVIDERS (GPU images).
        self.session: ort.InferenceSession = onnx_session(str(path), threads)
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [output.name for output in self.session.get_outputs()]
        self._lock = threading.Lock()

    def run(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        with self._lock:
            outputs = self.session.run(None, {self.input_name: batch})
        return dict(zip(self.output_names, outputs, strict=True))
