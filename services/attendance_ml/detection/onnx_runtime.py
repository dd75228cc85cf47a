"""ONNX model files: checked, opened once, run one call at a time."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np
import onnxruntime as ort


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class LockedSession:
    """An onnxruntime CPU session whose ``run`` is serialised by a lock.

    onnxruntime allows concurrent runs, but on a 2-core pod they only fight over the
    same cores; one run at a time keeps latency predictable.
    """

    def __init__(self, path: Path, threads: int) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Idle worker threads sleep instead of spinning: the pod also runs RetinaFace
        # and OCR, and spinning threads starve them (and each other) on two cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [output.name for output in self.session.get_outputs()]
        self._lock = threading.Lock()

    def run(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        with self._lock:
            outputs = self.session.run(None, {self.input_name: batch})
        return dict(zip(self.output_names, outputs, strict=True))
