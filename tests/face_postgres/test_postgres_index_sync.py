"""Every replica's index follows the shared gallery: adds, erasures, outages."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from attendance_ml.core.errors import StorageUnavailable
from attendance_ml.face.gallery.sync import Snapshot
from face_postgres_support import IndexHolder, vectors, wait_until


@pytest.fixture()
def replicas(database_url, open_gallery):
    """Two galleries on one database, each following into its own index."""
    pairs = []
    for _ in range(2):
        gallery, holder = open_gallery(database_url), IndexHolder()
        assert gallery.follow_changes(holder) is True
        assert gallery._follower.wait_current(10)
        pairs.append((gallery, holder))
    return pairs


def test_registration_on_one_replica_reaches_the_other_within_a_second(replicas):
    (first, first_index), (_, second_index) = replicas

    first.add_embeddings("alice", vectors(3))
    first_index.apply_change(lambda index: index.add("alice", vectors(3)))
    seconds = wait_until(lambda: second_index.rows_of("alice") == 3, timeout=1.0)

    assert seconds is not None
    assert second_index.index.distance_to("alice", vectors(3)[1]) == pytest.approx(0)
    assert first_index.rows_of("alice") == 3


def test_erasure_on_one_replica_reaches_the_other_within_a_second(replicas):
    (first, first_index), (second, second_index) = replicas
    second.add_embeddings("bob", vectors(2, seed=2))
    assert wait_until(lambda: first_index.rows_of("bob") == 2, timeout=1.0)

    first.delete_student("bob")
    first_index.apply_change(lambda index: index.remove("bob"))

    assert wait_until(lambda: second_index.rows_of("bob") == 0, timeout=1.0)
    assert len(second_index.index) == 0
    assert len(first_index.index) == 0


def test_concurrent_registrations_of_one_student_end_identical_everywhere(replicas):
    barrier = threading.Barrier(8)
    errors = []

    def register(gallery, holder, seed: int) -> None:
        barrier.wait()
        try:
            batch = vectors(2, seed=seed)
            with holder.lock:  # what FaceRecognizer.register does
                gallery.add_embeddings("carol", batch)
                holder.index.add("carol", batch)
        except Exception as error:  # the test reports every failure below
            errors.append(error)

    threads = [
        threading.Thread(target=register, args=(*replicas[n % 2], n)) for n in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    for gallery, holder in replicas:
        assert wait_until(lambda h=holder: h.rows_of("carol") == 16, timeout=1.0)
        assert gallery.get_student("carol").embedding_count == 16
        assert len(holder.index) == 16
    assert replicas[0][0].list_students(10, 0)[1] == 1


def test_database_restart_makes_replicas_refuse_then_recover(
    replicas, postgres_cluster
):
    (first, first_index), (second, second_index) = replicas
    first.add_embeddings("dave", vectors(1, seed=4))
    assert wait_until(lambda: second_index.rows_of("dave") == 1, timeout=1.0)

    postgres_cluster.stop("fast")
    try:
        for gallery in (first, second):
            assert wait_until(lambda g=gallery: not g._follower.current, timeout=5)
            assert gallery.ping() is False
            with pytest.raises(StorageUnavailable):
                gallery.check_current()
            with pytest.raises(StorageUnavailable):
                gallery.add_embeddings("erin", vectors(1, seed=5))
    finally:
        postgres_cluster.start()

    for gallery in (first, second):
        assert gallery._follower.wait_current(10)
        assert gallery.ping() is True
    second.add_embeddings("erin", vectors(1, seed=5))
    assert wait_until(lambda: first_index.rows_of("erin") == 1, timeout=1.0)
    assert first_index.rows_of("dave") == second_index.rows_of("dave") == 1
    assert first.get_student("dave").embedding_count == 1


def test_a_replica_that_lost_its_listener_catches_up_by_resync(replicas, database_url):
    (first, _), (second, second_index) = replicas
    resyncs = second._follower.resyncs
    listener_pid = _listener_pids(database_url)

    with psycopg.connect(database_url, autocommit=True) as admin:
        for pid in listener_pid:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    first.add_embeddings("frank", vectors(2, seed=6))

    assert wait_until(lambda: second._follower.resyncs > resyncs, timeout=5)
    assert wait_until(lambda: second_index.rows_of("frank") == 2, timeout=1.0)
    assert len(second_index.index) == 2


def test_snapshot_tells_which_transactions_it_saw():
    snapshot = Snapshot.parse("100:105:101,103")

    assert [xid for xid in range(98, 108) if snapshot.saw(xid)] == [
        98,
        99,
        100,
        102,
        104,
    ]


def _listener_pids(database_url: str) -> list[int]:
    with psycopg.connect(database_url) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND query LIKE 'LISTEN%%' OR (datname = current_database() AND "
            "query = 'SELECT 1' AND application_name = 'attendance-face')"
        ).fetchall()
    return [row[0] for row in rows]


def test_replica_started_while_the_database_is_down_catches_up_when_it_returns(
    database_url, open_gallery, postgres_cluster
):
    writer = open_gallery(database_url)
    writer.add_embeddings("gina", vectors(2, seed=7))
    postgres_cluster.stop("fast")
    try:
        gallery, holder = open_gallery(database_url), IndexHolder()
        gallery.follow_changes(holder)
        time.sleep(0.5)

        assert gallery.ping() is False
        assert holder.rows_of("gina") == 0
        with pytest.raises(StorageUnavailable):
            gallery.check_current()
    finally:
        postgres_cluster.start()

    assert gallery._follower.wait_current(10)
    assert holder.rows_of("gina") == 2
    assert gallery.ping() is True
