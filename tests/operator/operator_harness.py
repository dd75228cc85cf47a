"""Helpers of the operator tests: kmock set-up, the operator runner, MLModel calls."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import kopf
from fake_cluster import DEPLOYMENTS, FakeCluster
from mlmodel_operator.config import OperatorConfig
from mlmodel_operator.registry import build_registry, build_services

NAMESPACE = "ml"
MLMODELS = "attendance-ml.io/v1alpha1/mlmodels"
MLMODELS_PATH = f"/apis/attendance-ml.io/v1alpha1/namespaces/{NAMESPACE}/mlmodels"
PREFIX = "ATTENDANCE_DETECTION_MODEL_PHONE_DETECTOR_"
SHA = "3" * 64
CANARY = "ml-detection-canary-phone-detector"
TEST_CONFIG = OperatorConfig(
    namespace=NAMESPACE,
    poll_seconds=0.1,
    pod_timeout_seconds=1.0,
    conflict_recheck_seconds=0.3,
    max_transient_errors=3,
)


def declare_resources(kmock: Any) -> None:
    info = kmock.ResourceInfo
    every = {"get", "list", "watch", "create", "patch", "update", "delete"}
    kmock.resources[MLMODELS] = info(
        namespaced=True, kind="MLModel", verbs=every, subresources={"status"}
    )
    kmock.resources["v1/namespaces"] = info(
        namespaced=False, kind="Namespace", verbs={"list", "watch"}
    )
    kmock.resources["v1/events"] = info(namespaced=True, kind="Event", verbs={"create"})
    kmock.resources["v1/pods"] = info(namespaced=True, kind="Pod", verbs=every)
    kmock.resources[DEPLOYMENTS] = info(namespaced=True, kind="Deployment", verbs=every)


def add_deployment(
    kmock: Any,
    name: str = "ml-detection",
    service: str = "detection",
    replicas: int = 2,
) -> None:
    labels = {
        "app.kubernetes.io/name": "ml-services",
        "app.kubernetes.io/instance": "test",
        "app.kubernetes.io/component": service,
    }
    kmock.objects[DEPLOYMENTS, NAMESPACE, name] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "labels": {**labels, "app.kubernetes.io/part-of": "attendance-ml"},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": service,
                            "image": "attendance-ml/detection:0.1.0",
                            "ports": [{"name": "http", "containerPort": 5002}],
                            "env": [{"name": "ATTENDANCE_LOG_LEVEL", "value": "INFO"}],
                        }
                    ]
                },
            },
        },
    }


@contextlib.asynccontextmanager
async def running_operator(kmock: Any, cluster: FakeCluster) -> AsyncIterator[None]:
    """The operator's own registry, run by ``kopf.operator`` against kmock.

    It runs on its own thread and event loop, as in a real process: on exit
    kopf cancels every task it did not find at start, which would include the
    test's own tasks if it shared their loop.
    """
    services = build_services(TEST_CONFIG, address=cluster.pod_address)
    server = str(kmock.url).rstrip("/")
    registry = build_registry(
        TEST_CONFIG, services, login=lambda: kopf.ConnectionInfo(server=server)
    )
    stop = threading.Event()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        health_port = probe.getsockname()[1]
    cluster.health_url = f"http://127.0.0.1:{health_port}/healthz"
    coroutine = kopf.operator(
        liveness_endpoint=cluster.health_url,
        registry=registry,
        settings=kopf.OperatorSettings(),
        namespaces=[NAMESPACE],
        standalone=True,
        memo=kopf.Memo(services=services),
        stop_flag=stop,
    )
    thread = threading.Thread(target=asyncio.run, args=(coroutine,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        await asyncio.to_thread(thread.join, 10)
    assert not thread.is_alive(), "the operator did not stop"


_created = iter(range(10, 60))


async def create_model(kmock: Any, name: str, spec: dict[str, Any]) -> None:
    """POST an MLModel as kubectl apply would (the API server fills in metadata)."""
    body = {
        "apiVersion": "attendance-ml.io/v1alpha1",
        "kind": "MLModel",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "uid": str(uuid.uuid4()),
            "generation": 1,
            "resourceVersion": "1",
            "creationTimestamp": f"2026-12-04T10:00:{next(_created):02d}Z",
        },
        "spec": spec,
    }
    response = await kmock.post(MLMODELS_PATH, json=body)
    assert response.status == 200, await response.text()


async def update_spec(kmock: Any, name: str, spec: dict[str, Any]) -> None:
    """Replace the spec and bump the generation, as the API server does."""
    generation = int(model(kmock, name)["metadata"]["generation"]) + 1
    patch = {"metadata": {"generation": generation}, "spec": spec}
    response = await kmock.patch(f"{MLMODELS_PATH}/{name}", json=patch)
    assert response.status == 200, await response.text()


async def delete_model(kmock: Any, name: str) -> None:
    response = await kmock.delete(f"{MLMODELS_PATH}/{name}")
    assert response.status == 200, await response.text()


def model(kmock: Any, name: str) -> dict[str, Any]:
    """The stored MLModel; KeyError once it is deleted."""
    for (kind, _, found), obj in list(kmock.objects.items()):
        if kind.plural == "mlmodels" and found == name and not obj.deleted:
            return obj.raw
    raise KeyError(name)


def status_of(kmock: Any, name: str) -> dict[str, Any]:
    return dict(model(kmock, name).get("status") or {})


async def wait_for(check: Callable[[], Any], timeout: float = 15.0) -> None:
    """Poll ``check`` until it returns truthy; fail with its last value."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        try:
            last = check()
        except KeyError as error:
            last = error
        else:
            if last:
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout}s: {last!r}")


async def wait_for_phase(kmock: Any, name: str, phase: str, timeout: float = 15.0):
    await wait_for(lambda: status_of(kmock, name).get("phase") == phase, timeout)
    return status_of(kmock, name)


def deployment(kmock: Any, name: str = "ml-detection") -> dict[str, Any] | None:
    for (kind, _, found), obj in list(kmock.objects.items()):
        if kind.plural == "deployments" and found == name and not obj.deleted:
            return obj.raw
    return None


def container_env(kmock: Any, name: str = "ml-detection") -> dict[str, str]:
    found = deployment(kmock, name)
    assert found is not None
    container = found["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e["value"] for e in container.get("env") or []}


def events(kmock: Any, name: str) -> list[tuple[str, str]]:
    """(type, reason) of the Events posted about one MLModel, in order."""
    found = []
    for (kind, _, _), obj in list(kmock.objects.items()):
        if kind.plural != "events" or obj.deleted:
            continue
        if obj.raw.get("involvedObject", {}).get("name") == name:
            found.append((obj.raw.get("type"), obj.raw.get("reason")))
    return found


def phone_spec(version: str, **extra: Any) -> dict[str, Any]:
    """An MLModel spec for the detection service's phone detector."""
    return {
        "service": "detection",
        "slot": "phone_detector",
        "version": version,
        "source": {
            "uri": f"https://models.example/phone-{version}.onnx",
            "sha256": SHA,
        },
        "format": "onnx",
        "settings": {"threshold": 0.45, "classes": ["cell phone"]},
        **extra,
    }


def canary_spec(version: str, **extra: Any) -> dict[str, Any]:
    strategy = {"type": "canary", "canary": {"replicas": 1, "holdSeconds": 0.3}}
    return phone_spec(version, strategy=strategy, **extra)
