"""Forwarding of the service routes: paths, bodies, statuses, headers, failures."""

from __future__ import annotations

import pytest

# (method, public path, service, JSON body sent, status and body the stub answers)
ROUTES = [
    (
        "POST",
        "/api/face/register",
        "face",
        {"studentId": "s-7", "image": "aGk="},
        201,
        {"success": True, "studentId": "s-7"},
    ),
    (
        "POST",
        "/api/face/verify",
        "face",
        {"image": "aGk=", "studentId": "s-7"},
        200,
        {
            "success": True,
            "message": "Verified.",
            "studentId": "s-7",
            "confidence": 0.93,
        },
    ),
    (
        "POST",
        "/api/face/analyze",
        "face",
        {"image": "aGk="},
        200,
        {"success": True, "faces": []},
    ),
    (
        "POST",
        "/api/face/liveness",
        "face",
        {"image": "aGk="},
        200,
        {
            "success": True,
            "message": "Passive",
            "liveness": {
                "score": 0.6,
                "decision": "uncertain",
                "method": "bracketing-edges",
            },
        },
    ),
    (
        "POST",
        "/api/face/liveness/challenge",
        "face",
        {},
        200,
        {"success": True, "nonce": "n-1", "actions": ["blink"]},
    ),
    (
        "GET",
        "/api/face/students",
        "face",
        None,
        200,
        {"success": True, "students": [{"studentId": "s-001"}]},
    ),
    (
        "GET",
        "/api/face/students/s-9",
        "face",
        None,
        200,
        {"success": True, "studentId": "s-9"},
    ),
    (
        "DELETE",
        "/api/face/students/s-9",
        "face",
        None,
        200,
        {"success": True, "deleted": "s-9"},
    ),
    (
        "POST",
        "/api/object-detection/phone",
        "detection",
        {"image": "aGk="},
        200,
        {"success": True, "phoneDetected": False, "detections": []},
    ),
    (
        "POST",
        "/api/object-detection/idcard",
        "detection",
        {"image": "aGk="},
        200,
        {
            "success": True,
            "idCardVisible": True,
            "detections": [
                {"label": "id_card", "confidence": 0.8, "box": [10, 20, 110, 80]}
            ],
        },
    ),
    (
        "POST",
        "/api/sentiment/analyze",
        "sentiment",
        {"image": "aGk="},
        200,
        {
            "success": True,
            "faceCount": 2,
            "results": [
                {
                    "faceId": 1,
                    "position": [0, 0, 10, 10],
                    "engagement": 0.1,
                    "attention": 0.1,
                },
                {
                    "faceId": 0,
                    "position": [0, 0, 100, 120],
                    "engagement": 0.8,
                    "attention": 0.7,
                },
            ],
        },
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "service", "sent", "status", "answer"), ROUTES
)
def test_every_documented_path_reaches_its_service_unchanged(
    client, stubs, method, path, service, sent, status, answer
):
    response = client.open(path, method=method, json=sent, query_string={"lang": "en"})

    assert response.status_code == status
    assert response.get_json() == answer
    received = stubs[service].received[-1]
    assert (received.method, received.path, received.query) == (method, path, "lang=en")
    assert received.json == sent
    other_services = [name for name in stubs if name != service]
    assert all(stubs[name].received == [] for name in other_services)


def test_service_error_status_and_body_are_preserved(client):
    response = client.post(
        "/api/face/verify", json={"image": "aGk=", "studentId": "ghost"}
    )

    assert response.status_code == 404
    body = response.get_json()
    assert body == {
        "success": False,
        "message": "No student is enrolled under this id.",
        "code": "unknown_student",
        "requestId": body["requestId"],
    }


def test_request_id_travels_to_the_service_and_back(client, stubs):
    response = client.post(
        "/api/object-detection/phone",
        json={"image": "aGk="},
        headers={"X-Request-ID": "rq-42"},
    )

    assert response.headers["X-Request-ID"] == "rq-42"
    assert stubs["detection"].received[-1].request_id == "rq-42"


def test_gateway_makes_a_request_id_when_the_caller_sends_none(client, stubs):
    response = client.get("/api/face/students")

    request_id = response.headers["X-Request-ID"]
    assert len(request_id) == 32
    assert stubs["face"].received[-1].request_id == request_id


