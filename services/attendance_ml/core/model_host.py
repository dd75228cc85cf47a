"""Loads a service's models once per worker and says when they are ready.

Ready means every model loaded and ran one warm-up inference. Loading may run on a
background thread so that liveness answers while big models load.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

import structlog

from attendance_ml.core.errors import NotReady
from attendance_ml.core.metrics import ModelInfo, ServiceMetrics

log = structlog.get_logger("attendance_ml.models")


class ModelBundle(Protocol):
    """What a service's loaded models must offer the host."""

    def model_infos(self) -> list[ModelInfo]: ...

    def warm_up(self) -> None: ...


B = TypeVar("B", bound=ModelBundle)


class ModelHost(Generic[B]):
    """Owns the loading of one service's model bundle and its readiness."""

    def __init__(self, load: Callable[[], B], metrics: ServiceMetrics | None) -> None:
        self._load = load
        self._metrics = metrics
        self._bundle: B | None = None
        self._error: str | None = None
        self._loaded_event = threading.Event()
        self._lock = threading.Lock()
        self.load_seconds: float | None = None

    def start(self, background: bool) -> None:
        """Load now, or on a daemon thread when ``background`` is true."""
        if background:
            threading.Thread(target=self._load_and_warm, daemon=True).start()
        else:
            self._load_and_warm()

    def _load_and_warm(self) -> None:
        started = time.perf_counter()
        try:
            bundle = self._load()
            bundle.warm_up()
        except Exception as error:
            self._error = f"{type(error).__name__}: {error}"
            log.exception("model_load_failed")
            if self._metrics:
                self._metrics.model_load_failures.labels(
                    self._metrics.service, "all"
                ).inc()
                self._metrics.ready.labels(self._metrics.service).set(0)
            self._loaded_event.set()
            return

        with self._lock:
            self._bundle = bundle
        self.load_seconds = round(time.perf_counter() - started, 2)
        infos = bundle.model_infos()
        if self._metrics:
            for info in infos:
                self._metrics.model_loaded.labels(
                    self._metrics.service, info.slot, info.name, info.version
                ).set(1)
            self._metrics.ready.labels(self._metrics.service).set(1)
        log.info(
            "models_ready",
            seconds=self.load_seconds,
            models=[info.as_dict() for info in infos],
        )
        self._loaded_event.set()

    @property
    def ready(self) -> bool:
        return self._bundle is not None

    @property
    def error(self) -> str | None:
        return self._error

    def wait(self, timeout: float | None = None) -> bool:
        """Block until loading finished (well or not); true when ready."""
        self._loaded_event.wait(timeout)
        return self.ready

    def bundle(self) -> B:
        """The loaded models, or NotReady while they load."""
        bundle = self._bundle
        if bundle is None:
            raise NotReady(
                "The service's models failed to load." if self._error else None
            )
        return bundle

    def describe(self) -> dict:
        bundle = self._bundle
        return {
            "ready": bundle is not None,
            "error": self._error,
            "loadSeconds": self.load_seconds,
            "models": [info.as_dict() for info in bundle.model_infos()]
            if bundle
            else [],
        }
