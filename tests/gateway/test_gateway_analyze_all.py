"""/api/analyze/all: one validated image, five concurrent parts, honest degradation."""

from __future__ import annotations

import base64
import io
import time

from gateway_stubs import encoded_image

PART_PATHS = {
    "face": "/api/face/verify",
    "liveness": "/api/face/liveness",
    "idcard": "/api/object-detection/idcard",
    "phone": "/api/object-detection/phone",
    "sentiment": "/api/sentiment/analyze",
}


def test_all_parts_answer_and_are_combined(client, stubs, image):
    response = client.post(
        "/api/analyze/all",
        json={"image": image, "studentId": "s-7", "sessionId": "class-3"},
    )

    assert response.status_code == 200
    body = response.get_json()
    assert body["success"] is True
    assert body["message"] == "Analysis complete."
    assert body["studentId"] == "s-7"
    assert body["sessionId"] == "class-3"
    assert body["assessment"] == {
        "studentVerified": True,
        "idCardVisible": True,
        "phoneDetected": False,
        "engagement": 0.8,
    }
    assert body["attention"] == 0.7
    assert body["liveness"] == {
        "score": 0.6,
        "decision": "uncertain",
        "method": "bracketing-edges",
    }
    assert body["degraded"] == []
    assert set(body["details"]) == set(PART_PATHS)
    assert body["details"]["phone"] == {
        "status": 200,
        "ms": body["details"]["phone"]["ms"],
        "success": True,
        "phoneDetected": False,
        "detections": [],
    }
    assert set(body["timings"]) == {*PART_PATHS, "total"}


def test_each_service_gets_the_same_image_and_its_own_fields(
    client, stubs, image, forwarded
):
    client.post(
        "/api/analyze/all",
        json={"image": image, "studentId": "s-7", "sessionId": "class-3"},
    )

    face_calls = {item.path: item.json for item in stubs["face"].received}
    detection_calls = {item.path: item.json for item in stubs["detection"].received}
    sentiment_call = stubs["sentiment"].received[0].json
    assert face_calls["/api/face/verify"] == {"image": forwarded, "studentId": "s-7"}
    assert face_calls["/api/face/liveness"] == {"image": forwarded}
    assert detection_calls["/api/object-detection/phone"] == {
        "image": forwarded,
        "sessionId": "class-3",
    }
    assert detection_calls["/api/object-detection/idcard"] == {
        "image": forwarded,
        "sessionId": "class-3",
    }
    assert sentiment_call == {
        "image": forwarded,
        "sessionId": "class-3",
        "studentId": "s-7",
    }


def test_parts_run_concurrently_not_one_after_another(client, stubs, image):
    for server in stubs.values():
        for path in PART_PATHS.values():
            server.behaviour.delays[path] = 0.5

    started = time.perf_counter()
    response = client.post("/api/analyze/all", json={"image": image})
    elapsed = time.perf_counter() - started

    assert response.status_code == 200
    assert response.get_json()["degraded"] == []
    # Five parts of 0.5 s each: 2.5 s one after another, about 0.5 s together.
    assert elapsed < 1.5


def test_request_id_reaches_every_part(client, stubs, image):
    response = client.post(
        "/api/analyze/all", json={"image": image}, headers={"X-Request-ID": "trace-7"}
    )

    assert response.headers["X-Request-ID"] == "trace-7"
    request_ids = {
        item.request_id for server in stubs.values() for item in server.received
    }
    assert request_ids == {"trace-7"}


def test_stopped_service_degrades_only_its_parts(client, stubs, image):
    stubs["detection"].stop()

    response = client.post("/api/analyze/all", json={"image": image})

    assert response.status_code == 200
    body = response.get_json()
    assert body["degraded"] == ["idcard", "phone"]
    assert body["message"] == "Analysis complete without: idcard, phone."
    assert body["assessment"] == {
        "studentVerified": True,
        "idCardVisible": None,
        "phoneDetected": None,
        "engagement": 0.8,
    }
    assert body["details"]["phone"] == {
        "status": 503,
        "ms": body["details"]["phone"]["ms"],
        "success": False,
        "message": "A service behind the gateway is unavailable; try again shortly.",
        "code": "service_unavailable",
        "details": {"service": "detection"},
    }


def test_slow_part_times_out_alone(make_gateway, stubs, image):
    stubs["sentiment"].behaviour.delays["/api/sentiment/analyze"] = 3.0
    client = make_gateway(ANALYZE_SENTIMENT_TIMEOUT_SECONDS="0.4").test_client()

    started = time.perf_counter()
    response = client.post("/api/analyze/all", json={"image": image})
    elapsed = time.perf_counter() - started

    body = response.get_json()
    assert response.status_code == 200
    assert body["degraded"] == ["sentiment"]
    assert body["assessment"]["engagement"] is None
    assert body["attention"] is None
    assert body["assessment"]["studentVerified"] is True
    assert body["details"]["sentiment"]["code"] == "service_timeout"
    assert elapsed < 2.5


def test_service_still_loading_is_a_degraded_part(client, stubs, image):
    loading = {"success": False, "message": "loading", "code": "not_ready"}
    stubs["face"].behaviour.answers["/api/face/liveness"] = (
        503,
        loading,
        "application/json",
    )

    body = client.post("/api/analyze/all", json={"image": image}).get_json()

    assert body["degraded"] == ["liveness"]
    assert body["liveness"] is None
    assert body["details"]["liveness"]["code"] == "not_ready"


