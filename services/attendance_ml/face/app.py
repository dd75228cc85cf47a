"""App factory of the face service."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping

from flask import Flask

from attendance_ml.core.app_base import build_service_app
from attendance_ml.face.challenge import ChallengeStore
from attendance_ml.face.gallery.base import FaceGallery
from attendance_ml.face.models import FaceModels
from attendance_ml.face.recognition import FaceRecognizer
from attendance_ml.face.routes import blueprint
from attendance_ml.face.service import FaceService
from attendance_ml.face.settings import FaceSettings


def embedding_model_key() -> str:
    """Which model made the stored vectors: vectors of other keys are never compared."""
    return f"dlib-resnet-v1@{importlib.metadata.version('face-recognition-models')}"


def open_gallery(settings: FaceSettings) -> FaceGallery:
    """SQLite by default; another backend when a database URL is configured."""
    if settings.database_url:
        from attendance_ml.face.gallery.factory import gallery_from_url

        return gallery_from_url(settings.database_url, embedding_model_key())

    from attendance_ml.face.gallery.sqlite import SQLiteGallery

    return SQLiteGallery(settings.database_path, embedding_model_key())


def create_app(environ: Mapping[str, str] | None = None) -> Flask:
    """Build the face service; models and the gallery index load on start."""
    settings = FaceSettings.from_env(environ)
    gallery = open_gallery(settings)
    recognizer = FaceRecognizer(gallery, settings)

    def load_models() -> FaceModels:
        models = FaceModels.load(settings)
        # A shared gallery loads the index itself, on start and after reconnecting.
        if not gallery.follow_changes(recognizer):
            recognizer.load_index()
        return models

    app, host = build_service_app(
        settings.core, load_models, extra_checks=lambda: {"gallery": gallery.ping()}
    )
    app.extensions["face_service"] = FaceService(
        settings=settings,
        host=host,
        recognizer=recognizer,
        challenges=ChallengeStore(
            settings.challenge_ttl_seconds, settings.challenge_actions
        ),
    )
    app.register_blueprint(blueprint)
    host.start(background=settings.core.load_in_background)
    return app