def test_hop_by_hop_headers_and_credentials_stop_at_the_gateway(client, stubs):
    stubs["face"].behaviour.answers["/api/face/students"] = (
        200,
        {"success": True},
        "application/json",
    )
    client.get(
        "/api/face/students",
        headers={
            "Connection": "keep-alive, X-Secret-Hop",
            "X-Secret-Hop": "1",
            "Keep-Alive": "timeout=5",
            "Proxy-Authorization": "Basic abc",
            "Authorization": "Bearer token",
            "X-API-Key": "k" * 20,
            "Accept-Language": "fr",
        },
    )

    forwarded = {key.lower() for key in stubs["face"].received[-1].headers}
    dropped = {
        "x-secret-hop",
        "keep-alive",
        "proxy-authorization",
        "authorization",
        "x-api-key",
    }
    assert not forwarded & dropped
    assert "accept-language" in forwarded
    assert stubs["face"].received[-1].headers["X-Forwarded-For"] == "127.0.0.1"


def test_unknown_path_under_a_service_prefix_gets_the_services_json_404(client):
    response = client.get("/api/sentiment/nothing-here")

    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"


def test_stopped_service_answers_json_503(client, stubs):
    stubs["detection"].stop()

    response = client.post("/api/object-detection/phone", json={"image": "aGk="})

    assert response.status_code == 503
    body = response.get_json()
    assert body == {
        "success": False,
        "message": "A service behind the gateway is unavailable; try again shortly.",
        "code": "service_unavailable",
        "details": {"service": "detection"},
        "requestId": body["requestId"],
    }


def test_slow_service_answers_json_504_after_the_route_timeout(make_gateway, stubs):
    stubs["sentiment"].behaviour.delays["/api/sentiment/analyze"] = 2.0
    client = make_gateway(TIMEOUT_SECONDS="0.3").test_client()

    response = client.post("/api/sentiment/analyze", json={"image": "aGk="})

    assert response.status_code == 504
    body = response.get_json()
    assert body == {
        "success": False,
        "message": "A service behind the gateway did not answer in time.",
        "code": "service_timeout",
        "details": {"service": "sentiment"},
        "requestId": body["requestId"],
    }


def test_route_timeout_overrides_the_default_for_its_prefix(make_gateway, stubs):
    stubs["face"].behaviour.delays["/api/face/register"] = 0.6
    client = make_gateway(
        TIMEOUT_SECONDS="0.2", ROUTE_TIMEOUTS="face/register=3"
    ).test_client()

    slow_register = client.post("/api/face/register", json={"studentId": "s-1"})
    assert slow_register.status_code == 201


def test_html_error_page_from_a_service_becomes_json_502(client, stubs):
    stubs["face"].behaviour.answers["/api/face/analyze"] = (
        500,
        "<html><body>Internal Server Error</body></html>",
        "text/html",
    )

    response = client.post("/api/face/analyze", json={"image": "aGk="})

    assert response.status_code == 502
    body = response.get_json()
    assert body == {
        "success": False,
        "message": "A service behind the gateway gave an invalid answer.",
        "code": "bad_gateway",
        "details": {"service": "face", "status": 500},
        "requestId": body["requestId"],
    }


def test_body_over_the_shared_limit_is_refused_with_json_413(make_gateway, stubs):
    client = make_gateway(MAX_IMAGE_BYTES="1000").test_client()

    response = client.post(
        "/api/face/verify",
        data=b"{" + b" " * 200_000 + b"}",
        content_type="application/json",
    )

    assert response.status_code == 413
    assert response.get_json()["code"] == "image_too_large"
    assert stubs["face"].received == []


def test_cors_headers_only_for_configured_origins(make_gateway):
    client = make_gateway(CORS_ORIGINS="https://attendance.example").test_client()

    allowed = client.options(
        "/api/face/verify",
        headers={
            "Origin": "https://attendance.example",
            "Access-Control-Request-Method": "POST",
        },
    )
    refused = client.options(
        "/api/face/verify",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
        },
    )

    assert (
        allowed.headers["Access-Control-Allow-Origin"] == "https://attendance.example"
    )
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_cors_is_off_by_default(client):
    response = client.options(
        "/api/face/verify",
        headers={
            "Origin": "https://attendance.example",
            "Access-Control-Request-Method": "POST",
        },
    )

    assert "Access-Control-Allow-Origin" not in response.headers
