"""App factory of the gateway (port 8080): the one entry point of the front end.

Run: ``gunicorn -c python:attendance_ml.core.gunicorn_conf --bind 0.0.0.0:8080
'attendance_ml.gateway.app:create_app()'``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import yaml
from flask import Flask, jsonify, request
from flask_cors import CORS
from werkzeug.middleware.proxy_fix import ProxyFix

from attendance_ml.core.app_base import build_service_app
from attendance_ml.core.metrics import ModelInfo
from attendance_ml.core.settings import CoreSettings, EnvReader
from attendance_ml.gateway.analyze_all import analyze_blueprint
from attendance_ml.gateway.auth import API_KEY_HEADER, Authenticator
from attendance_ml.gateway.health import aggregated_health_view
from attendance_ml.gateway.limits import create_limiter, current_principal
from attendance_ml.gateway.proxy import proxy_blueprint
from attendance_ml.gateway.settings import GatewaySettings
from attendance_ml.gateway.upstream import UpstreamClient

PUBLIC_PATHS = frozenset(
    {"/health", "/health/live", "/health/ready", "/metrics", "/openapi.json"}
)
# These authenticate inside the view, after the rate limit: failed attempts count.
SELF_AUTHENTICATING_ENDPOINTS = frozenset({"proxy.forward", "analyze.analyze_all"})


class GatewayBundle:
    """The gateway holds no model; the bundle exists for the core's readiness."""

    def model_infos(self) -> list[ModelInfo]:
        return []

    def warm_up(self) -> None:
        return None


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of the whole public API, shipped in the package."""
    text = resources.files(__package__).joinpath("openapi.yaml").read_text()
    return yaml.safe_load(text)


def create_app(environ: Mapping[str, str] | None = None) -> Flask:
    """Build the gateway from ``ATTENDANCE_GATEWAY_*`` settings (or ``environ``)."""
    env = EnvReader("gateway", environ)
    core = CoreSettings.from_env("gateway", env)
    settings = GatewaySettings.from_env(env)

    app, host = build_service_app(core, GatewayBundle)
    app.extensions["attendance_gateway"] = settings
    client = UpstreamClient(settings.urls, settings.connect_timeout)
    authenticator = Authenticator(settings.auth)

    limiter = create_limiter(app, settings.limits, authenticator)
    # flask-limiter holds only a weak reference to itself in its route wrappers.
    app.extensions["attendance_limiter"] = limiter
    _install_authentication(app, authenticator)
    app.register_blueprint(proxy_blueprint(settings, client, authenticator, limiter))
    app.register_blueprint(analyze_blueprint(settings, client, authenticator, limiter))
    app.view_functions["health.health"] = aggregated_health_view(
        client, settings.health_timeout
    )
    app.add_url_rule("/openapi.json", "openapi", lambda: jsonify(openapi_document()))

    if settings.cors_origins:
        CORS(
            app,
            resources={r"/api/*": {"origins": list(settings.cors_origins)}},
            allow_headers=[
                "Authorization",
                "Content-Type",
                API_KEY_HEADER,
                "X-Request-ID",
            ],
            expose_headers=["X-Request-ID", "Retry-After", "X-RateLimit-Remaining"],
            max_age=600,
        )
    hops = env.get("TRUSTED_PROXY_HOPS", 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    host.start(background=False)
    return app


def _install_authentication(app: Flask, authenticator: Authenticator) -> None:
    """Every route but health, metrics and the API description needs credentials."""

    @app.before_request
    def authenticate() -> None:
        if request.method == "OPTIONS" or request.path in PUBLIC_PATHS:
            return
        if request.endpoint in SELF_AUTHENTICATING_ENDPOINTS:
            return
        current_principal(authenticator)
