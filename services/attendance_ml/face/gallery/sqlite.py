"""The embedded SQLite gallery: one file, WAL journal, full fsync on commit."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from attendance_ml.core.errors import StorageUnavailable, UnknownStudent
from attendance_ml.face.gallery.base import (
    FaceGallery,
    StoredEmbeddings,
    StudentRecord,
)

MIGRATIONS = (
    """
    CREATE TABLE students (
        student_id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        metadata TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE embeddings (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        student_id TEXT NOT NULL REFERENCES students(student_id) ON DELETE CASCADE,
        model TEXT NOT NULL,
        dim INTEGER NOT NULL,
        vector BLOB NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX embeddings_by_student ON embeddings(student_id);
    CREATE INDEX embeddings_by_model ON embeddings(model);
    """,
    # Counting one student's vectors of one model must not scan the whole table.
    """
    CREATE INDEX embeddings_by_student_model ON embeddings(student_id, model);
    """,
)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SQLiteGallery(FaceGallery):
    """Gallery in a SQLite file; safe for the threads of one process."""

    def __init__(self, path: Path, model_key: str) -> None:
        self.path = Path(path)
        self.model_key = model_key
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=10
        )
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=FULL")
        self._connection.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    def _migrate(self) -> None:
        with self._lock:
            db = self._connection
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
                )
                applied = {
                    row[0]
                    for row in db.execute("SELECT version FROM schema_migrations")
                }
                for version, script in enumerate(MIGRATIONS, start=1):
                    if version in applied:
                        continue
                    for statement in script.split(";"):
                        if statement.strip():
                            db.execute(statement)
                    db.execute(
                        "INSERT INTO schema_migrations VALUES (?, ?)", (version, _now())
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def add_embeddings(
        self,
        student_id: str,
        vectors: np.ndarray,
        metadata: dict[str, Any] | None = None,
    ) -> StudentRecord:
        vectors = np.asarray(vectors, dtype=np.float32)
        now = _now()
        rows = [
            (student_id, self.model_key, vectors.shape[1], vector.tobytes(), now)
            for vector in vectors
        ]
        with self._lock, self._transaction() as db:
            db.execute(
                "INSERT INTO students (student_id, created_at, updated_at, metadata) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(student_id) DO UPDATE SET "
                "updated_at = excluded.updated_at",
                (student_id, now, now, json.dumps(metadata or {})),
            )
            if metadata:
                db.execute(
                    "UPDATE students SET metadata = ? WHERE student_id = ?",
                    (json.dumps(metadata), student_id),
                )
            db.executemany(
                "INSERT INTO embeddings (student_id, model, dim, vector, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            record = self._student(db, student_id)
        assert record is not None
        return record

    def delete_student(self, student_id: str) -> int:
        with self._lock, self._transaction() as db:
            removed = db.execute(
                "DELETE FROM embeddings WHERE student_id = ?", (student_id,)
            ).rowcount
            deleted = db.execute(
                "DELETE FROM students WHERE student_id = ?", (student_id,)
            ).rowcount
        if not deleted:
            raise UnknownStudent()
        return removed

    def get_student(self, student_id: str) -> StudentRecord | None:
        with self._lock:
            return self._student(self._connection, student_id)

    def list_students(self, limit: int, offset: int) -> tuple[list[StudentRecord], int]:
        with self._lock:
            db = self._connection
            total = db.execute("SELECT COUNT(*) FROM students").fetchone()[0]
            ids = [
                row[0]
                for row in db.execute(
                    "SELECT student_id FROM students ORDER BY student_id "
                    "LIMIT ? OFFSET ?",
                    (limit, offset),
                )
            ]
            records = [self._student(db, student_id) for student_id in ids]
        return [record for record in records if record], total

    def load_embeddings(self) -> StoredEmbeddings:
        with self._lock:
            rows = self._connection.execute(
                "SELECT student_id, dim, vector FROM embeddings WHERE model = ? "
                "ORDER BY id",
                (self.model_key,),
            ).fetchall()
        if not rows:
            return StoredEmbeddings([], np.empty((0, 0), dtype=np.float32))
        vectors = np.stack([np.frombuffer(row[2], dtype=np.float32) for row in rows])
        return StoredEmbeddings([row[0] for row in rows], vectors)

    def count_other_model_embeddings(self) -> int:
        with self._lock:
            return self._connection.execute(
                "SELECT COUNT(*) FROM embeddings WHERE model != ?", (self.model_key,)
            ).fetchone()[0]

    def ping(self) -> bool:
        try:
            with self._lock:
                self._connection.execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def connection_mode(self) -> str:
        """The journal mode in force (``wal`` unless the file system refused it)."""
        with self._lock:
            return self._connection.execute("PRAGMA journal_mode").fetchone()[0]

    def _student(self, db: sqlite3.Connection, student_id: str) -> StudentRecord | None:
        row = db.execute(
            "SELECT s.student_id, s.created_at, s.updated_at, s.metadata, "
            "(SELECT COUNT(*) FROM embeddings e WHERE e.student_id = s.student_id "
            " AND e.model = ?) FROM students s WHERE s.student_id = ?",
            (self.model_key, student_id),
        ).fetchone()
        if row is None:
            return None
        return StudentRecord(
            student_id=row[0],
            created_at=row[1],
            updated_at=row[2],
            metadata=json.loads(row[3] or "{}"),
            embedding_count=row[4],
        )

    def _transaction(self):
        return _Transaction(self._connection)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error (503 for SQLite errors)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __enter__(self) -> sqlite3.Connection:
        try:
            self.connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise StorageUnavailable() from error
        return self.connection

    def __exit__(self, exc_type, exc, traceback) -> bool:
        if exc_type is None:
            try:
                self.connection.execute("COMMIT")
                return False
            except sqlite3.Error as error:
                self.connection.execute("ROLLBACK")
                raise StorageUnavailable() from error
        self.connection.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise StorageUnavailable() from exc
        return False
