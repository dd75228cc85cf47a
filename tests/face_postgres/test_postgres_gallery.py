"""The PostgreSQL gallery: migrations, storage, model isolation, outages."""

from __future__ import annotations

import threading

import numpy as np
import psycopg
import pytest
from attendance_ml.core.errors import StorageUnavailable, UnknownStudent
from attendance_ml.core.settings import SettingError
from attendance_ml.face.gallery.factory import gallery_from_url
from attendance_ml.face.gallery.postgres import MIGRATIONS, PostgresGallery
from attendance_ml.face.gallery.sqlite import SQLiteGallery
from face_postgres_support import free_port, vectors


def test_replicas_starting_together_apply_each_migration_once(
    database_url, open_gallery
):
    galleries = [open_gallery(database_url, "model@1") for _ in range(6)]
    barrier = threading.Barrier(len(galleries))
    answers = []

    def start(gallery: PostgresGallery) -> None:
        barrier.wait()
        answers.append(gallery.ping())

    threads = [threading.Thread(target=start, args=(g,)) for g in galleries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with psycopg.connect(database_url) as db:
        versions = db.execute("SELECT version FROM schema_migrations").fetchall()
    assert answers == [True] * 6
    assert versions == [(v,) for v in range(1, len(MIGRATIONS) + 1)]


def test_embeddings_and_metadata_round_trip(database_url, open_gallery):
    gallery = open_gallery(database_url, "model@1")

    first = gallery.add_embeddings("alice", vectors(2), {"name": "Alice"})
    second = gallery.add_embeddings("alice", vectors(1, seed=1))
    stored = gallery.load_embeddings()

    assert (first.embedding_count, second.embedding_count) == (2, 3)
    assert second.metadata == {"name": "Alice"}
    assert second.created_at == first.created_at
    assert stored.student_ids == ["alice"] * 3
    np.testing.assert_array_equal(stored.vectors[:2], vectors(2))
    np.testing.assert_array_equal(stored.vectors[2:], vectors(1, seed=1))
    assert stored.vectors.dtype == np.float32


def test_vectors_of_another_model_are_never_loaded(database_url, open_gallery):
    old = open_gallery(database_url, "model@1")
    old.add_embeddings("alice", vectors(2))

    new = open_gallery(database_url, "model@2")
    new.add_embeddings("bob", vectors(1, seed=3))

    assert new.load_embeddings().student_ids == ["bob"]
    assert new.count_other_model_embeddings() == 2
    assert new.get_student("alice").embedding_count == 0


def test_delete_erases_student_and_embeddings(database_url, open_gallery):
    gallery = open_gallery(database_url, "model@1")
    gallery.add_embeddings("alice", vectors(2))
    gallery.add_embeddings("bob", vectors(1, seed=1))

    removed = gallery.delete_student("alice")

    assert removed == 2
    assert gallery.get_student("alice") is None
    assert gallery.load_embeddings().student_ids == ["bob"]
    with pytest.raises(UnknownStudent):
        gallery.delete_student("alice")


def test_list_students_pages_by_id_with_counts(database_url, open_gallery):
    gallery = open_gallery(database_url, "model@1")
    for position, student_id in enumerate(["carol", "alice", "bob"]):
        gallery.add_embeddings(student_id, vectors(position + 1, seed=position))

    page, total = gallery.list_students(limit=2, offset=1)

    assert total == 3
    assert [(r.student_id, r.embedding_count) for r in page] == [
        ("bob", 3),
        ("carol", 1),
    ]
    assert page[0].as_dict().keys() == {
        "studentId", "embeddingCount", "createdAt", "updatedAt", "metadata"
    }  # fmt: skip


def test_write_failing_midway_leaves_the_gallery_as_it_was(database_url, open_gallery):
    gallery = open_gallery(database_url, "model@1")
    gallery.add_embeddings("alice", vectors(1))
    with psycopg.connect(database_url, autocommit=True) as db:
        db.execute(
            "CREATE FUNCTION refuse_bob() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN IF NEW.student_id = 'bob' THEN RAISE 'disk full'; END IF; "
            "RETURN NEW; END $$"
        )
        db.execute(
            "CREATE TRIGGER refuse_bob BEFORE INSERT ON embeddings "
            "FOR EACH ROW EXECUTE FUNCTION refuse_bob()"
        )

    with pytest.raises(psycopg.errors.RaiseException):
        gallery.add_embeddings("bob", vectors(2), {"name": "Bob"})

    assert gallery.get_student("bob") is None
    assert gallery.load_embeddings().student_ids == ["alice"]
    assert gallery.list_students(10, 0)[1] == 1


def test_unreachable_database_answers_storage_unavailable(open_gallery):
    gallery = open_gallery(f"postgresql://postgres@127.0.0.1:{free_port()}/none")

    assert gallery.ping() is False
    for call in (
        lambda: gallery.add_embeddings("alice", vectors(1)),
        lambda: gallery.get_student("alice"),
        lambda: gallery.list_students(10, 0),
        lambda: gallery.delete_student("alice"),
        gallery.load_embeddings,
    ):
        with pytest.raises(StorageUnavailable):
            call()


def test_url_chooses_the_backend(tmp_path):
    postgres = gallery_from_url("postgresql://u:secret@db.invalid/x", "model@1")
    sqlite = gallery_from_url(f"sqlite://{tmp_path}/g.sqlite3", "model@1")

    assert isinstance(postgres, PostgresGallery)
    assert isinstance(sqlite, SQLiteGallery)
    assert sqlite.path == tmp_path / "g.sqlite3"
    with pytest.raises(SettingError, match="unsupported scheme 'mysql'") as error:
        gallery_from_url("mysql://u:secret@db/x", "model@1")
    assert "secret" not in str(error.value)
    sqlite.close()