def test_no_face_is_an_answer_not_a_failure(client, stubs, image):
    no_face = {"success": False, "message": "No face was found.", "code": "no_face"}
    stubs["face"].behaviour.answers["/api/face/verify"] = (
        422,
        no_face,
        "application/json",
    )
    stubs["sentiment"].behaviour.answers["/api/sentiment/analyze"] = (
        422,
        no_face,
        "application/json",
    )

    body = client.post(
        "/api/analyze/all", json={"image": image, "studentId": "s-7"}
    ).get_json()

    assert body["degraded"] == []
    assert body["assessment"]["studentVerified"] is False
    assert body["assessment"]["engagement"] is None
    assert body["details"]["face"]["code"] == "no_face"


def test_a_different_student_does_not_verify_the_requested_one(client, stubs, image):
    other = {
        "success": True,
        "message": "Verified.",
        "studentId": "s-8",
        "confidence": 0.9,
    }
    stubs["face"].behaviour.answers["/api/face/verify"] = (
        200,
        other,
        "application/json",
    )

    body = client.post(
        "/api/analyze/all", json={"image": image, "studentId": "s-7"}
    ).get_json()

    assert body["assessment"]["studentVerified"] is False
    assert body["studentId"] == "s-7"


def test_unknown_person_is_not_verified_without_a_student_id(client, stubs, image):
    unknown = {"success": False, "message": "Unknown face.", "studentId": None}
    stubs["face"].behaviour.answers["/api/face/verify"] = (
        200,
        unknown,
        "application/json",
    )

    body = client.post("/api/analyze/all", json={"image": image}).get_json()

    assert body["assessment"]["studentVerified"] is False
    assert body["studentId"] is None


def test_every_service_down_is_a_json_503(client, stubs, image):
    for server in stubs.values():
        server.stop()

    response = client.post("/api/analyze/all", json={"image": image})

    assert response.status_code == 503
    body = response.get_json()
    assert body == {
        "success": False,
        "message": "No service could analyse the image; try again shortly.",
        "code": "services_unavailable",
        "details": {"degraded": ["face", "idcard", "liveness", "phone", "sentiment"]},
        "requestId": body["requestId"],
    }


def test_bad_image_is_refused_before_any_service_is_called(client, stubs):
    cases = {
        "not base64 at all!": (400, "invalid_base64"),
        base64.b64encode(b"plain text, not an image").decode(): (
            415,
            "unsupported_format",
        ),
        encoded_image("PNG", 320, 240)[:400]: (422, "corrupt_image"),
        "/etc/passwd": (400, "invalid_base64"),
    }
    for sent, (status, code) in cases.items():
        response = client.post("/api/analyze/all", json={"image": sent})
        assert (response.status_code, response.get_json()["code"]) == (status, code)

    missing = client.post("/api/analyze/all", json={"studentId": "s-1"})
    assert (missing.status_code, missing.get_json()["code"]) == (400, "missing_image")
    assert all(server.received == [] for server in stubs.values())


def test_non_string_student_id_is_refused(client, stubs, image):
    response = client.post(
        "/api/analyze/all", json={"image": image, "studentId": ["a"]}
    )

    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_request"
    assert all(server.received == [] for server in stubs.values())


def test_multipart_upload_is_accepted(client, stubs, image, forwarded):
    upload = (io.BytesIO(base64.b64decode(image)), "frame.png")
    data = {"image": upload, "studentId": "s-7"}
    response = client.post(
        "/api/analyze/all", data=data, content_type="multipart/form-data"
    )

    assert response.status_code == 200
    assert response.get_json()["assessment"]["studentVerified"] is True
    assert stubs["face"].received[-1].json["image"] == forwarded


def test_jpeg_data_url_is_accepted_and_passed_on_as_jpeg(client, stubs):
    jpeg = encoded_image("JPEG")

    response = client.post(
        "/api/analyze/all", json={"image": f"data:image/jpeg;base64,{jpeg}"}
    )

    assert response.status_code == 200
    sent = stubs["sentiment"].received[-1].json["image"]
    assert sent == f"data:image/jpeg;base64,{jpeg}"


def _two_at_once(app, image) -> list:
    from concurrent.futures import ThreadPoolExecutor

    def call(_index):
        return app.test_client().post("/api/analyze/all", json={"image": image})

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(call, range(2)))


def test_capped_fan_outs_wait_their_turn_and_run_whole(make_gateway, stubs, image):
    stubs["sentiment"].behaviour.delays["/api/sentiment/analyze"] = 0.4
    app = make_gateway(ANALYZE_MAX_IN_FLIGHT="1", ANALYZE_QUEUE_SECONDS="5")

    responses = _two_at_once(app, image)

    assert [response.status_code for response in responses] == [200, 200]
    assert [response.get_json()["degraded"] for response in responses] == [[], []]


def test_a_full_queue_answers_json_503_busy(make_gateway, stubs, image):
    stubs["sentiment"].behaviour.delays["/api/sentiment/analyze"] = 1.0
    app = make_gateway(ANALYZE_MAX_IN_FLIGHT="1", ANALYZE_QUEUE_SECONDS="0.2")

    responses = _two_at_once(app, image)

    assert sorted(response.status_code for response in responses) == [200, 503]
    busy = next(response for response in responses if response.status_code == 503)
    body = busy.get_json()
    assert body == {
        "success": False,
        "message": "The system is busy analysing other images; try again shortly.",
        "code": "busy",
        "details": {"retryAfterSeconds": 1},
        "requestId": body["requestId"],
    }


def test_plain_jpeg_base64_is_accepted(client, stubs):
    jpeg = encoded_image("JPEG")

    response = client.post("/api/analyze/all", json={"image": jpeg})

    assert jpeg.startswith("/9j/")
    assert response.status_code == 200
    sent = stubs["face"].received[-1].json["image"]
    assert sent == f"data:image/jpeg;base64,{jpeg}"
