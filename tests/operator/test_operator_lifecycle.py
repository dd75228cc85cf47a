"""Invalid specs, slot conflicts and deletion, run by kopf against kmock."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from fake_cluster import FakeCluster
from operator_harness import (
    CANARY,
    PREFIX,
    canary_spec,
    container_env,
    create_model,
    delete_model,
    deployment,
    events,
    model,
    phone_spec,
    status_of,
    wait_for,
    wait_for_phase,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("operator")]


def status_patches(kmock: Any, name: str) -> int:
    return sum(
        1
        for request in list(kmock)
        if request.method.value == "PATCH"
        and request.url.path.endswith(f"/{name}/status")
    )


async def test_invalid_spec_fails_once_naming_the_field(kmock: Any) -> None:
    spec = {**phone_spec("2.0.0"), "slot": "emotion"}

    await create_model(kmock, "phone", spec)
    status = await wait_for_phase(kmock, "phone", "Failed")
    patches = status_patches(kmock, "phone")
    await asyncio.sleep(1.0)

    assert status["reason"] == "InvalidSpec"
    message = "spec.slot: 'emotion' is not a slot of detection: "
    assert status["message"] == message + "('phone_detector', 'idcard_detector')"
    valid = next(c for c in status["conditions"] if c["type"] == "Valid")
    assert (valid["status"], valid["reason"]) == ("False", "InvalidSpec")
    assert valid["message"] == status["message"]
    assert status_patches(kmock, "phone") == patches
    assert container_env(kmock) == {"ATTENDANCE_LOG_LEVEL": "INFO"}
    await wait_for(lambda: ("Warning", "InvalidSpec") in events(kmock, "phone"))


async def test_download_without_checksum_is_an_invalid_spec(kmock: Any) -> None:
    spec = phone_spec("2.0.0")
    spec["source"] = {"uri": "https://models.example/phone.onnx"}

    await create_model(kmock, "phone", spec)
    status = await wait_for_phase(kmock, "phone", "Failed")

    assert status["message"] == "spec.source.sha256: is required for a download"


async def test_second_resource_for_a_slot_waits_and_takes_over_after_delete(
    kmock: Any,
) -> None:
    await create_model(kmock, "phone-a", phone_spec("2.0.0"))
    await wait_for_phase(kmock, "phone-a", "Ready")

    await create_model(kmock, "phone-b", phone_spec("3.0.0"))
    await wait_for(lambda: status_of(kmock, "phone-b").get("reason") == "SlotConflict")
    await asyncio.sleep(1.0)

    status = status_of(kmock, "phone-b")
    assert status["phase"] == "Pending"
    message = "detection/phone_detector is managed by MLModel phone-a; waiting"
    assert status["message"] == message
    conflict = next(c for c in status["conditions"] if c["type"] == "Conflict")
    assert (conflict["status"], conflict["message"]) == ("True", message)
    assert events(kmock, "phone-b") == [("Warning", "SlotConflict")]
    assert container_env(kmock)[PREFIX + "VERSION"] == "2.0.0"

    await delete_model(kmock, "phone-a")
    status = await wait_for_phase(kmock, "phone-b", "Ready")

    assert (status["currentVersion"], status["previousVersion"]) == ("3.0.0", "2.0.0")
    assert container_env(kmock)[PREFIX + "VERSION"] == "3.0.0"


async def test_delete_leaves_the_service_on_its_last_good_model(kmock: Any) -> None:
    await create_model(kmock, "phone", phone_spec("2.0.0"))
    await wait_for_phase(kmock, "phone", "Ready")

    await delete_model(kmock, "phone")

    with pytest.raises(KeyError):
        model(kmock, "phone")
    await asyncio.sleep(0.5)
    assert container_env(kmock)[PREFIX + "VERSION"] == "2.0.0"


async def test_delete_during_a_canary_removes_the_canary(kmock: Any) -> None:
    spec = canary_spec("2.0.0")
    spec["strategy"]["canary"]["holdSeconds"] = 60
    await create_model(kmock, "phone", spec)
    await wait_for(lambda: status_of(kmock, "phone").get("reason") == "CanaryReady")
    assert deployment(kmock, CANARY) is not None

    await delete_model(kmock, "phone")

    await wait_for(lambda: deployment(kmock, CANARY) is None)
    assert container_env(kmock) == {"ATTENDANCE_LOG_LEVEL": "INFO"}


async def test_health_endpoint_answers_once_logged_in(
    kmock: Any, cluster: FakeCluster
) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            try:
                async with session.get(cluster.health_url) as response:
                    body = await response.json()
                    break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)

    assert response.status == 200
    assert body == {"apiCredentials": True}
