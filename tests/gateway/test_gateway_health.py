"""GET /health aggregates the services' health; liveness and readiness stay local."""

from __future__ import annotations


def test_all_services_up_is_ok(client):
    response = client.get("/health")

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["service"] == "gateway"
    assert {name: state["status"] for name, state in body["services"].items()} == {
        "face": "ok",
        "detection": "ok",
        "sentiment": "ok",
    }
    assert {state["httpStatus"] for state in body["services"].values()} == {200}


def test_one_service_down_is_degraded_with_each_state(client, stubs):
    stubs["sentiment"].stop()
    loading = {"status": "loading", "service": "face"}
    stubs["face"].behaviour.answers["/health"] = (503, loading, "application/json")

    response = client.get("/health")

    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["services"]["face"] == {
        "status": "loading",
        "httpStatus": 503,
        "ms": body["services"]["face"]["ms"],
    }
    assert body["services"]["detection"]["status"] == "ok"
    assert body["services"]["sentiment"] == {
        "status": "unreachable",
        "httpStatus": None,
    }


def test_slow_health_answer_counts_as_timeout(make_gateway, stubs):
    stubs["detection"].behaviour.delays["/health"] = 2.0
    client = make_gateway(HEALTH_TIMEOUT_SECONDS="0.3").test_client()

    body = client.get("/health").get_json()

    assert body["status"] == "degraded"
    assert body["services"]["detection"] == {"status": "timeout", "httpStatus": None}


def test_non_json_health_answer_is_an_error_state(client, stubs):
    stubs["face"].behaviour.answers["/health"] = (200, "<html>ok</html>", "text/html")

    body = client.get("/health").get_json()

    assert body["services"]["face"]["status"] == "error"


def test_liveness_and_readiness_do_not_depend_on_the_services(client, stubs):
    for server in stubs.values():
        server.stop()

    live = client.get("/health/live")
    ready = client.get("/health/ready")

    assert (live.status_code, live.get_json()) == (
        200,
        {"status": "ok", "service": "gateway"},
    )
    assert ready.status_code == 200
    assert ready.get_json()["ready"] is True
    assert client.get("/health").status_code == 503
