"""The OpenAPI description: valid, routed, and fuzzed against the running gateway."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest
import schemathesis
from attendance_ml.gateway.app import create_app, openapi_document
from gateway_stubs import StubServer
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from werkzeug.serving import make_server

SCHEMA = schemathesis.openapi.from_dict(openapi_document())


def test_description_is_valid_openapi():
    validate(openapi_document())


def test_served_description_is_the_shipped_one(client):
    response = client.get("/openapi.json")

    assert response.status_code == 200
    assert response.get_json() == openapi_document()


def test_every_described_operation_is_routed(client, stubs):
    """Service operations reach their service; the gateway's own ones exist."""
    services = {
        "face": "face",
        "object-detection": "detection",
        "sentiment": "sentiment",
    }
    for path, operations in openapi_document()["paths"].items():
        concrete = re.sub(r"\{\w+\}", "x-1", path)
        for method in (name for name in operations if name != "parameters"):
            response = client.open(concrete, method=method.upper(), json={})
            prefix = concrete.split("/")[2] if concrete.startswith("/api/") else ""
            if prefix in services:
                received = stubs[services[prefix]].received[-1]
                assert (received.method, received.path) == (method.upper(), concrete)
            else:
                assert response.status_code not in (404, 405), (method, path)


def test_every_gateway_route_is_described(client):
    app = client.application
    described = set(openapi_document()["paths"])
    for rule in app.url_map.iter_rules():
        # /metrics is for Prometheus, not part of the public API.
        if rule.endpoint in ("static", "proxy.forward", "prometheus_metrics"):
            continue
        assert rule.rule in described, rule.rule


@pytest.fixture(scope="module")
def running_gateway() -> Iterator[str]:
    """The gateway on a real loopback port, in front of the stub services."""
    stubs = {name: StubServer(name) for name in ("face", "detection", "sentiment")}
    app = create_app(
        {
            "ATTENDANCE_GATEWAY_FACE_URL": stubs["face"].url,
            "ATTENDANCE_GATEWAY_DETECTION_URL": stubs["detection"].url,
            "ATTENDANCE_GATEWAY_SENTIMENT_URL": stubs["sentiment"].url,
            "ATTENDANCE_GATEWAY_RATE_LIMIT_ENABLED": "false",
            "ATTENDANCE_GATEWAY_LOG_LEVEL": "ERROR",
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    for stub in stubs.values():
        stub.stop()


@pytest.mark.slow
@SCHEMA.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_fuzzed_requests_never_get_a_server_error(case, running_gateway):
    case.call_and_validate(base_url=running_gateway, checks=[not_a_server_error])
