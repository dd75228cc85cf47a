"""Fixtures for the face service: a real app on a temporary gallery."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from attendance_ml.face.app import create_app
from tests_face_support import GRACE_HOPPER, face_environ, load_rgb


@pytest.fixture(scope="module")
def face_app(tmp_path_factory):
    app = create_app(face_environ(tmp_path_factory.mktemp("face-data")))
    app.config["TESTING"] = True
    yield app
    app.extensions["face_service"].recognizer.gallery.close()


@pytest.fixture()
def client(face_app):
    return face_app.test_client()


@pytest.fixture(scope="session")
def hopper() -> np.ndarray:
    return load_rgb(GRACE_HOPPER)


@pytest.fixture(scope="session")
def lfw(shared_data) -> dict[str, list[Path]]:
    """LFW identities (five photos each) from the shared set."""
    root = shared_data / "faces" / "lfw_mini" / "images"
    return {
        person.name: sorted(person.glob("*.jpg"))
        for person in sorted(root.iterdir())
        if person.is_dir()
    }
