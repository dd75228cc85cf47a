"""Rolling updates, run by kopf against kmock: create, update, stall, load failure."""

from __future__ import annotations

from typing import Any

import pytest
from fake_cluster import Behaviour, FakeCluster
from operator_harness import (
    PREFIX,
    SHA,
    container_env,
    create_model,
    events,
    model,
    phone_spec,
    status_of,
    update_spec,
    wait_for,
    wait_for_phase,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("operator")]


async def test_create_rolls_the_model_onto_every_pod(kmock: Any) -> None:
    await create_model(kmock, "phone", phone_spec("2.0.0"))

    status = await wait_for_phase(kmock, "phone", "Ready")

    assert status["currentVersion"] == "2.0.0"
    assert status["previousVersion"] == "builtin"
    assert (status["updatedReplicas"], status["readyReplicas"]) == (2, 2)
    assert status["reason"] == "RolloutComplete"
    assert status["observedGeneration"] == 1
    env = container_env(kmock)
    assert env == {
        "ATTENDANCE_LOG_LEVEL": "INFO",
        PREFIX + "URI": "https://models.example/phone-2.0.0.onnx",
        PREFIX + "VERSION": "2.0.0",
        PREFIX + "SHA256": SHA,
        PREFIX + "FORMAT": "onnx",
        PREFIX + "SETTINGS": '{"classes": ["cell phone"], "threshold": 0.45}',
    }
    await wait_for(lambda: ("Normal", "RolloutComplete") in events(kmock, "phone"))
    assert events(kmock, "phone")[0] == ("Normal", "RolloutStarted")
    assert "finalizers" not in model(kmock, "phone")["metadata"]


async def test_update_rolls_the_new_version_and_remembers_the_previous(
    kmock: Any,
) -> None:
    await create_model(kmock, "phone", phone_spec("2.0.0"))
    await wait_for_phase(kmock, "phone", "Ready")

    await update_spec(kmock, "phone", phone_spec("2.1.0"))
    await wait_for(lambda: status_of(kmock, "phone").get("observedGeneration") == 2)
    status = await wait_for_phase(kmock, "phone", "Ready")

    assert (status["currentVersion"], status["previousVersion"]) == ("2.1.0", "2.0.0")
    assert container_env(kmock)[PREFIX + "VERSION"] == "2.1.0"


async def test_stalled_rollout_times_out_and_rolls_back(
    kmock: Any, cluster: FakeCluster
) -> None:
    cluster.stalled_versions.add("9.9.9")
    spec = phone_spec("9.9.9", strategy={"type": "rolling", "timeoutSeconds": 1})

    await create_model(kmock, "phone", spec)
    status = await wait_for_phase(kmock, "phone", "RolledBack")

    assert status["reason"] == "RolloutTimeout"
    assert status["message"] == "0/2 pods serve 9.9.9 after 1s"
    assert status["currentVersion"] == "builtin"
    assert container_env(kmock) == {"ATTENDANCE_LOG_LEVEL": "INFO"}
    await wait_for(lambda: ("Warning", "RolloutTimeout") in events(kmock, "phone"))


async def test_pods_that_fail_to_load_roll_back_to_the_last_good_version(
    kmock: Any, cluster: FakeCluster
) -> None:
    await create_model(kmock, "phone", phone_spec("2.0.0"))
    await wait_for_phase(kmock, "phone", "Ready")
    cluster.behaviours["3.0.0"] = Behaviour(loads=False)

    await update_spec(kmock, "phone", phone_spec("3.0.0"))
    await wait_for(lambda: status_of(kmock, "phone").get("observedGeneration") == 2)
    status = await wait_for_phase(kmock, "phone", "RolledBack")

    assert status["reason"] == "LoadFailed"
    assert status["message"].endswith("ModelChecksumMismatch: sha256 differs")
    assert status["currentVersion"] == "2.0.0"
    assert container_env(kmock)[PREFIX + "VERSION"] == "2.0.0"
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "LoadFailed")
