"""A service app built by the shared core around a tiny real bundle, for metric checks.

Every service exports the same core metrics (HTTP, inference time, model state); this
app produces them without loading the large models, so the dashboard and the alert
rules can be checked against a live ``/metrics`` in seconds. The bundle's "model" is
a real numpy computation (a matrix product) timed through ``timed_inference``.
"""

from __future__ import annotations

import numpy as np
from attendance_ml.core.app_base import build_service_app
from attendance_ml.core.metrics import ModelInfo, timed_inference
from attendance_ml.core.settings import CoreSettings, EnvReader
from flask import Blueprint, jsonify

SERVICE = "face"
PROBE_MODEL = ModelInfo(slot="face_embedder", name="projection", version="1")


class ProjectionBundle:
    """A fixed projection matrix standing in for an embedding model's last layer."""

    def __init__(self) -> None:
        self.weights = np.linspace(-1.0, 1.0, 128 * 64, dtype=np.float32).reshape(
            128, 64
        )

    def model_infos(self) -> list[ModelInfo]:
        return [PROBE_MODEL]

    def warm_up(self) -> None:
        self.project(np.ones(128, dtype=np.float32))

    def project(self, vector: np.ndarray) -> np.ndarray:
        return vector @ self.weights


def create_app(environ: dict[str, str] | None = None):
    """Build the app: ``POST /probe`` runs one timed inference; ``/fail`` gives 500."""
    env = EnvReader(SERVICE, environ)
    core = CoreSettings.from_env(SERVICE, env)
    app, host = build_service_app(core, ProjectionBundle)
    routes = Blueprint("probe", __name__)

    @routes.post("/probe")
    def probe():
        bundle = host.bundle()
        with timed_inference(PROBE_MODEL):
            result = bundle.project(np.ones(128, dtype=np.float32))
        return jsonify({"success": True, "norm": float(np.linalg.norm(result))})

    @routes.get("/fail")
    def fail():
        raise RuntimeError("deliberate failure for the error-rate metric")

    app.register_blueprint(routes)
    host.start(background=False)
    return app
