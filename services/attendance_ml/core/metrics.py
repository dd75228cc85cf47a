"""Prometheus metrics: HTTP metrics from prometheus-flask-exporter plus inference time.

Each app gets its own registry, so several apps can live in one test process. A
service runs one gunicorn worker per container (scaling is by pods), so the
registry of that worker is the pod's whole picture.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask, current_app, has_app_context
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_flask_exporter import PrometheusMetrics

INFERENCE_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56)


@dataclass(frozen=True)
class ModelInfo:
    """Which model answered: its slot in the service, name and version."""

    slot: str
    name: str
    version: str

    def as_dict(self) -> dict[str, str]:
        return {"slot": self.slot, "name": self.name, "version": self.version}


class ServiceMetrics:
    """The metrics one service exports beyond the HTTP ones."""

    def __init__(self, service: str, registry: CollectorRegistry) -> None:
        self.service = service
        self.inference_seconds = Histogram(
            "attendance_inference_seconds",
            "Time spent in one model inference, in seconds.",
            ["service", "slot", "model", "version"],
            buckets=INFERENCE_BUCKETS,
            registry=registry,
        )
        self.model_loaded = Gauge(
            "attendance_model_loaded",
            "1 when the model in this slot is loaded and warmed up.",
            ["service", "slot", "model", "version"],
            registry=registry,
        )
        self.model_load_failures = Counter(
            "attendance_model_load_failures",
            "Model loads that failed, by slot.",
            ["service", "slot"],
            registry=registry,
        )
        self.ready = Gauge(
            "attendance_service_ready",
            "1 when every model of the service is loaded and warmed up.",
            ["service"],
            registry=registry,
        )

    @contextmanager
    def time_inference(self, model: ModelInfo) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.inference_seconds.labels(
                self.service, model.slot, model.name, model.version
            ).observe(time.perf_counter() - started)


def install_metrics(app: Flask, service: str) -> ServiceMetrics:
    """Serve ``/metrics`` with HTTP and inference metrics in the app's own registry."""
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    exporter = PrometheusMetrics(
        app,
        registry=registry,
        group_by="url_rule",
        default_labels={"service": service},
        excluded_paths=["/metrics", "/health"],
    )
    exporter.info("attendance_service_info", "Service identity.", service=service)
    metrics = ServiceMetrics(service, registry)
    app.extensions["attendance_metrics"] = metrics
    return metrics


@contextmanager
def timed_inference(model: ModelInfo) -> Iterator[None]:
    """Time a model call into the current app's inference histogram."""
    metrics: ServiceMetrics | None = None
    if has_app_context():
        metrics = current_app.extensions.get("attendance_metrics")
    if metrics is None:
        yield
        return
    with metrics.time_inference(model):
        yield
