"""In-memory matching matrix kept in step with the gallery.

Readers take a snapshot (array references plus a row count) under a short lock and
compute without it; appends write only rows beyond every snapshot's count, and
removals build new arrays, so a search never sees a half-written gallery.
Distances are Euclidean between 128-d dlib descriptors: lower is more alike.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

_INITIAL_CAPACITY = 1024


@dataclass(frozen=True)
class Match:
    """Nearest student and the nearest other student, by Euclidean distance."""

    student_id: str | None
    distance: float
    runner_up_id: str | None
    runner_up_distance: float

    @property
    def margin(self) -> float:
        """How much nearer the best student is than the runner-up (inf if none)."""
        return self.runner_up_distance - self.distance


@dataclass(frozen=True)
class _Snapshot:
    vectors: np.ndarray
    squared_norms: np.ndarray
    codes: np.ndarray
    count: int
    names: list[str]
    code_of: dict[str, int]


class EmbeddingIndex:
    """Every enrolled embedding as one float32 matrix with a student code per row."""

    def __init__(self, dim: int = 128) -> None:
        self.dim = dim
        self._lock = threading.Lock()
        self._snapshot = _Snapshot(
            vectors=np.empty((_INITIAL_CAPACITY, dim), dtype=np.float32),
            squared_norms=np.empty(_INITIAL_CAPACITY, dtype=np.float32),
            codes=np.empty(_INITIAL_CAPACITY, dtype=np.int32),
            count=0,
            names=[],
            code_of={},
        )

    def __len__(self) -> int:
        return self._snapshot.count

    def replace_all(self, student_ids: list[str], vectors: np.ndarray) -> None:
        """Load the whole gallery at once (startup, resync)."""
        with self._lock:
            self._snapshot = self._build(student_ids, np.asarray(vectors, np.float32))

    def add(self, student_id: str, vectors: np.ndarray) -> None:
        """Append a student's new vectors."""
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        with self._lock:
            snap = self._snapshot
            names, code_of = snap.names, snap.code_of
            if student_id not in code_of:
                names = [*names, student_id]
                code_of = {**code_of, student_id: len(names) - 1}

            needed = snap.count + len(vectors)
            arrays = (snap.vectors, snap.squared_norms, snap.codes)
            if needed > len(snap.codes):
                capacity = max(needed, 2 * len(snap.codes))
                arrays = tuple(_grow(array, capacity, snap.count) for array in arrays)

            matrix, norms, codes = arrays
            matrix[snap.count : needed] = vectors
            norms[snap.count : needed] = np.einsum("ij,ij->i", vectors, vectors)
            codes[snap.count : needed] = code_of[student_id]
            self._snapshot = _Snapshot(matrix, norms, codes, needed, names, code_of)

    def remove(self, student_id: str) -> None:
        """Drop every vector of a student."""
        with self._lock:
            snap = self._snapshot
            code = snap.code_of.get(student_id)
            if code is None:
                return
            keep = snap.codes[: snap.count] != code
            ids = [snap.names[c] for c in snap.codes[: snap.count][keep]]
            self._snapshot = self._build(ids, snap.vectors[: snap.count][keep])

    def search(self, vector: np.ndarray, exclude: str | None = None) -> Match:
        """Nearest student to ``vector`` and the nearest different student."""
        snap = self._snapshot
        distances = self._distances(snap, vector)
        codes = snap.codes[: snap.count]
        if exclude is not None and exclude in snap.code_of:
            distances = np.where(codes == snap.code_of[exclude], np.inf, distances)
        if distances.size == 0 or not np.isfinite(distances).any():
            return Match(None, float("inf"), None, float("inf"))

        best_row = int(np.argmin(distances))
        best_code = codes[best_row]
        others = np.where(codes == best_code, np.inf, distances)
        runner_row = int(np.argmin(others)) if others.size else -1
        runner_up = others[runner_row] if runner_row >= 0 else np.inf
        return Match(
            student_id=snap.names[best_code],
            distance=float(distances[best_row]),
            runner_up_id=snap.names[codes[runner_row]]
            if np.isfinite(runner_up)
            else None,
            runner_up_distance=float(runner_up),
        )

    def distance_to(self, student_id: str, vector: np.ndarray) -> float | None:
        """Smallest distance from ``vector`` to a student's vectors (None if absent)."""
        snap = self._snapshot
        code = snap.code_of.get(student_id)
        if code is None:
            return None
        rows = snap.codes[: snap.count] == code
        if not rows.any():
            return None
        return float(self._distances(snap, vector)[rows].min())

    def contains(self, student_id: str) -> bool:
        snap = self._snapshot
        code = snap.code_of.get(student_id)
        return code is not None and bool((snap.codes[: snap.count] == code).any())

    def _distances(self, snap: _Snapshot, vector: np.ndarray) -> np.ndarray:
        if snap.count == 0:
            return np.empty(0, dtype=np.float32)
        query = np.asarray(vector, dtype=np.float32).reshape(self.dim)
        squared = (
            snap.squared_norms[: snap.count]
            - 2.0 * (snap.vectors[: snap.count] @ query)
            + float(query @ query)
        )
        return np.sqrt(np.maximum(squared, 0.0))

    def _build(self, student_ids: list[str], vectors: np.ndarray) -> _Snapshot:
        names: list[str] = []
        code_of: dict[str, int] = {}
        for student_id in student_ids:
            if student_id not in code_of:
                code_of[student_id] = len(names)
                names.append(student_id)
        count = len(student_ids)
        capacity = max(_INITIAL_CAPACITY, count * 2)
        matrix = np.empty((capacity, self.dim), dtype=np.float32)
        norms = np.empty(capacity, dtype=np.float32)
        codes = np.empty(capacity, dtype=np.int32)
        if count:
            matrix[:count] = vectors.reshape(count, self.dim)
            norms[:count] = np.einsum("ij,ij->i", matrix[:count], matrix[:count])
            codes[:count] = [code_of[s] for s in student_ids]
        return _Snapshot(matrix, norms, codes, count, names, code_of)


def _grow(array: np.ndarray, capacity: int, used: int) -> np.ndarray:
    grown = np.empty((capacity, *array.shape[1:]), dtype=array.dtype)
    grown[:used] = array[:used]
    return grown
