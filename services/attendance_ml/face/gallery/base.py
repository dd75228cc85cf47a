"""The gallery interface every storage backend implements.

Embeddings are stored with the key of the model that made them
(``name@version``), and a gallery only ever hands back vectors of its own model,
so a new embedding model never compares against another model's vectors.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from attendance_ml.core.errors import InvalidRequest

if TYPE_CHECKING:
    from attendance_ml.face.index import EmbeddingIndex

_STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$")


def validate_student_id(value: Any) -> str:
    """A student id: 1-128 characters of letters, digits and ``. _ @ : -``."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise InvalidRequest("studentId must be a string.")
    text = str(value)
    if not _STUDENT_ID.fullmatch(text):
        raise InvalidRequest(
            "studentId must be 1-128 letters, digits or . _ @ : - "
            "and start with a letter or digit."
        )
    return text


@dataclass(frozen=True)
class StudentRecord:
    """What the gallery knows about one student."""

    student_id: str
    embedding_count: int
    created_at: str
    updated_at: str
    metadata: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "studentId": self.student_id,
            "embeddingCount": self.embedding_count,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "metadata": self.metadata,
        }


@dataclass(frozen=True)
class StoredEmbeddings:
    """Every embedding of one model: parallel arrays of student ids and vectors."""

    student_ids: list[str]
    vectors: np.ndarray  # (n, dim) float32


class IndexKeeper(Protocol):
    """Owner of an in-memory index that a shared gallery keeps in step."""

    def apply_change(self, change: Callable[[EmbeddingIndex], None]) -> None:
        """Run ``change`` on the index, serialised with this process's own writes."""


class FaceGallery(ABC):
    """Students and their embeddings, for one embedding model.

    Every write is atomic: it stores everything it was given or nothing.
    """

    model_key: str

    @abstractmethod
    def add_embeddings(
        self,
        student_id: str,
        vectors: np.ndarray,
        metadata: dict[str, Any] | None = None,
    ) -> StudentRecord:
        """Store vectors for a student, creating the student if new."""

    @abstractmethod
    def delete_student(self, student_id: str) -> int:
        """Erase a student and every embedding; returns how many were removed."""

    @abstractmethod
    def get_student(self, student_id: str) -> StudentRecord | None:
        """One student, or None."""

    @abstractmethod
    def list_students(self, limit: int, offset: int) -> tuple[list[StudentRecord], int]:
        """A page of students ordered by id, and the total count."""

    @abstractmethod
    def load_embeddings(self) -> StoredEmbeddings:
        """Every stored embedding of this gallery's model."""

    @abstractmethod
    def count_other_model_embeddings(self) -> int:
        """Embeddings made by other models: those students need re-enrolment."""

    @abstractmethod
    def ping(self) -> bool:
        """True when the storage answers."""

    def close(self) -> None:  # noqa: B027 - optional for backends without resources
        """Release connections."""

    def follow_changes(self, keeper: IndexKeeper) -> bool:
        """Keep ``keeper``'s index in step with writes made by other processes.

        Returns True when the gallery took over loading the index (on start and
        after every reconnection); False, the default for single-process backends,
        when the caller loads it itself with :meth:`load_embeddings`.
        """
        return False

    def check_current(self) -> None:  # noqa: B027 - no-op unless shared by processes
        """Raise StorageUnavailable while the index may have missed changes."""
