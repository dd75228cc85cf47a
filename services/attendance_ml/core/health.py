"""Health endpoints: ``/health`` for the front end, plus liveness and readiness.

``/health`` keeps the shape the front end expects (``{"status": "ok"}``) once the
models are ready; while they load it answers 503 with ``status: "loading"``.
``/health/live`` is 200 while the process serves requests. ``/health/ready`` is 200
only after every model loaded and ran one warm-up inference.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, jsonify

from attendance_ml.core.model_host import ModelHost


def health_blueprint(
    service: str,
    host: ModelHost,
    extra_checks: Callable[[], dict[str, bool]] | None = None,
) -> Blueprint:
    """Build the health routes for one service."""
    blueprint = Blueprint("health", __name__)

    def readiness() -> tuple[bool, dict]:
        checks = {"models": host.ready}
        if extra_checks is not None:
            checks.update(extra_checks())
        return all(checks.values()), checks

    @blueprint.get("/health")
    def health():
        ready, checks = readiness()
        status = "ok" if ready else ("error" if host.error else "loading")
        body = {"status": status, "service": service, "checks": checks}
        body.update(host.describe())
        return jsonify(body), 200 if ready else 503

    @blueprint.get("/health/live")
    def live():
        return jsonify({"status": "ok", "service": service})

    @blueprint.get("/health/ready")
    def ready():
        is_ready, checks = readiness()
        body = {"ready": is_ready, "service": service, "checks": checks}
        body.update(host.describe())
        return jsonify(body), 200 if is_ready else 503

    return blueprint
