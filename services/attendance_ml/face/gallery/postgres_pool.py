"""Connections to the PostgreSQL gallery: a small pool that turns outages into 503s.

Every failure to reach the server (refused, reset, timed out, terminated by a
restart) becomes :class:`StorageUnavailable`, which the service answers with 503
``storage_unavailable``. Nothing is retried behind the caller's back: a write whose
connection broke either committed or did not, and the caller is told to try again.
A broken connection is dropped; the next request opens a fresh one, so the service
recovers by itself once the server answers again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
import structlog

from attendance_ml.core.errors import StorageUnavailable

log = structlog.get_logger("attendance_ml.face.gallery")

# libpq settings: give up connecting after 3 s; drop a silent peer within ~10 s
# (keepalives while idle, tcp_user_timeout while a query waits for an answer).
CONNECT_OPTIONS = {
    "connect_timeout": 3,
    "tcp_user_timeout": 10_000,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 2,
    "application_name": "attendance-face",
    "client_encoding": "utf8",
}
STATEMENT_TIMEOUT_MS = 15_000
# An idle connection older than this is checked with a round trip before reuse.
CHECK_AFTER_IDLE_S = 2.0

UNREACHABLE = (psycopg.OperationalError, psycopg.InterfaceError)


def open_connection(url: str) -> psycopg.Connection:
    """A new autocommit connection with our timeouts, or StorageUnavailable."""
    try:
        connection = psycopg.connect(url, autocommit=True, **CONNECT_OPTIONS)
        connection.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
    except UNREACHABLE as error:
        raise StorageUnavailable() from error
    return connection


def describe_url(url: str) -> dict[str, str]:
    """Host, port and database of a URL, for logs (never the password)."""
    try:
        parts = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return {}
    return {key: str(parts[key]) for key in ("host", "port", "dbname") if key in parts}


class ConnectionPool:
    """Up to ``max_idle`` reusable connections; more are opened under load and closed.

    on_connect: run once on each new connection (schema migration), before use.
    """

    def __init__(
        self,
        url: str,
        on_connect: Callable[[psycopg.Connection], None],
        max_idle: int = 4,
    ) -> None:
        self._url = url
        self._on_connect = on_connect
        self._max_idle = max_idle
        self._idle: list[tuple[psycopg.Connection, float]] = []
        self._lock = threading.Lock()
        self._closed = False

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """An autocommit connection; a broken one is discarded on the way back."""
        connection = self._take()
        try:
            yield connection
        except UNREACHABLE as error:
            connection.close()
            log.warning("gallery_connection_lost", error=type(error).__name__)
            raise StorageUnavailable() from error
        except BaseException:
            self._give_back(connection)
            raise
        self._give_back(connection)

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """BEGIN ... COMMIT on a pooled connection; ROLLBACK on any error."""
        with self.connection() as connection, connection.transaction():
            yield connection

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for connection, _ in idle:
            connection.close()

    def _take(self) -> psycopg.Connection:
        while True:
            with self._lock:
                if self._closed:
                    raise StorageUnavailable("The gallery is closed.")
                if not self._idle:
                    break
                connection, since = self._idle.pop()
            if self._usable(connection, since):
                return connection

        connection = open_connection(self._url)
        try:
            self._on_connect(connection)
        except UNREACHABLE as error:
            connection.close()
            raise StorageUnavailable() from error
        except BaseException:
            connection.close()
            raise
        return connection

    def _give_back(self, connection: psycopg.Connection) -> None:
        if connection.closed or connection.broken:
            return
        if connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            connection.close()
            return
        with self._lock:
            if not self._closed and len(self._idle) < self._max_idle:
                self._idle.append((connection, time.monotonic()))
                return
        connection.close()

    @staticmethod
    def _usable(connection: psycopg.Connection, since: float) -> bool:
        if connection.closed or connection.broken:
            return False
        if time.monotonic() - since < CHECK_AFTER_IDLE_S:
            return True
        try:
            connection.execute("SELECT 1")
            return True
        except UNREACHABLE:
            connection.close()
            return False
