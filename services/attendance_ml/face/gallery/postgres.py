"""The shared PostgreSQL gallery, for several face-service replicas on one database.

The schema is created and migrated by the service itself: versioned migrations in
``schema_migrations``, applied under a transaction-scoped advisory lock so that
replicas starting together apply each version exactly once. Every write sends a
NOTIFY on :data:`CHANNEL` in its own transaction (delivered only if it commits);
:class:`~attendance_ml.face.gallery.sync.GalleryFollower` turns those into changes
of each replica's in-memory index.

Vectors are float32 little-endian ``bytea``, stored with the key of the model that
made them (``name@version``); only this gallery's model is ever loaded.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import numpy as np
import psycopg
import structlog

from attendance_ml.core.errors import StorageUnavailable, UnknownStudent
from attendance_ml.face.gallery.base import (
    FaceGallery,
    IndexKeeper,
    StoredEmbeddings,
    StudentRecord,
)
from attendance_ml.face.gallery.postgres_pool import ConnectionPool, describe_url

log = structlog.get_logger("attendance_ml.face.gallery")

CHANNEL = "attendance_face_gallery"
# Any fixed 64-bit number: the advisory lock all replicas take to migrate.
MIGRATION_LOCK = 0x61_74_74_66_61_63_65
# A NOTIFY payload must stay under 8000 bytes: bigger writes ask for a full reload.
MAX_IDS_PER_NOTICE = 400

MIGRATIONS = (
    """
    CREATE TABLE students (
        student_id text PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        metadata jsonb NOT NULL DEFAULT '{}'
    );
    CREATE TABLE embeddings (
        id bigserial PRIMARY KEY,
        student_id text NOT NULL REFERENCES students(student_id) ON DELETE CASCADE,
        model text NOT NULL,
        dim integer NOT NULL,
        vector bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX embeddings_by_student ON embeddings(student_id, model);
    CREATE INDEX embeddings_by_model ON embeddings(model, id);
    """,
)


def migrate(connection: psycopg.Connection) -> list[int]:
    """Apply the missing migrations; returns the versions this call applied."""
    applied_now = []
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer "
            "PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        rows = connection.execute("SELECT version FROM schema_migrations").fetchall()
        applied = {row[0] for row in rows}
        for version, script in enumerate(MIGRATIONS, start=1):
            if version in applied:
                continue
            connection.execute(script)
            connection.execute(
                "INSERT INTO schema_migrations (version) VALUES (%s)", (version,)
            )
            applied_now.append(version)
    return applied_now


class PostgresGallery(FaceGallery):
    """Gallery in PostgreSQL; safe for many threads and many processes.

    Nothing connects at construction: the first use connects and migrates, so a
    replica starts (and reports not ready) while the database is still down.
    """

    def __init__(self, url: str, model_key: str, max_idle: int = 4) -> None:
        self.model_key = model_key
        self.origin = uuid.uuid4().hex
        self.url = url
        self._migrated = False
        self._pool = ConnectionPool(url, self._prepare, max_idle=max_idle)
        self._follower = None

    def add_embeddings(
        self,
        student_id: str,
        vectors: np.ndarray,
        metadata: dict[str, Any] | None = None,
    ) -> StudentRecord:
        vectors = np.asarray(vectors, dtype="<f4")
        rows = [
            (student_id, self.model_key, vectors.shape[1], vector.tobytes())
            for vector in vectors
        ]
        with self._pool.transaction() as db:
            db.execute(
                "INSERT INTO students (student_id, metadata) VALUES (%s, %s) "
                "ON CONFLICT (student_id) DO UPDATE SET updated_at = now(), "
                "metadata = CASE WHEN %s THEN excluded.metadata "
                "ELSE students.metadata END",
                (student_id, json.dumps(metadata or {}), bool(metadata)),
            )
            with db.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO embeddings (student_id, model, dim, vector) "
                    "VALUES (%s, %s, %s, %s) RETURNING id",
                    rows,
                    returning=True,
                )
                ids = [row[0] for row in _all_results(cursor)]
            self._notify(db, "add", student_id, ids)
            record = self._student(db, student_id)
        assert record is not None
        return record

    def delete_student(self, student_id: str) -> int:
        with self._pool.transaction() as db:
            removed = db.execute(
                "DELETE FROM embeddings WHERE student_id = %s", (student_id,)
            ).rowcount
            deleted = db.execute(
                "DELETE FROM students WHERE student_id = %s", (student_id,)
            ).rowcount
            if deleted:
                self._notify(db, "delete", student_id, [])
        if not deleted:
            raise UnknownStudent()
        return removed

    def get_student(self, student_id: str) -> StudentRecord | None:
        with self._pool.connection() as db:
            return self._student(db, student_id)

    def list_students(self, limit: int, offset: int) -> tuple[list[StudentRecord], int]:
        with self._pool.transaction() as db:
            total = db.execute("SELECT count(*) FROM students").fetchone()[0]
            rows = db.execute(
                _STUDENT_QUERY + " ORDER BY s.student_id LIMIT %s OFFSET %s",
                (self.model_key, limit, offset),
            ).fetchall()
        return [_record(row) for row in rows], total

    def load_embeddings(self) -> StoredEmbeddings:
        return self.load_embeddings_with_snapshot()[0]

    def load_embeddings_with_snapshot(self) -> tuple[StoredEmbeddings, str]:
        """Every vector of this model, and the ``pg_snapshot`` the read saw."""
        with self._pool.connection() as db, db.transaction():
            db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            snapshot = db.execute("SELECT pg_current_snapshot()::text").fetchone()[0]
            rows = db.execute(
                "SELECT student_id, vector FROM embeddings WHERE model = %s "
                "ORDER BY id",
                (self.model_key,),
                binary=True,
            ).fetchall()
        return _stored(rows), snapshot

    def embeddings_by_ids(self, ids: list[int]) -> StoredEmbeddings:
        """The vectors with these row ids that still exist (deleted ones are absent)."""
        with self._pool.connection() as db:
            rows = db.execute(
                "SELECT student_id, vector FROM embeddings "
                "WHERE id = ANY(%s) AND model = %s ORDER BY id",
                (ids, self.model_key),
                binary=True,
            ).fetchall()
        return _stored(rows)

    def count_other_model_embeddings(self) -> int:
        with self._pool.connection() as db:
            return db.execute(
                "SELECT count(*) FROM embeddings WHERE model <> %s", (self.model_key,)
            ).fetchone()[0]

    def follow_changes(self, keeper: IndexKeeper) -> bool:
        from attendance_ml.face.gallery.sync import GalleryFollower

        if self._follower is None:
            self._follower = GalleryFollower(self, keeper)
            self._follower.start()
        return True

    def check_current(self) -> None:
        if self._follower is not None and not self._follower.current:
            raise StorageUnavailable(
                "The gallery database is unreachable or the index is resynchronising."
            )

    def ping(self) -> bool:
        if self._follower is not None and not self._follower.current:
            return False
        try:
            with self._pool.connection() as db:
                db.execute("SELECT 1")
        except (StorageUnavailable, psycopg.Error):
            return False
        return True

    def close(self) -> None:
        if self._follower is not None:
            self._follower.stop()
        self._pool.close()

    def _prepare(self, connection: psycopg.Connection) -> None:
        if self._migrated:
            return
        applied = migrate(connection)
        self._migrated = True
        log.info("gallery_schema_ready", applied=applied, **describe_url(self.url))

    def _notify(
        self, db: psycopg.Connection, op: str, student_id: str, ids: list[int]
    ) -> None:
        if len(ids) > MAX_IDS_PER_NOTICE:
            op, ids = "reload", []
        payload = {
            "op": op,
            "student": student_id,
            "model": self.model_key,
            "ids": ids,
            "origin": self.origin,
        }
        db.execute(
            "SELECT pg_notify(%s, (%s::jsonb || jsonb_build_object("
            "'xid', pg_current_xact_id()::text))::text)",
            (CHANNEL, json.dumps(payload)),
        )

    def _student(self, db: psycopg.Connection, student_id: str) -> StudentRecord | None:
        row = db.execute(
            _STUDENT_QUERY + " WHERE s.student_id = %s", (self.model_key, student_id)
        ).fetchone()
        return _record(row) if row else None


_STUDENT_QUERY = (
    "SELECT s.student_id, "
    "to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS+00:00'), "
    "to_char(s.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS+00:00'), "
    "s.metadata, "
    "(SELECT count(*) FROM embeddings e WHERE e.student_id = s.student_id "
    " AND e.model = %s) FROM students s"
)


def _record(row: tuple) -> StudentRecord:
    return StudentRecord(
        student_id=row[0],
        created_at=row[1],
        updated_at=row[2],
        metadata=row[3] or {},
        embedding_count=row[4],
    )


def _stored(rows: list[tuple[str, bytes]]) -> StoredEmbeddings:
    if not rows:
        return StoredEmbeddings([], np.empty((0, 0), dtype=np.float32))
    vectors = np.stack([np.frombuffer(row[1], dtype="<f4") for row in rows])
    return StoredEmbeddings([row[0] for row in rows], vectors.astype(np.float32))


def _all_results(cursor: psycopg.Cursor) -> list[tuple]:
    """Every row of every result set an ``executemany(..., returning=True)`` made."""
    rows = []
    while True:
        rows.extend(cursor.fetchall())
        if not cursor.nextset():
            return rows
