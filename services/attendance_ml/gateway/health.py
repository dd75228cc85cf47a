"""``GET /health`` of the gateway: the health of every service behind it.

200 ``{"status": "ok"}`` when every service answers its own ``/health`` with 200;
otherwise 503 ``{"status": "degraded"}``. Each service's state is one of ``ok``,
``loading``, ``error`` (as the service reports it), ``unreachable`` or ``timeout``.
``/health/live`` and ``/health/ready`` stay the gateway's own (the core's), so one
service being down never takes the gateway out of its load balancer.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import g, jsonify

from attendance_ml.core.errors import ServiceError
from attendance_ml.gateway.errors import UpstreamTimeout
from attendance_ml.gateway.upstream import UpstreamClient


def service_state(
    client: UpstreamClient, service: str, timeout: float, request_id: str
) -> dict[str, Any]:
    """One service's health: its state, HTTP status and round trip in ms."""
    try:
        answer = client.call(
            service, "GET", "/health", timeout=timeout, request_id=request_id
        )
    except UpstreamTimeout:
        return {"status": "timeout", "httpStatus": None}
    except ServiceError:
        return {"status": "unreachable", "httpStatus": None}

    try:
        body = answer.json()
    except ServiceError:
        body = {}
    reported = body.get("status") if isinstance(body, dict) else None
    if answer.status == 200 and reported == "ok":
        state = "ok"
    elif reported in ("loading", "error"):
        state = reported
    else:
        state = "error"
    return {"status": state, "httpStatus": answer.status, "ms": answer.ms}


def aggregated_health_view(client: UpstreamClient, timeout: float):
    """A view that asks every service at once and answers within ``timeout`` s."""
    pool = ThreadPoolExecutor(max_workers=len(client.urls), thread_name_prefix="health")

    def health():
        request_id = g.request_id
        futures = {
            service: pool.submit(service_state, client, service, timeout, request_id)
            for service in client.urls
        }
        services = {service: future.result() for service, future in futures.items()}
        healthy = all(state["status"] == "ok" for state in services.values())
        body = {
            "status": "ok" if healthy else "degraded",
            "service": "gateway",
            "services": services,
        }
        return jsonify(body), 200 if healthy else 503

    return health
