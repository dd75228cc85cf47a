"""The in-memory matching matrix: nearest student, runner-up, concurrency."""

from __future__ import annotations

import threading

import numpy as np
from attendance_ml.face.index import EmbeddingIndex


def unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return vector / np.linalg.norm(vector)


def test_nearest_student_and_runner_up_are_different_students():
    index = EmbeddingIndex()
    index.add("alice", np.stack([unit(1), unit(1) * 0.99]))
    index.add("bob", unit(2)[None, :])

    match = index.search(unit(1))

    assert match.student_id == "alice"
    assert match.distance < 1e-3
    assert match.runner_up_id == "bob"
    assert match.margin > 1.0


def test_empty_index_finds_nobody():
    match = EmbeddingIndex().search(unit(1))

    assert match.student_id is None
    assert match.distance == float("inf")


def test_exclude_skips_one_student():
    index = EmbeddingIndex()
    index.add("alice", unit(1)[None, :])
    index.add("bob", unit(2)[None, :])

    assert index.search(unit(1), exclude="alice").student_id == "bob"


def test_remove_drops_every_vector_of_a_student():
    index = EmbeddingIndex()
    index.add("alice", np.stack([unit(1), unit(3)]))
    index.add("bob", unit(2)[None, :])

    index.remove("alice")

    assert len(index) == 1
    assert not index.contains("alice")
    assert index.search(unit(1)).student_id == "bob"
    assert index.distance_to("alice", unit(1)) is None


def test_growth_beyond_initial_capacity_keeps_every_vector():
    index = EmbeddingIndex()
    for i in range(3000):
        index.add(f"s{i}", unit(i)[None, :])

    assert len(index) == 3000
    assert index.search(unit(2500)).student_id == "s2500"
    assert index.search(unit(7)).student_id == "s7"


def test_concurrent_adds_and_searches_stay_consistent():
    index = EmbeddingIndex()
    index.add("anchor", unit(0)[None, :])
    errors = []

    def writer(start: int) -> None:
        for i in range(start, start + 400):
            index.add(f"s{i}", unit(i + 10)[None, :])

    def reader() -> None:
        for _ in range(400):
            match = index.search(unit(0))
            if match.student_id != "anchor" or match.distance > 1e-3:
                errors.append(match)

    threads = [threading.Thread(target=writer, args=(n * 1000,)) for n in range(3)]
    threads += [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(index) == 1 + 3 * 400
