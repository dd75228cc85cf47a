"""Fixtures: stub services on loopback, a gateway app pointed at them, test images."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from attendance_ml.gateway.app import create_app
from flask import Flask
from gateway_stubs import StubServer, encoded_image


@pytest.fixture
def stubs() -> Iterator[dict[str, StubServer]]:
    servers = {name: StubServer(name) for name in ("face", "detection", "sentiment")}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def gateway_env(stubs: dict[str, StubServer]) -> dict[str, str]:
    return {
        "ATTENDANCE_GATEWAY_FACE_URL": stubs["face"].url,
        "ATTENDANCE_GATEWAY_DETECTION_URL": stubs["detection"].url,
        "ATTENDANCE_GATEWAY_SENTIMENT_URL": stubs["sentiment"].url,
        "ATTENDANCE_GATEWAY_LOG_LEVEL": "WARNING",
    }


@pytest.fixture
def make_gateway(gateway_env: dict[str, str]) -> Callable[..., Flask]:
    def build(**overrides: str) -> Flask:
        environ = dict(gateway_env)
        environ.update({f"ATTENDANCE_GATEWAY_{k}": v for k, v in overrides.items()})
        return create_app(environ)

    return build


@pytest.fixture
def client(make_gateway):
    return make_gateway().test_client()


@pytest.fixture
def image() -> str:
    return encoded_image("PNG")


@pytest.fixture
def forwarded(image: str) -> str:
    """How the gateway passes that image on to the services."""
    return f"data:image/png;base64,{image}"
