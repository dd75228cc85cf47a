"""Reconcile logic as plain functions: retries, gate scores, conditions, pods."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from mlmodel_operator import status as st
from mlmodel_operator.checks import check_pods
from mlmodel_operator.config import OperatorConfig
from mlmodel_operator.kube import ApiError, KubeClient
from mlmodel_operator.pods import PodProbe, PodReport, pod_failure
from mlmodel_operator.quality_gate import (
    RegressionSetError,
    load_regression_set,
    resolve_pointer,
    score,
)
from mlmodel_operator.reconcile import reconcile
from mlmodel_operator.spec import QualityGate, parse_spec
from mlmodel_operator.steps import Resource, Services

CONFIG = OperatorConfig(poll_seconds=1.0, max_transient_errors=3)
SPEC = {
    "service": "sentiment",
    "slot": "emotion",
    "version": "2",
    "source": {"uri": "builtin:"},
    "format": "tflite",
}


class UnreachableApi(KubeClient):
    """An API server that answers every request with 503."""

    async def _request(self, method: str, path: str, **_: Any) -> Any:
        raise ApiError(503, f"{method} {path}: connection refused")


def resource(
    status: dict[str, Any] | None = None, spec: dict | None = None
) -> Resource:
    return Resource(
        "emotion", "ml", "u", 1, "2026-12-04T10:00:00Z", spec or SPEC, status or {}
    )


def services() -> Services:
    return Services(UnreachableApi(), PodProbe(1.0), CONFIG, clock=lambda: 1000.0)


@pytest.mark.asyncio
async def test_api_trouble_is_retried_with_backoff_then_fails() -> None:
    delays = []
    status: dict[str, Any] = {}
    for _ in range(3):
        step = await reconcile(resource(status), services())
        delays.append(step.retry_after)
        status = {"rollout": {**status.get("rollout", {}), **step.status["rollout"]}}

    final = await reconcile(resource(status), services())

    assert delays == [1.0, 2.0, 4.0]
    assert final.retry_after is None
    assert final.status["phase"] == "Failed"
    assert final.status["reason"] == "ApiUnavailable"
    assert final.events == [("Warning", "ApiUnavailable", final.status["message"])]


@pytest.mark.asyncio
async def test_finished_generation_is_left_alone() -> None:
    done = {"phase": "Ready", "observedGeneration": 1}

    step = await reconcile(resource(done), services())

    assert (step.status, step.events, step.retry_after) == ({}, [], None)


@pytest.mark.asyncio
async def test_invalid_spec_is_permanent() -> None:
    step = await reconcile(resource(spec={**SPEC, "format": "caffe"}), services())

    assert step.permanent is not None and step.permanent.startswith("spec.format:")
    assert step.retry_after is None
    assert step.status["phase"] == "Failed"


def test_condition_keeps_its_transition_time_while_unchanged() -> None:
    first = st.set_condition([], "Ready", False, "Rolling", "1/2", 1, 1000.0)
    second = st.set_condition(first, "Ready", False, "Rolling", "2/2", 1, 2000.0)
    third = st.set_condition(second, "Ready", True, "Done", "ok", 1, 3000.0)

    assert second[0]["lastTransitionTime"] == st.now_iso(1000.0)
    assert second[0]["message"] == "2/2"
    assert third[0]["lastTransitionTime"] == st.now_iso(3000.0)
    assert st.parse_iso(st.now_iso(1000.0)) == 1000.0


def gate(metric: str, floor: float, min_cases: int = 1) -> QualityGate:
    return QualityGate("file:///r.json", None, metric, floor, min_cases)


def test_recall_counts_positive_cases_only() -> None:
    cases = [
        {"expect": {"pointer": "/found", "equals": True}},
        {"expect": {"pointer": "/found", "equals": True}},
        {"expect": {"pointer": "/found", "equals": False}},
    ]

    result = score(gate("recall", 0.5), cases, [True, False, False])

    assert (result.value, result.cases, result.passed) == (0.5, 2, True)
    accuracy = score(gate("accuracy", 0.5), cases, [True, False, False])
    assert (accuracy.value, accuracy.passed) == (0.3333, False)


def test_too_few_cases_fail_the_gate() -> None:
    result = score(gate("accuracy", 0.0, min_cases=5), [{}, {}], [True, True])

    assert not result.passed
    assert result.message == "2 scored cases, fewer than minCases 5"


def test_json_pointer_reads_objects_and_arrays() -> None:
    document = {"faces": [{"label": "a/b"}], "x~y": 1}

    assert resolve_pointer(document, "/faces/0/label") == "a/b"
    assert resolve_pointer(document, "/x~0y") == 1
    with pytest.raises(KeyError):
        resolve_pointer(document, "/faces/3")


@pytest.mark.asyncio
async def test_regression_set_is_verified(tmp_path: Path) -> None:
    path = tmp_path / "set.json"
    path.write_text(json.dumps({"cases": [{"path": "/x"}]}))
    good = QualityGate(
        path.as_uri(), hashlib.sha256(path.read_bytes()).hexdigest(), "accuracy", 1
    )

    assert await load_regression_set(good, 1.0) == [{"path": "/x"}]
    with pytest.raises(RegressionSetError, match="sha256"):
        await load_regression_set(
            QualityGate(path.as_uri(), "0" * 64, "accuracy", 1), 1
        )
    with pytest.raises(RegressionSetError):
        await load_regression_set(gate("accuracy", 1), 1.0)


def test_crash_looping_and_restarting_pods_are_failures() -> None:
    looping = {"state": {"waiting": {"reason": "CrashLoopBackOff"}}, "name": "face"}
    restarted = {"state": {"running": {}}, "restartCount": 3, "name": "face"}

    assert pod_failure({"status": {"containerStatuses": [looping]}}) == (
        "face: CrashLoopBackOff"
    )
    assert pod_failure({"status": {"containerStatuses": [restarted]}}) == (
        "face: restarted 3 times"
    )
    assert pod_failure({"status": {}}) is None


@pytest_asyncio.fixture()
async def pod_server() -> Any:
    async def ready(request: web.Request) -> web.Response:
        if request.match_info["pod"] == "broken":
            body = {"ready": False, "models": [], "error": "ModelChecksumMismatch: x"}
            return web.json_response(body, status=503)
        models = [{"slot": "emotion", "name": "fer", "version": "2"}]
        return web.json_response({"ready": True, "models": models})

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(
            text='flask_http_request_total{method="GET",status="200"} 7.0\n'
            'flask_http_request_total{method="POST",status="503"} 3.0\n'
            'flask_http_request_duration_seconds_count{status="500"} 9.0\n'
        )

    app = web.Application()
    app.router.add_get("/{pod}/health/ready", ready)
    app.router.add_get("/{pod}/metrics", metrics)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield site._server.sockets[0].getsockname()[1]
    await runner.cleanup()


def probe_for(port: int) -> PodProbe:
    return PodProbe(
        1.0, lambda pod, _: f"http://127.0.0.1:{port}/{pod['metadata']['name']}"
    )


def pod(name: str, version: str = "2") -> dict[str, Any]:
    env = [{"name": "ATTENDANCE_SENTIMENT_MODEL_EMOTION_VERSION", "value": version}]
    return {
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "sentiment", "env": env}]},
    }


@pytest.mark.asyncio
async def test_probe_reads_readiness_errors_and_metrics(pod_server: int) -> None:
    probe = probe_for(pod_server)

    assert await probe.readiness(pod("good"), 5003) == PodReport(
        name="good", ready=True, versions={"emotion": "2"}
    )
    assert await probe.readiness(pod("broken"), 5003) == PodReport(
        name="broken", ready=False, error="ModelChecksumMismatch: x"
    )
    counts = await probe.request_counts(pod("good"), 5003)
    assert (counts.total, counts.errors) == (10.0, 3.0)
    unreachable = PodProbe(0.5, lambda pod, _: "http://127.0.0.1:9")
    assert await unreachable.readiness(pod("x"), 5003) == PodReport(
        name="x", ready=False, reachable=False
    )


@pytest.mark.asyncio
async def test_check_counts_new_ready_and_old_pods(pod_server: int) -> None:
    spec = parse_spec(SPEC)
    probe = probe_for(pod_server)

    check = await check_pods([pod("good"), pod("old", "1")], spec, 5003, probe)
    assert (check.new, check.ready, check.old, check.failure) == (1, 1, 1, None)

    check = await check_pods([pod("broken")], spec, 5003, probe)
    assert check.failure == "pod broken: ModelChecksumMismatch: x"

    wrong = parse_spec({**SPEC, "version": "3"})
    check = await check_pods([pod("good", "3")], wrong, 5003, probe)
    assert check.failure == "pod good is ready but serves emotion version 2"


class StoredModels(KubeClient):
    """An API server that lists the given MLModels."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        super().__init__()
        self.items = items

    async def _request(self, method: str, path: str, **_: Any) -> Any:
        return {"items": self.items}


def stored(name: str, created: str, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "creationTimestamp": created},
        "spec": {**SPEC, **spec},
    }


@pytest.mark.asyncio
async def test_oldest_resource_owns_the_slot_unless_targets_differ() -> None:
    from mlmodel_operator.conflicts import slot_owner

    mine = resource()
    older = stored("older", "2026-12-04T09:00:00Z")
    newer = stored("newer", "2026-12-04T11:00:00Z")
    broken = stored("broken", "2026-12-04T08:00:00Z", format="caffe")
    elsewhere = stored(
        "elsewhere", "2026-12-04T07:00:00Z", target={"deployment": "staging"}
    )
    other_slot = stored("landmarks", "2026-12-04T06:00:00Z", slot="face_landmarks")

    def check(items: list[dict[str, Any]], spec: dict[str, Any] = SPEC):
        found = Services(StoredModels(items), PodProbe(1.0), CONFIG)
        return slot_owner(mine, parse_spec(spec), found)

    assert await check([newer, broken, other_slot]) is None
    assert await check([older, newer]) == "older"
    assert await check([elsewhere], {**SPEC, "target": {"deployment": "prod"}}) is None
    assert await check([elsewhere]) == "elsewhere"
