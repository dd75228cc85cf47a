"""Gallery storage benchmark: SQLite and PostgreSQL side by side, 10k and 100k faces.

Measures, per backend and gallery size: a registration's latency (one student, three
128-d vectors, one durable commit) and throughput from 1 and 4 threads; the time to
load every vector into the in-memory index (start-up and PostgreSQL resync); one
1:N query against that index; and, for PostgreSQL, how long a registration made by
one replica takes to reach another replica's index (LISTEN/NOTIFY).

Vectors are synthetic (random 128-d float32): storage and query time do not depend
on what the vectors show. Both servers run with durable defaults (SQLite WAL +
synchronous=FULL; PostgreSQL fsync and synchronous_commit on). PostgreSQL is a
throwaway server on 127.0.0.1 started here, or the one named by
``ATTENDANCE_BENCH_POSTGRES_URL`` (its tables are emptied).

    .venv/bin/python benchmarks/gallery_benchmark.py [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import psycopg
from attendance_ml.face.gallery.base import FaceGallery
from attendance_ml.face.gallery.postgres import PostgresGallery
from attendance_ml.face.gallery.sqlite import SQLiteGallery
from attendance_ml.face.index import EmbeddingIndex

MODEL = "synthetic@1"
VECTORS_PER_STUDENT = 4
rng = np.random.default_rng(7)


def vectors(n: int) -> np.ndarray:
    return rng.normal(size=(n, 128)).astype(np.float32)


def stats(samples_ms: list[float]) -> tuple[str, str]:
    return (
        f"{np.percentile(samples_ms, 50):.2f}",
        f"{np.percentile(samples_ms, 95):.2f}",
    )


def print_table(title: str, header: list[str], rows: list[list[object]]) -> None:
    print(f"\n{title}")
    columns = zip(header, *rows, strict=False)
    widths = [max(len(str(cell)) for cell in column) for column in columns]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A durable PostgreSQL server in a temp folder on a free loopback port."""
    if os.environ.get("ATTENDANCE_BENCH_POSTGRES_URL"):
        yield os.environ["ATTENDANCE_BENCH_POSTGRES_URL"]
        return
    found = (
        shutil.which("initdb")
        or (sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or [None])[-1]
    )
    if found is None:
        raise SystemExit(
            "PostgreSQL binaries not found: bash scripts/ci.d/45-postgres.sh"
        )
    bin_dir = Path(os.path.realpath(found)).parent
    root = Path(tempfile.mkdtemp(prefix="attendance-pg-bench-"))
    as_user = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres", "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def run(*args: object) -> None:
        command = [*as_user, *map(str, args)]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    data = root / "data"
    run(bin_dir / "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    run(
        bin_dir / "pg_ctl", "-D", data, "-l", root / "log", "-o", options, "-w", "start"
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(bin_dir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def seed_sqlite(gallery: SQLiteGallery, total: int) -> None:
    """Bulk insert ``total`` vectors in one transaction (not a timed figure)."""
    rows = _seed_rows(total)
    db = gallery._connection
    with gallery._lock:
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO students VALUES (?, '2026-01-01', '2026-01-01', '{}')",
            [(s,) for s in sorted({row[0] for row in rows})],
        )
        db.executemany(
            "INSERT INTO embeddings (student_id, model, dim, vector, created_at) "
            "VALUES (?, ?, 128, ?, '2026-01-01')",
            [(s, MODEL, v.tobytes()) for s, v in rows],
        )
        db.execute("COMMIT")


def seed_postgres(url: str, total: int) -> None:
    """Bulk COPY ``total`` vectors (not a timed figure)."""
    rows = _seed_rows(total)
    with psycopg.connect(url) as db, db.cursor() as cursor:
        with cursor.copy("COPY students (student_id) FROM STDIN") as copy:
            for student_id in sorted({row[0] for row in rows}):
                copy.write_row((student_id,))
        with cursor.copy(
            "COPY embeddings (student_id, model, dim, vector) FROM STDIN"
        ) as copy:
            for student_id, vector in rows:
                copy.write_row((student_id, MODEL, 128, vector.tobytes()))


def _seed_rows(total: int) -> list[tuple[str, np.ndarray]]:
    matrix = vectors(total)
    return [(f"seed-{i // VECTORS_PER_STUDENT:06d}", v) for i, v in enumerate(matrix)]


def registration(gallery: FaceGallery, count: int, threads: int) -> tuple[list, float]:
    """Latencies (ms) of ``count`` three-photo registrations, and registrations/s."""
    batches = [vectors(3) for _ in range(count)]
    prefix = f"reg-{threads}-{time.monotonic_ns()}"
    latencies: list[float] = []

    def register(position: int) -> None:
        started = time.perf_counter()
        gallery.add_embeddings(f"{prefix}-{position}", batches[position])
        latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(register, range(count)))
    return latencies, count / (time.perf_counter() - started)


