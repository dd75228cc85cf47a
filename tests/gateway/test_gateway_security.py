"""Authentication (JWT HS256/RS256, API keys), roles, and rate limits in memory."""

from __future__ import annotations

import time

import jwt
import pytest
from attendance_ml.core.settings import SettingError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SECRET = "a-test-secret-that-is-long-enough-for-hs256"
ENROL_KEY = "enrol-key-0123456789abcdef"
READ_KEY = "read-key-0123456789abcdef"


def token(key=SECRET, algorithm="HS256", **claims) -> str:
    payload = {"sub": "teacher-1", "exp": int(time.time()) + 300} | claims
    return jwt.encode(payload, key, algorithm=algorithm)


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture
def secured(make_gateway):
    return make_gateway(
        AUTH_ENABLED="true",
        JWT_SECRET=SECRET,
        API_KEYS=f"{ENROL_KEY}:enrol,{READ_KEY}",
    ).test_client()


def test_without_credentials_a_secured_gateway_answers_json_401(secured, stubs):
    response = secured.post("/api/face/verify", json={"image": "aGk="})

    assert response.status_code == 401
    body = response.get_json()
    assert body == {
        "success": False,
        "message": "Authentication is required: send a bearer token or an API key.",
        "code": "unauthorized",
        "requestId": body["requestId"],
    }
    assert stubs["face"].received == []


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (bearer("not-a-jwt"), "The bearer token is malformed."),
        (
            bearer(token(key="another-secret-of-sufficient-length!!")),
            "The bearer token is not valid.",
        ),
        (bearer(token(exp=int(time.time()) - 3600)), "The bearer token has expired."),
        (
            bearer(jwt.encode({"sub": "x"}, SECRET, algorithm="HS256")),
            "The bearer token is not valid.",
        ),
        (
            bearer(jwt.encode({"sub": "x"}, None, algorithm="none")),
            "The bearer token's algorithm is not accepted.",
        ),
        ({"X-API-Key": "wrong-key-0123456789abcdef"}, "The API key is not valid."),
    ],
    ids=["malformed", "wrong-secret", "expired", "no-exp", "alg-none", "bad-api-key"],
)
def test_invalid_credentials_are_refused(secured, header, message):
    response = secured.get("/api/face/students", headers=header)

    assert response.status_code == 401
    assert response.get_json()["message"] == message


def test_valid_token_and_api_key_are_accepted(secured):
    by_token = secured.get("/api/face/students", headers=bearer(token()))
    by_key = secured.get("/api/face/students", headers={"X-API-Key": READ_KEY})

    assert by_token.status_code == 200
    assert by_key.status_code == 200


def test_register_and_delete_need_the_enrolment_role(secured, stubs):
    without_role = secured.post(
        "/api/face/register", json={"studentId": "s-1"}, headers=bearer(token())
    )
    key_without_role = secured.delete(
        "/api/face/students/s-1", headers={"X-API-Key": READ_KEY}
    )

    assert without_role.status_code == 403
    body = without_role.get_json()
    assert body == {
        "success": False,
        "message": "This operation needs the 'enrol' role.",
        "code": "forbidden",
        "requestId": body["requestId"],
    }
    assert key_without_role.status_code == 403
    assert stubs["face"].received == []

    with_role = secured.post(
        "/api/face/register",
        json={"studentId": "s-1"},
        headers=bearer(token(roles=["enrol"])),
    )
    key_with_role = secured.delete(
        "/api/face/students/s-1", headers={"X-API-Key": ENROL_KEY}
    )
    assert with_role.status_code == 201
    assert key_with_role.status_code == 200


def test_roles_may_be_a_space_separated_claim(make_gateway):
    client = make_gateway(
        AUTH_ENABLED="true", JWT_SECRET=SECRET, JWT_ROLES_CLAIM="scope"
    ).test_client()

    response = client.post(
        "/api/face/register",
        json={"studentId": "s-1"},
        headers=bearer(token(scope="read enrol")),
    )

    assert response.status_code == 201


