"""Keeps one replica's in-memory index in step with the shared PostgreSQL gallery.

A follower thread holds its own connection that LISTENs on the gallery channel.
On every (re)connection it first LISTENs, then reloads the whole index from one
REPEATABLE READ snapshot; notices of transactions that snapshot already saw are
skipped, so nothing is missed or applied twice. While disconnected the follower
is not ``current``: the gallery then refuses verifications with 503 (an erasure
made meanwhile on another replica must never be matched) and reports not ready.

Changes are applied through the index keeper (the recognizer), under the same lock
as this process's own writes: a change read from the database is applied before
or after a local write, never in the middle of one.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import psycopg
import structlog

from attendance_ml.core.errors import StorageUnavailable
from attendance_ml.face.gallery.base import IndexKeeper
from attendance_ml.face.gallery.postgres_pool import open_connection

if TYPE_CHECKING:
    from attendance_ml.face.gallery.postgres import PostgresGallery
    from attendance_ml.face.index import EmbeddingIndex

log = structlog.get_logger("attendance_ml.face.gallery")


@dataclass(frozen=True)
class Snapshot:
    """A PostgreSQL ``pg_snapshot``: which transaction ids it saw as committed."""

    xmin: int
    xmax: int
    in_progress: frozenset[int]

    @classmethod
    def parse(cls, text: str) -> Snapshot:
        xmin, xmax, in_progress = text.split(":")
        running = frozenset(int(xid) for xid in in_progress.split(",") if xid)
        return cls(int(xmin), int(xmax), running)

    def saw(self, xid: int) -> bool:
        """True when the transaction had committed (or aborted) before the snapshot."""
        return xid < self.xmin or (xid < self.xmax and xid not in self.in_progress)


class GalleryFollower:
    """Applies other replicas' registrations and erasures to this replica's index.

    heartbeat_s: longest wait for notices before a round trip checks the listening
        connection; also the longest delay of ``stop``.
    max_backoff_s: longest pause between reconnection attempts (doubling from 0.1 s).
    """

    def __init__(
        self,
        gallery: PostgresGallery,
        keeper: IndexKeeper,
        heartbeat_s: float = 1.0,
        max_backoff_s: float = 2.0,
    ) -> None:
        self._gallery = gallery
        self._keeper = keeper
        self._heartbeat_s = heartbeat_s
        self._max_backoff_s = max_backoff_s
        self._stopping = threading.Event()
        self._current = threading.Event()
        self._snapshot = Snapshot(0, 0, frozenset())
        self._thread = threading.Thread(
            target=self._run, name="gallery-follower", daemon=True
        )
        self.resyncs = 0

    @property
    def current(self) -> bool:
        """True while listening and the index reflects every committed change."""
        return self._current.is_set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=self._heartbeat_s + 5)

    def wait_current(self, timeout: float) -> bool:
        """Block until the index is current (or ``timeout`` seconds pass)."""
        return self._current.wait(timeout)

    def _run(self) -> None:
        """Follow until stopped; after a loss, retry with a doubling pause."""
        backoff, failures = 0.1, 0
        while not self._stopping.is_set():
            resyncs_before = self.resyncs
            try:
                self._follow()
            except (StorageUnavailable, psycopg.Error) as error:
                if self.resyncs > resyncs_before:  # it had connected: a fresh loss
                    backoff, failures = 0.1, 0
                failures += 1
                if failures == 1 or failures % 30 == 0:
                    log.warning(
                        "gallery_follower_disconnected",
                        error=type(error).__name__,
                        attempts=failures,
                    )
            except Exception:
                # A bug must not stop the follower for good: log it, reconnect, resync.
                log.exception("gallery_follower_failed")
            if self._stopping.wait(backoff):
                break
            backoff = min(backoff * 2, self._max_backoff_s)
        self._current.clear()

    def _follow(self) -> None:
        """Listen, resynchronise, then apply notices until stopped or disconnected."""
        from attendance_ml.face.gallery.postgres import CHANNEL

        connection = open_connection(self._gallery.url)
        try:
            connection.execute(f"LISTEN {CHANNEL}")
            self._resync()
            self._current.set()
            while not self._stopping.is_set():
                for notice in connection.notifies(timeout=self._heartbeat_s):
                    self._apply(notice.payload)
                connection.execute("SELECT 1")
        finally:
            self._current.clear()
            connection.close()

    def _resync(self) -> None:
        loaded = {}

        def replace(index: EmbeddingIndex) -> None:
            stored, snapshot = self._gallery.load_embeddings_with_snapshot()
            vectors = stored.vectors.reshape(-1, index.dim)
            index.replace_all(stored.student_ids, vectors)
            self._snapshot = Snapshot.parse(snapshot)
            loaded["count"] = len(stored.student_ids)

        self._keeper.apply_change(replace)
        self.resyncs += 1
        log.info("gallery_index_resynced", embeddings=loaded["count"])
        others = self._gallery.count_other_model_embeddings()
        if others:
            log.warning(
                "gallery_reenrolment_needed",
                other_model_embeddings=others,
                model=self._gallery.model_key,
            )

    def _apply(self, payload: str) -> None:
        try:
            notice: dict[str, Any] = json.loads(payload)
            op, student_id, xid = notice["op"], notice["student"], int(notice["xid"])
        except (ValueError, KeyError, TypeError):
            log.warning("gallery_notice_ignored", reason="malformed")
            return
        if self._snapshot.saw(xid):
            return

        if op == "delete":
            self._keeper.apply_change(lambda index: index.remove(student_id))
        elif op == "reload":
            self._resync()
        elif op == "add" and self._is_foreign_add(notice):
            ids = [int(row_id) for row_id in notice.get("ids", [])]
            self._keeper.apply_change(lambda index: self._add(index, student_id, ids))

    def _is_foreign_add(self, notice: dict[str, Any]) -> bool:
        """An add by another process for this model (own adds are already applied)."""
        return (
            notice.get("origin") != self._gallery.origin
            and notice.get("model") == self._gallery.model_key
        )

    def _add(self, index: EmbeddingIndex, student_id: str, ids: list[int]) -> None:
        stored = self._gallery.embeddings_by_ids(ids)
        if stored.student_ids:
            index.add(student_id, np.asarray(stored.vectors, dtype=np.float32))
