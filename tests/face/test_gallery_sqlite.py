"""The SQLite gallery: durable, atomic, one model's vectors at a time."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from attendance_ml.core.errors import StorageUnavailable, UnknownStudent
from attendance_ml.face.gallery.sqlite import SQLiteGallery


def vectors(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 128)).astype(np.float32)


def test_embeddings_survive_reopening(tmp_path):
    path = tmp_path / "gallery.sqlite3"
    gallery = SQLiteGallery(path, "model@1")
    gallery.add_embeddings("alice", vectors(3), {"name": "Alice"})
    gallery.close()

    reopened = SQLiteGallery(path, "model@1")
    stored = reopened.load_embeddings()
    record = reopened.get_student("alice")

    assert stored.student_ids == ["alice"] * 3
    np.testing.assert_array_equal(stored.vectors, vectors(3))
    assert record.embedding_count == 3
    assert record.metadata == {"name": "Alice"}
    assert reopened.connection_mode() == "wal"
    reopened.close()


def test_vectors_of_another_model_are_never_loaded(tmp_path):
    path = tmp_path / "gallery.sqlite3"
    old = SQLiteGallery(path, "model@1")
    old.add_embeddings("alice", vectors(2))
    old.close()

    new = SQLiteGallery(path, "model@2")

    assert new.load_embeddings().student_ids == []
    assert new.count_other_model_embeddings() == 2
    new.close()


def test_delete_erases_student_and_embeddings(tmp_path):
    gallery = SQLiteGallery(tmp_path / "g.sqlite3", "model@1")
    gallery.add_embeddings("alice", vectors(2))
    gallery.add_embeddings("bob", vectors(1, seed=1))

    removed = gallery.delete_student("alice")

    assert removed == 2
    assert gallery.get_student("alice") is None
    assert gallery.load_embeddings().student_ids == ["bob"]
    with pytest.raises(UnknownStudent):
        gallery.delete_student("alice")
    gallery.close()


class FailingInserts:
    """A connection whose bulk insert fails, after the student row was written."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def executemany(self, *args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    def __getattr__(self, name):
        return getattr(self.connection, name)


def test_failed_write_stores_nothing(tmp_path):
    gallery = SQLiteGallery(tmp_path / "g.sqlite3", "model@1")
    gallery.add_embeddings("alice", vectors(1))
    real_connection = gallery._connection
    gallery._connection = FailingInserts(real_connection)

    with pytest.raises(StorageUnavailable):
        gallery.add_embeddings("alice", vectors(2, seed=5))
    with pytest.raises(StorageUnavailable):
        gallery.add_embeddings("newcomer", vectors(2, seed=6))

    gallery._connection = real_connection
    assert gallery.get_student("alice").embedding_count == 1
    assert gallery.get_student("newcomer") is None
    assert len(gallery.load_embeddings().student_ids) == 1
    gallery.close()


def test_listing_is_paged_and_ordered(tmp_path):
    gallery = SQLiteGallery(tmp_path / "g.sqlite3", "model@1")
    for name in ("carol", "alice", "bob"):
        gallery.add_embeddings(name, vectors(1))

    page, total = gallery.list_students(limit=2, offset=1)

    assert total == 3
    assert [record.student_id for record in page] == ["bob", "carol"]
    gallery.close()


def test_migrations_are_recorded_once(tmp_path):
    path = tmp_path / "g.sqlite3"
    SQLiteGallery(path, "m@1").close()
    SQLiteGallery(path, "m@1").close()

    with sqlite3.connect(path) as db:
        versions = db.execute("SELECT version FROM schema_migrations").fetchall()

    assert versions == [(1,), (2,)]
