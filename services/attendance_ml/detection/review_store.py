"""Analysed frames kept for human review, by session, with age and size limits.

Layout under the data directory: ``detection/review/<sessionId>/<itemId>.jpg`` with a
``<itemId>.json`` record beside it, and ``counts.json`` per session. Which frames are
kept is the review mode: ``off`` (none; counts are still kept), ``positives`` (frames
where something was detected) or ``all``. Retention removes items older than the
maximum age, then the oldest items until the total is under the size cap; it runs at
start and at most once a minute after a write.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import structlog

from attendance_ml.core.errors import InvalidRequest, NotFound
from attendance_ml.detection.detections import Detection

log = structlog.get_logger("attendance_ml.detection.review")
SESSION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ITEM_ID = re.compile(r"^(phone|idcard)-\d{13}-[0-9a-f]{8}$")
PRUNE_INTERVAL_SECONDS = 60.0
JPEG_QUALITY = 85


def checked_session_id(value: object) -> str:
    """A session id safe to use as a folder name, or InvalidRequest."""
    if not isinstance(value, str) or not SESSION_ID.match(value):
        raise InvalidRequest(
            "sessionId must be 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    return value


@dataclass(frozen=True)
class ReviewItem:
    """One kept frame: what was asked, what was found, and when (Unix seconds)."""

    item_id: str
    kind: str
    created_at: float
    positive: bool
    detections: list[dict]
    model: dict
    path: str

    def as_dict(self) -> dict:
        return {
            "id": self.item_id,
            "kind": self.kind,
            "createdAt": round(self.created_at, 3),
            "positive": self.positive,
            "detections": self.detections,
            "model": self.model,
            "path": self.path,
        }


class ReviewStore:
    """Keeps, lists, serves and expires review frames; safe across threads."""

    def __init__(self, root: Path, mode: str, max_age_hours: float, max_bytes: int):
        self.root = root
        self.mode = mode
        self.max_age_seconds = max_age_hours * 3600
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._last_prune = 0.0

    def record(
        self,
        session_id: str,
        kind: str,
        image: np.ndarray,
        detections: list[Detection],
        model: dict,
        path: str,
    ) -> str | None:
        """Count the analysis and keep the frame if the mode says so; its id or None."""
        positive = bool(detections)
        keep_frame = self.mode == "all" or (self.mode == "positives" and positive)
        folder = self.root / session_id
        item_id = f"{kind}-{int(time.time() * 1000):013d}-{uuid.uuid4().hex[:8]}"
        with self._lock:
            folder.mkdir(parents=True, exist_ok=True)
            self._count(folder, kind, positive)
            if keep_frame:
                self._write(folder, item_id, kind, image, detections, model, path)
        if keep_frame:
            self.prune(force=False)
        return item_id if keep_frame else None

    def session(self, session_id: str) -> dict:
        """The session's counts and kept items, newest first."""
        folder = self.root / checked_session_id(session_id)
        with self._lock:
            counts = _read_json(folder / "counts.json") or {}
            items = [
                ReviewItem(**record).as_dict()
                for record in (
                    _read_json(meta) for meta in sorted(folder.glob("*.json"))
                )
                if record and "item_id" in record
            ]
        items.sort(key=lambda item: item["createdAt"], reverse=True)
        return {"sessionId": session_id, "counts": counts, "items": items}

    def image_path(self, session_id: str, item_id: str) -> Path:
        """The JPEG of one kept item, or NotFound."""
        checked_session_id(session_id)
        if not ITEM_ID.match(item_id):
            raise NotFound("No such review item.")
        path = self.root / session_id / f"{item_id}.jpg"
        if not path.is_file():
            raise NotFound("No such review item.")
        return path

    def prune(self, force: bool = True) -> int:
        """Apply age and size retention; returns how many items were removed."""
        now = time.time()
        if not force and now - self._last_prune < PRUNE_INTERVAL_SECONDS:
            return 0
        self._last_prune = now
        with self._lock:
            images = sorted(self.root.glob("*/*.jpg"), key=lambda p: p.stat().st_mtime)
            removed = 0
            total = sum(path.stat().st_size for path in images)
            for path in images:
                too_old = now - path.stat().st_mtime > self.max_age_seconds
                if not too_old and total <= self.max_bytes:
                    continue
                total -= path.stat().st_size
                path.unlink(missing_ok=True)
                path.with_suffix(".json").unlink(missing_ok=True)
                removed += 1
        if removed:
            log.info("review_pruned", removed=removed)
        return removed

    def _count(self, folder: Path, kind: str, positive: bool) -> None:
        counts_path = folder / "counts.json"
        counts = _read_json(counts_path) or {}
        entry = counts.setdefault(kind, {"analysed": 0, "positive": 0})
        entry["analysed"] += 1
        entry["positive"] += int(positive)
        _write_json(counts_path, counts)

    def _write(self, folder, item_id, kind, image, detections, model, path) -> None:
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        ok, encoded = cv2.imencode(
            ".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
        )
        if not ok:
            return
        (folder / f"{item_id}.jpg").write_bytes(encoded.tobytes())
        record = ReviewItem(
            item_id=item_id,
            kind=kind,
            created_at=time.time(),
            positive=bool(detections),
            detections=[item.as_dict() for item in detections],
            model=model,
            path=path,
        )
        _write_json(folder / f"{item_id}.json", record.__dict__)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _write_json(path: Path, value: dict) -> None:
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(value))
    partial.replace(path)
