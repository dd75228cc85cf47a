"""Fixtures: kmock's API emulator, the fake cluster on loopback, the operator."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from aiohttp import web
from fake_cluster import FakeCluster, NamingEmulator
from operator_harness import add_deployment, declare_resources, running_operator


@pytest_asyncio.fixture()
async def kmock() -> AsyncIterator[NamingEmulator]:
    """kmock's Kubernetes emulator on a loopback port (replaces kmock's own fixture)."""
    import kmock as kmock_library

    async with NamingEmulator() as emulator, kmock_library.Server(emulator):
        yield emulator


@pytest_asyncio.fixture()
async def cluster(kmock: Any) -> AsyncIterator[FakeCluster]:
    """kmock with the resources declared, one Deployment, its controller and pods."""
    declare_resources(kmock)
    add_deployment(kmock)
    fake = FakeCluster(kmock, namespace="ml")
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.port = site._server.sockets[0].getsockname()[1]
    fake.sync_once()
    controller = asyncio.create_task(fake.run_controller())
    yield fake
    controller.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await controller
    await runner.cleanup()


@pytest_asyncio.fixture()
async def operator(kmock: Any, cluster: FakeCluster) -> AsyncIterator[None]:
    async with running_operator(kmock, cluster):
        yield