def test_rs256_tokens_are_checked_with_the_public_key(make_gateway):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        private.public_key()
        .public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        .decode()
    )
    client = make_gateway(
        AUTH_ENABLED="true", JWT_PUBLIC_KEY=public_pem, JWT_AUDIENCE="attendance"
    ).test_client()

    good = token(key=private, algorithm="RS256", aud="attendance")
    wrong_audience = token(key=private, algorithm="RS256", aud="elsewhere")
    hs256_forgery = token(algorithm="HS256", aud="attendance")

    assert client.get("/api/face/students", headers=bearer(good)).status_code == 200
    refused = [wrong_audience, hs256_forgery]
    assert [
        client.get("/api/face/students", headers=bearer(value)).status_code
        for value in refused
    ] == [401, 401]


def test_health_metrics_and_openapi_need_no_credentials(secured):
    for path in (
        "/health",
        "/health/live",
        "/health/ready",
        "/metrics",
        "/openapi.json",
    ):
        assert secured.get(path).status_code == 200, path


def test_analyze_all_needs_credentials_when_auth_is_on(secured, stubs, image):
    refused = secured.post("/api/analyze/all", json={"image": image})
    accepted = secured.post(
        "/api/analyze/all", json={"image": image}, headers={"X-API-Key": READ_KEY}
    )

    assert refused.status_code == 401
    assert accepted.status_code == 200


def test_auth_on_without_any_credential_source_refuses_to_start(make_gateway):
    with pytest.raises(SettingError, match="nobody could call the gateway"):
        make_gateway(AUTH_ENABLED="true")


def test_short_api_keys_are_refused_at_start(make_gateway):
    with pytest.raises(SettingError, match="at least 16 characters"):
        make_gateway(AUTH_ENABLED="true", API_KEYS="short")


def test_rate_limit_reached_answers_json_429_with_retry_after(make_gateway, stubs):
    client = make_gateway(RATE_LIMIT_DEFAULT="3/minute").test_client()

    statuses = [client.get("/api/face/students").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/face/students")
    body = response.get_json()
    assert body == {
        "success": False,
        "message": "3 per 1 minute",
        "code": "rate_limited",
        "requestId": body["requestId"],
    }
    assert int(response.headers["Retry-After"]) > 0
    assert len(stubs["face"].received) == 3


def test_rate_limits_count_per_route(make_gateway):
    client = make_gateway(RATE_LIMIT_DEFAULT="2/minute").test_client()

    students = [client.get("/api/face/students").status_code for _ in range(3)]
    one_student = [client.get("/api/face/students/s-1").status_code for _ in range(1)]
    phone = client.post("/api/object-detection/phone", json={"image": "aGk="})

    assert students == [200, 200, 429]
    # /api/face/students/<id> shares the face/students route group.
    assert one_student == [429]
    assert phone.status_code == 200


def test_rate_limits_count_per_client(make_gateway):
    client = make_gateway(
        RATE_LIMIT_DEFAULT="1/minute",
        AUTH_ENABLED="true",
        API_KEYS=f"{ENROL_KEY},{READ_KEY}",
    ).test_client()

    first = client.get("/api/face/students", headers={"X-API-Key": ENROL_KEY})
    second = client.get("/api/face/students", headers={"X-API-Key": ENROL_KEY})
    other_client = client.get("/api/face/students", headers={"X-API-Key": READ_KEY})

    assert [first.status_code, second.status_code, other_client.status_code] == [
        200,
        429,
        200,
    ]


def test_failed_logins_are_rate_limited_by_address(make_gateway):
    client = make_gateway(
        RATE_LIMIT_DEFAULT="2/minute", AUTH_ENABLED="true", JWT_SECRET=SECRET
    ).test_client()

    statuses = [
        client.get(
            "/api/face/students", headers={"X-API-Key": "guess-0123456789abcdef"}
        ).status_code
        for _ in range(3)
    ]

    assert statuses == [401, 401, 429]


def test_analyze_all_has_its_own_limit(make_gateway, image):
    client = make_gateway(RATE_LIMIT_ANALYZE="1/minute").test_client()

    statuses = [
        client.post("/api/analyze/all", json={"image": image}).status_code
        for _ in range(2)
    ]

    assert statuses == [200, 429]


def test_rate_limits_can_be_switched_off(make_gateway):
    client = make_gateway(
        RATE_LIMIT_DEFAULT="1/minute", RATE_LIMIT_ENABLED="false"
    ).test_client()

    statuses = {client.get("/api/face/students").status_code for _ in range(3)}

    assert statuses == {200}
