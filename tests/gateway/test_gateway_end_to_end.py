"""Real services behind the real gateway, started by attendance-serve, real photos."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import requests
import schemathesis
from attendance_ml.gateway.app import openapi_document
from attendance_ml.gateway.demo import (
    DEFAULT_DATA,
    encode,
    enrol,
    lfw_people,
    running_stack,
)
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

pytestmark = [pytest.mark.data, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def people() -> list[tuple[str, list[Path]]]:
    if not (DEFAULT_DATA / "faces" / "lfw_mini").is_dir():
        pytest.skip(f"the shared photo set is absent ({DEFAULT_DATA})")
    return lfw_people(DEFAULT_DATA)


@pytest.fixture(scope="module")
def gateway(people, tmp_path_factory) -> str:
    ports = {
        name: _free_port() for name in ("face", "detection", "sentiment", "gateway")
    }
    data_dir = tmp_path_factory.mktemp("e2e-data")
    with running_stack(ports=ports, data_dir=data_dir, ready_timeout=400) as stack:
        yield stack.gateway_url


def test_enrolled_student_is_verified_on_an_unseen_photo(gateway, people):
    name, photos = people[0]
    assert [result["status"] for result in enrol(gateway, name, photos[:2])] == [
        201,
        201,
    ]

    response = requests.post(
        f"{gateway}/api/analyze/all",
        json={"image": encode(photos[-1]), "studentId": name, "sessionId": "e2e"},
        headers={"X-Request-ID": "e2e-trace-1"},
        timeout=60,
    )

    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "e2e-trace-1"
    body = response.json()
    assert body["degraded"] == []
    assert body["assessment"]["studentVerified"] is True
    assert body["studentId"] == name
    assert isinstance(body["assessment"]["idCardVisible"], bool)
    assert isinstance(body["assessment"]["phoneDetected"], bool)
    assert 0.0 <= body["assessment"]["engagement"] <= 1.0
    assert 0.0 <= body["attention"] <= 1.0
    assert body["liveness"]["decision"] in ("live", "uncertain", "spoof")
    assert body["details"]["face"]["verified"] is True


def test_someone_else_claiming_the_student_is_not_verified(gateway, people):
    name, photos = people[0]
    enrol(gateway, name, photos[:1])
    impostor_photo = people[7][1][0]

    body = requests.post(
        f"{gateway}/api/analyze/all",
        json={"image": encode(impostor_photo), "studentId": name},
        timeout=60,
    ).json()

    assert body["assessment"]["studentVerified"] is False
    assert body["details"]["face"]["verified"] is False


def test_service_routes_answer_through_the_gateway(gateway, people):
    name, photos = people[1]
    enrol(gateway, name, photos[:1])

    listed = requests.get(f"{gateway}/api/face/students", timeout=10).json()
    shown = requests.get(f"{gateway}/api/face/students/{name}", timeout=10)
    erased = requests.delete(f"{gateway}/api/face/students/{name}", timeout=10)
    gone = requests.get(f"{gateway}/api/face/students/{name}", timeout=10)

    assert name in [student["studentId"] for student in listed["students"]]
    assert shown.status_code == 200
    assert erased.status_code == 200
    assert (gone.status_code, gone.json()["code"]) == (404, "unknown_student")


def test_bad_image_is_refused_by_the_gateway_itself(gateway):
    response = requests.post(
        f"{gateway}/api/analyze/all", json={"image": "bm90IGFuIGltYWdl"}, timeout=10
    )

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_format"


def test_health_reports_every_service_ok(gateway):
    response = requests.get(f"{gateway}/health", timeout=10)

    assert response.status_code == 200
    assert {state["status"] for state in response.json()["services"].values()} == {"ok"}


FUZZ_SCHEMA = schemathesis.openapi.from_dict(openapi_document())


@FUZZ_SCHEMA.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_fuzzed_requests_to_the_real_services_never_get_a_server_error(case, gateway):
    case.call_and_validate(base_url=gateway, checks=[not_a_server_error], timeout=60)
