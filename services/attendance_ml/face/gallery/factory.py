"""Chooses the gallery backend from a database URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from attendance_ml.core.settings import SettingError
from attendance_ml.face.gallery.base import FaceGallery

POSTGRES_SCHEMES = ("postgresql", "postgres")


def gallery_from_url(url: str, model_key: str) -> FaceGallery:
    """The gallery a URL names.

    ``postgresql://user:password@host:5432/db?sslmode=require`` (any libpq URL or
    parameter) opens the shared PostgreSQL gallery; ``sqlite:///absolute/path``
    opens the embedded one. Anything else is a configuration error.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme in POSTGRES_SCHEMES:
        from attendance_ml.face.gallery.postgres import PostgresGallery

        return PostgresGallery(url, model_key)

    if scheme == "sqlite":
        from attendance_ml.face.gallery.sqlite import SQLiteGallery

        path = unquote(urlsplit(url).path)
        if not path or path == "/":
            raise SettingError("ATTENDANCE_FACE_DATABASE_URL: sqlite:/// needs a path")
        return SQLiteGallery(Path(path), model_key)

    raise SettingError(
        f"ATTENDANCE_FACE_DATABASE_URL: unsupported scheme {scheme!r}; "
        "use postgresql://... or sqlite:///path"
    )
