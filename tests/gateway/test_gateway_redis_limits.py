"""Rate limits shared by several gateway replicas through a real Redis on loopback."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is missing: scripts/ci.d/40-redis.sh installs it")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")

    port = _free_port()
    server = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    connection = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            connection.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    connection.close()

    yield f"redis://127.0.0.1:{port}"
    server.terminate()
    server.wait(10)


def test_replicas_share_one_limit_through_redis(make_gateway, redis_url):
    settings = {"RATE_LIMIT_STORAGE_URI": redis_url, "RATE_LIMIT_DEFAULT": "3/minute"}
    replica_a = make_gateway(**settings).test_client()
    replica_b = make_gateway(**settings).test_client()

    statuses = [
        replica.get("/api/face/students").status_code
        for replica in (replica_a, replica_b, replica_a, replica_b)
    ]

    assert statuses == [200, 200, 200, 429]


def test_without_redis_each_replica_counts_alone(make_gateway):
    settings = {"RATE_LIMIT_DEFAULT": "2/minute"}
    replica_a = make_gateway(**settings).test_client()
    replica_b = make_gateway(**settings).test_client()

    statuses = [
        replica.get("/api/face/students").status_code
        for replica in (replica_a, replica_b, replica_a, replica_b)
    ]

    assert statuses == [200, 200, 200, 200]


def test_gateway_keeps_serving_when_redis_goes_away(make_gateway, redis_url):
    port = int(redis_url.rsplit(":", 1)[1])
    client = make_gateway(RATE_LIMIT_STORAGE_URI=redis_url).test_client()
    assert client.get("/api/face/students").status_code == 200

    redis.Redis(host="127.0.0.1", port=port).shutdown(nosave=True)

    response = client.get("/api/face/students")
    assert response.status_code == 200
