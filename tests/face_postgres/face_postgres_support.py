"""A throwaway PostgreSQL server on 127.0.0.1, for the shared-gallery tests.

The cluster lives in a temporary folder and listens on a free loopback port;
nothing is installed as a service. As root, the server runs as the ``postgres``
system user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import base64
import glob
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import matplotlib
import numpy as np
import psycopg
from attendance_ml.face.index import EmbeddingIndex

# A real photo that ships inside an installed dependency (public domain, US Navy).
GRACE_HOPPER = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"


def b64_file(path: Path) -> str:
    return base64.b64encode(Path(path).read_bytes()).decode()


def postgres_bin_dir() -> Path | None:
    """Folder of initdb/pg_ctl: on PATH, or Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresCluster:
    """initdb, start, stop and restart one server; ``url(db)`` to connect."""

    def __init__(self, root: Path, bin_dir: Path) -> None:
        self.root = root
        self.bin_dir = bin_dir
        self.data = root / "data"
        self.port = free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            self._as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(root, "postgres", "postgres")

    def init(self) -> None:
        self._run(
            "initdb", "-D", self.data, "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off -c max_connections=60"
        )
        self._run(
            "pg_ctl", "-D", self.data, "-l", self.root / "server.log",
            "-o", options, "-w", "-t", "30", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "30", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def _run(self, tool: str, *args: object) -> None:
        command = [*self._as_user, str(self.bin_dir / tool), *map(str, args)]
        subprocess.run(command, check=True, capture_output=True, timeout=60)


class IndexHolder:
    """The recognizer's part a follower needs: an index and a write lock."""

    def __init__(self) -> None:
        self.index = EmbeddingIndex()
        self.lock = threading.Lock()

    def apply_change(self, change: Callable[[EmbeddingIndex], None]) -> None:
        with self.lock:
            change(self.index)

    def rows_of(self, student_id: str) -> int:
        snapshot = self.index._snapshot
        code = snapshot.code_of.get(student_id)
        if code is None:
            return 0
        return int((snapshot.codes[: snapshot.count] == code).sum())


def vectors(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 128)).astype(np.float32)


def wait_until(condition: Callable[[], bool], timeout: float) -> float | None:
    """Seconds until ``condition()`` held, or None if it did not within ``timeout``."""
    started = time.monotonic()
    while True:
        if condition():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            return None
        time.sleep(0.01)
