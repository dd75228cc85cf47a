"""App factory of the object detection service (port 5002)."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from attendance_ml.core.app_base import build_service_app
from attendance_ml.detection.models import DetectionModels
from attendance_ml.detection.review_store import ReviewStore
from attendance_ml.detection.routes import DetectionService, blueprint
from attendance_ml.detection.settings import SERVICE, DetectionSettings


def create_app(environ: Mapping[str, str] | None = None) -> Flask:
    """Build the detection service; its models load on start (see ``ModelHost``)."""
    settings = DetectionSettings.from_env(environ)
    review = ReviewStore(
        settings.review_dir,
        settings.review_mode,
        settings.review_max_age_hours,
        settings.review_max_bytes,
    )

    def load_models() -> DetectionModels:
        models = DetectionModels.load(settings)
        metrics = app.extensions.get("attendance_metrics")
        for slot in models.fallback_slots():
            if metrics is not None:
                metrics.model_load_failures.labels(SERVICE, slot).inc()
        return models

    app, host = build_service_app(settings.core, load_models)
    app.extensions["detection_service"] = DetectionService(settings, host, review)
    app.register_blueprint(blueprint)
    if settings.review_dir.is_dir():
        review.prune()
    host.start(background=settings.core.load_in_background)
    return app
