"""A restarted operator resumes a rollout from the record in the status."""

from __future__ import annotations

from typing import Any

import pytest
from fake_cluster import FakeCluster
from operator_harness import (
    PREFIX,
    container_env,
    create_model,
    phone_spec,
    running_operator,
    status_of,
    wait_for,
    wait_for_phase,
)

pytestmark = pytest.mark.asyncio


async def test_rollout_in_flight_is_finished_by_the_next_operator(
    kmock: Any, cluster: FakeCluster
) -> None:
    cluster.stalled_versions.add("2.0.0")
    async with running_operator(kmock, cluster):
        await create_model(kmock, "phone", phone_spec("2.0.0"))
        await wait_for(lambda: status_of(kmock, "phone").get("phase") == "Rolling")
    assert container_env(kmock)[PREFIX + "VERSION"] == "2.0.0"

    cluster.stalled_versions.clear()
    async with running_operator(kmock, cluster):
        status = await wait_for_phase(kmock, "phone", "Ready")

    assert (status["currentVersion"], status["previousVersion"]) == ("2.0.0", "builtin")
    assert status["rollout"]["generation"] == 1
