"""Wiring shared by every service's app factory."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask

from attendance_ml.core.errors import register_error_handlers
from attendance_ml.core.health import health_blueprint
from attendance_ml.core.logs import configure_logging, install_request_logging
from attendance_ml.core.metrics import install_metrics
from attendance_ml.core.model_host import ModelBundle, ModelHost
from attendance_ml.core.settings import CoreSettings

B = TypeVar("B", bound=ModelBundle)

# base64 grows data by 4/3; leave room for the JSON around it.
BODY_OVERHEAD_BYTES = 64 * 1024


def build_service_app(
    core: CoreSettings,
    load_models: Callable[[], B],
    extra_checks: Callable[[], dict[str, bool]] | None = None,
) -> tuple[Flask, ModelHost[B]]:
    """Create a Flask app with errors, logs, metrics, health and a model host.

    The caller registers its own blueprints, then calls ``host.start``.
    """
    configure_logging(core.log_level, core.log_json)
    app = Flask(f"attendance_ml.{core.service}")
    app.config["MAX_CONTENT_LENGTH"] = (
        core.image_limits.max_bytes * 4 // 3 * 5 + BODY_OVERHEAD_BYTES
    )
    app.json.sort_keys = False
    # "/api//face/x" is a 404 in JSON, not a redirect page.
    app.url_map.merge_slashes = False

    register_error_handlers(app)
    install_request_logging(app, core.service)
    metrics = install_metrics(app, core.service)
    host: ModelHost[B] = ModelHost(load_models, metrics)
    app.register_blueprint(health_blueprint(core.service, host, extra_checks))
    app.extensions["attendance_core"] = core
    app.extensions["attendance_models"] = host
    return app, host
