"""Canary and quality gate, run by kopf against kmock with pods on loopback."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from fake_cluster import Behaviour, FakeCluster
from operator_harness import (
    CANARY,
    PREFIX,
    canary_spec,
    container_env,
    create_model,
    deployment,
    events,
    phone_spec,
    status_of,
    wait_for,
    wait_for_phase,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("operator")]


def regression_set(tmp_path: Path) -> dict[str, Any]:
    """Four labelled cases: three photos with a phone, one without."""
    cases = [
        {
            "path": "/detect/phone",
            "body": {"image": image},
            "expect": {"pointer": "/phoneDetected", "equals": image == "phone"},
        }
        for image in ("phone", "phone", "phone", "desk")
    ]
    path = tmp_path / "phones.json"
    path.write_text(json.dumps({"name": "phones-test", "cases": cases}))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"uri": path.as_uri(), "sha256": digest}


async def test_canary_holds_then_promotes_and_is_removed(kmock: Any) -> None:
    await create_model(kmock, "phone", canary_spec("2.0.0"))

    await wait_for(lambda: deployment(kmock, CANARY) is not None)
    canary = deployment(kmock, CANARY)
    assert canary is not None
    assert canary["spec"]["replicas"] == 1
    assert canary["metadata"]["ownerReferences"][0]["kind"] == "MLModel"
    assert container_env(kmock, CANARY)[PREFIX + "VERSION"] == "2.0.0"
    assert PREFIX + "VERSION" not in container_env(kmock)

    status = await wait_for_phase(kmock, "phone", "Ready")
    assert status["currentVersion"] == "2.0.0"
    assert container_env(kmock)[PREFIX + "VERSION"] == "2.0.0"
    assert deployment(kmock, CANARY) is None
    await wait_for(lambda: ("Normal", "RolloutComplete") in events(kmock, "phone"))
    reasons = [reason for _, reason in events(kmock, "phone")]
    assert reasons == [
        "CanaryStarted",
        "CanaryReady",
        "CanaryPromoted",
        "RolloutComplete",
    ]


async def test_canary_with_a_high_error_rate_is_aborted(
    kmock: Any, cluster: FakeCluster
) -> None:
    cluster.behaviours["2.0.0"] = Behaviour(errors_per_scrape=10)

    await create_model(kmock, "phone", canary_spec("2.0.0"))
    status = await wait_for_phase(kmock, "phone", "RolledBack")

    assert status["reason"] == "CanaryErrorRate"
    assert status["message"] == "error rate 0.333 (10/30) above 0.050"
    assert status["currentVersion"] == "builtin"
    assert deployment(kmock, CANARY) is None
    assert container_env(kmock) == {"ATTENDANCE_LOG_LEVEL": "INFO"}


async def test_canary_whose_pods_fail_to_load_is_aborted(
    kmock: Any, cluster: FakeCluster
) -> None:
    cluster.behaviours["2.0.0"] = Behaviour(loads=False)

    await create_model(kmock, "phone", canary_spec("2.0.0"))
    status = await wait_for_phase(kmock, "phone", "RolledBack")

    assert status["reason"] == "CanaryLoadFailed"
    assert deployment(kmock, CANARY) is None
    assert container_env(kmock) == {"ATTENDANCE_LOG_LEVEL": "INFO"}


async def test_quality_gate_passes_and_the_model_is_promoted(
    kmock: Any, tmp_path: Path
) -> None:
    gate = {"regressionSet": regression_set(tmp_path), "metric": "recall", "floor": 0.9}

    await create_model(kmock, "phone", phone_spec("2.0.0", qualityGate=gate))
    status = await wait_for_phase(kmock, "phone", "Ready")

    assert status["qualityGate"] == {
        "metric": "recall",
        "value": 1.0,
        "cases": 3,
        "passed": True,
        "message": "recall 1.000 over 3 cases meets the floor 0.900",
    }
    assert container_env(kmock)[PREFIX + "VERSION"] == "2.0.0"


async def test_quality_gate_failure_blocks_promotion(
    kmock: Any, cluster: FakeCluster, tmp_path: Path
) -> None:
    cluster.behaviours["2.0.0"] = Behaviour(sees_phones=False)
    gate = {
        "regressionSet": regression_set(tmp_path),
        "metric": "accuracy",
        "floor": 0.9,
    }

    await create_model(kmock, "phone", phone_spec("2.0.0", qualityGate=gate))
    status = await wait_for_phase(kmock, "phone", "RolledBack")

    assert status["reason"] == "QualityGateFailed"
    assert status["message"] == "accuracy 0.250 over 4 cases is below the floor 0.900"
    gate_condition = next(c for c in status["conditions"] if c["type"] == "QualityGate")
    assert (gate_condition["status"], gate_condition["reason"]) == (
        "False",
        "GateFailed",
    )
    assert deployment(kmock, CANARY) is None
    assert container_env(kmock) == {"ATTENDANCE_LOG_LEVEL": "INFO"}
    assert status_of(kmock, "phone")["currentVersion"] == "builtin"