def query_ms(indexes: list[EmbeddingIndex], runs: int) -> list[list[float]]:
    """1:N query latencies (ms) per index, alternating between them query by query,
    so that both backends' figures see the same load on a shared machine."""
    probes = vectors(runs)
    for index in indexes:
        index.search(probes[0])
    samples: list[list[float]] = [[] for _ in indexes]
    for probe in probes:
        for index, timings in zip(indexes, samples, strict=True):
            started = time.perf_counter()
            index.search(probe)
            timings.append((time.perf_counter() - started) * 1000)
    return samples


def propagation_ms(url: str, runs: int) -> list[float]:
    """Registration committed on replica A until it is in replica B's index."""
    writer, reader = PostgresGallery(url, MODEL), PostgresGallery(url, MODEL)
    index, lock = EmbeddingIndex(), threading.Lock()

    class Keeper:
        def apply_change(self, change: Callable[[EmbeddingIndex], None]) -> None:
            with lock:
                change(index)

    reader.follow_changes(Keeper())
    reader._follower.wait_current(120)
    samples = []
    for run in range(runs):
        student_id = f"prop-{run}"
        started = time.perf_counter()
        writer.add_embeddings(student_id, vectors(1))
        while not index.contains(student_id):
            if time.perf_counter() - started > 10:
                raise SystemExit("replica B did not follow within 10 s")
            time.sleep(0.0005)
        samples.append((time.perf_counter() - started) * 1000)
    writer.close()
    reader.close()
    return samples


def measure(name: str, gallery: FaceGallery, size: int, runs: int):
    """One table row (without the query columns) and the loaded index."""
    started = time.perf_counter()
    stored = gallery.load_embeddings()
    load_s = time.perf_counter() - started
    index = EmbeddingIndex()
    index.replace_all(stored.student_ids, stored.vectors)

    one, one_rate = registration(gallery, runs, threads=1)
    _, four_rate = registration(gallery, runs, threads=4)
    reg_p50, reg_p95 = stats(one)
    row = [name, f"{size:,}", reg_p50, reg_p95, f"{one_rate:.0f}", f"{four_rate:.0f}",
           f"{load_s:.2f}"]  # fmt: skip
    return row, index


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    rows: list[list] = []
    propagation: list[float] = []
    with throwaway_postgres() as url, tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            sqlite = SQLiteGallery(Path(folder) / f"g{size}.sqlite3", MODEL)
            seed_sqlite(sqlite, size)
            sqlite_row, sqlite_index = measure(
                "SQLite (WAL, sync FULL)", sqlite, size, args.runs
            )
            sqlite.close()

            postgres = PostgresGallery(url, MODEL)
            postgres.ping()  # migrates
            with psycopg.connect(url, autocommit=True) as db:
                db.execute("TRUNCATE students, embeddings")
            seed_postgres(url, size)
            postgres_row, postgres_index = measure(
                "PostgreSQL 15 (loopback)", postgres, size, args.runs
            )
            postgres.close()

            timings = query_ms([sqlite_index, postgres_index], args.runs)
            for row, samples in zip((sqlite_row, postgres_row), timings, strict=True):
                rows.append([*row, *stats(samples)])
        propagation = propagation_ms(url, min(args.runs, 100))

    print_table(
        "Gallery storage, synthetic 128-d vectors (registration = 3 vectors, "
        "one commit; latencies in ms; load = whole gallery into the index, s)",
        ["backend", "enrolled", "reg p50", "reg p95", "reg/s 1 thr", "reg/s 4 thr",
         "load s", "1:N p50", "1:N p95"],
        rows,
    )  # fmt: skip
    p50, p95 = stats(propagation)
    print_table(
        "PostgreSQL: registration on replica A until in replica B's index (ms)",
        ["runs", "p50", "p95", "max"],
        [[len(propagation), p50, p95, f"{max(propagation):.2f}"]],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
