"""What the pods say: which model each loaded, whether it failed, its error rate.

The operator asks every pod directly, over HTTP with a short timeout:
``GET /health/ready`` (200 only when every model loaded and warmed up; the body
lists ``models: [{slot, name, version}]`` and, after a failed load, ``error``),
``GET /metrics`` for the request counters, and the service's own endpoints for the
quality gate. Pods are addressed by ``status.podIP`` and the target container's
port; the address function is injectable so that tests serve pods on loopback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

REQUEST_COUNTER = "flask_http_request_total"
RESTARTS_BEFORE_FAILURE = 3
FAILING_WAIT_REASONS = {
    "CrashLoopBackOff",
    "ErrImagePull",
    "ImagePullBackOff",
    "CreateContainerConfigError",
}

PodAddress = Callable[[dict[str, Any], int], str]


def pod_base_url(pod: dict[str, Any], port: int) -> str:
    """``http://<podIP>:<port>``: the pod seen from inside the cluster."""
    return f"http://{pod.get('status', {}).get('podIP', '')}:{port}"


@dataclass(frozen=True)
class PodReport:
    """One pod's answer to ``/health/ready``.

    versions: slot -> version of the models the pod reports as loaded.
    error: why the pod failed to load its models, when it says so.
    """

    name: str
    ready: bool
    versions: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    reachable: bool = True


@dataclass(frozen=True)
class RequestCounts:
    """Cumulative HTTP requests a pod answered, and how many were 5xx."""

    total: float
    errors: float


def matches_labels(labels: dict[str, str], wanted: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in wanted.items())


def pod_env(pod: dict[str, Any], container: str, name: str) -> str | None:
    """The value of one environment variable of one container of the pod."""
    for spec in pod.get("spec", {}).get("containers", []):
        if spec.get("name") == container:
            for entry in spec.get("env") or []:
                if entry.get("name") == name:
                    return entry.get("value")
    return None


def pod_failure(pod: dict[str, Any]) -> str | None:
    """Why the pod cannot come up (crash loop, image pull), or None."""
    for status in pod.get("status", {}).get("containerStatuses") or []:
        waiting = (status.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in FAILING_WAIT_REASONS:
            return f"{status.get('name')}: {waiting['reason']}"
        if status.get("restartCount", 0) >= RESTARTS_BEFORE_FAILURE:
            return f"{status.get('name')}: restarted {status['restartCount']} times"
    return None


def is_terminating(pod: dict[str, Any]) -> bool:
    return bool(pod.get("metadata", {}).get("deletionTimestamp"))


class PodProbe:
    """Asks pods over HTTP.

    timeout_seconds: total time of one request to a pod.
    """

    def __init__(self, timeout_seconds: float, address: PodAddress = pod_base_url):
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._address = address

    async def readiness(self, pod: dict[str, Any], port: int) -> PodReport:
        name = pod.get("metadata", {}).get("name", "")
        url = self._address(pod, port) + "/health/ready"
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as session,
                session.get(url) as response,
            ):
                body = await response.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError):
            return PodReport(name=name, ready=False, reachable=False)
        if not isinstance(body, dict):
            return PodReport(name=name, ready=False, reachable=False)
        versions = {
            str(model.get("slot")): str(model.get("version"))
            for model in body.get("models") or []
            if isinstance(model, dict)
        }
        return PodReport(
            name=name,
            ready=response.status == 200 and body.get("ready") is True,
            versions=versions,
            error=body.get("error") or None,
        )

    async def request_counts(self, pod: dict[str, Any], port: int) -> RequestCounts:
        """Sum ``flask_http_request_total`` over routes; 5xx statuses are errors."""
        url = self._address(pod, port) + "/metrics"
        async with (
            aiohttp.ClientSession(timeout=self._timeout) as session,
            session.get(url) as response,
        ):
            text = await response.text()
        total = errors = 0.0
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name != REQUEST_COUNTER:
                    continue
                total += sample.value
                if str(sample.labels.get("status", "")).startswith("5"):
                    errors += sample.value
        return RequestCounts(total=total, errors=errors)

    async def post_json(
        self, pod: dict[str, Any], port: int, path: str, body: Any
    ) -> tuple[int, Any]:
        """POST a JSON body to the pod; (status, parsed body or None)."""
        url = self._address(pod, port) + path
        async with (
            aiohttp.ClientSession(timeout=self._timeout) as session,
            session.post(url, json=body) as response,
        ):
            try:
                return response.status, await response.json(content_type=None)
            except ValueError:
                return response.status, None
