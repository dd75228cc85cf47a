"""Fixtures for the shared PostgreSQL gallery: one real server per test session."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from pathlib import Path

import pytest
from attendance_ml.face.gallery.postgres import PostgresGallery
from face_postgres_support import PostgresCluster, postgres_bin_dir

_databases = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_cluster():
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl) not found; "
            "install Debian's postgresql package (scripts/ci.d/45-postgres.sh)"
        )
    # Not under pytest's private temp folder: the server's user must reach it.
    root = Path(tempfile.mkdtemp(prefix="attendance-pg-"))
    cluster = PostgresCluster(root, bin_dir)
    cluster.init()
    cluster.start()
    yield cluster
    cluster.stop("immediate")
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture()
def database_url(postgres_cluster) -> str:
    """A fresh, empty database on the session's server."""
    return postgres_cluster.create_database(f"gallery_{next(_databases)}")


@pytest.fixture()
def open_gallery():
    """Opens PostgresGallery objects and closes every one after the test."""
    opened = []

    def opener(url: str, model_key: str = "model@1") -> PostgresGallery:
        gallery = PostgresGallery(url, model_key)
        opened.append(gallery)
        return gallery

    yield opener
    for gallery in opened:
        gallery.close()
