"""App factory of the sentiment service (port 5003)."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from attendance_ml.core.app_base import build_service_app
from attendance_ml.sentiment.analysis import SentimentModels
from attendance_ml.sentiment.history import SessionHistory
from attendance_ml.sentiment.routes import blueprint
from attendance_ml.sentiment.service import SentimentService
from attendance_ml.sentiment.settings import SentimentSettings


def create_app(environ: Mapping[str, str] | None = None) -> Flask:
    """Build the sentiment service; its models load on start (in the background
    unless ``ATTENDANCE_LOAD_IN_BACKGROUND=0``)."""
    settings = SentimentSettings.from_env(environ)
    app, host = build_service_app(settings.core, lambda: SentimentModels.load(settings))
    app.extensions["sentiment_service"] = SentimentService(
        settings=settings,
        host=host,
        history=SessionHistory(
            settings.history_length, settings.max_sessions, settings.session_ttl_seconds
        ),
    )
    app.register_blueprint(blueprint)
    host.start(background=settings.core.load_in_background)
    return app
