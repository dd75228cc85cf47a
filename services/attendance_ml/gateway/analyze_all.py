"""``POST /api/analyze/all``: one image, every service at once, one assessment.

The image is decoded and validated once here (core imaging), so a bad image is
refused before any service works on it. Face verification, passive liveness, ID
card, phone and sentiment are then called concurrently, each with its own timeout.
A part that fails (service down, timeout, invalid answer) is named in ``degraded``
and its assessment field is null; it is never guessed. A part that answers "no face"
is not a failure: the student is then not verified and engagement is null.
"""

from __future__ import annotations

import base64
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import structlog
from flask import Blueprint, current_app, g, jsonify, request
from flask_limiter import Limiter

from attendance_ml.core.errors import InvalidRequest, ServiceError
from attendance_ml.core.imaging import (
    decode_image,
    image_bytes_from_request,
    json_body,
    sniff_format,
)
from attendance_ml.gateway.assessment import PartResult, build_assessment
from attendance_ml.gateway.auth import Authenticator
from attendance_ml.gateway.errors import AllPartsFailed, Busy, UpstreamTimeout
from attendance_ml.gateway.limits import current_principal, route_limit, route_scope
from attendance_ml.gateway.settings import GatewaySettings
from attendance_ml.gateway.upstream import UpstreamClient

log = structlog.get_logger("attendance_ml.gateway.analyze")


@dataclass(frozen=True)
class Part:
    """One service call of the fan-out; timeout in seconds."""

    name: str
    service: str
    path: str
    payload: dict[str, Any]
    timeout: float


def analyze_blueprint(
    settings: GatewaySettings,
    client: UpstreamClient,
    authenticator: Authenticator,
    limiter: Limiter,
) -> Blueprint:
    """The fan-out route; its worker threads live as long as the app."""
    blueprint = Blueprint("analyze", __name__)
    executor = ThreadPoolExecutor(max_workers=32, thread_name_prefix="analyze-part")
    admission = Admission(
        settings.analyze_max_in_flight, settings.analyze_queue_seconds
    )

    def analyze_all():
        current_principal(authenticator)
        started = time.perf_counter()
        fields = _fields()
        limits = current_app.extensions["attendance_core"].image_limits
        data = image_bytes_from_request(request, limits)
        decode_image(data, limits)

        parts = _parts(settings, _data_url(data), fields)
        with admission:
            results = _run_concurrently(executor, client, parts, g.request_id)
        if all(result.failed for result in results.values()):
            raise AllPartsFailed(degraded=sorted(results))

        body = build_assessment(results, fields)
        body["timings"] = {name: result.ms for name, result in results.items()}
        body["timings"]["total"] = round((time.perf_counter() - started) * 1000, 1)
        log.info(
            "analyze_all_finished",
            degraded=body["degraded"],
            ms=body["timings"]["total"],
        )
        return jsonify(body)

    limited = limiter.limit(route_limit(settings.limits), scope=route_scope)
    blueprint.add_url_rule(
        "/api/analyze/all", "analyze_all", limited(analyze_all), methods=["POST"]
    )
    return blueprint


class Admission:
    """Caps the fan-outs in flight so that saturated services queue here, not time out.

    Without a cap, a burst larger than the services can serve makes every part wait
    in the services' queues until its timeout, and answers come back degraded. With
    one, requests wait their turn (at most ``queue_seconds``) and then run whole.
    """

    def __init__(self, max_in_flight: int, queue_seconds: float) -> None:
        self._slots = (
            threading.BoundedSemaphore(max_in_flight) if max_in_flight else None
        )
        self._queue_seconds = queue_seconds

    def __enter__(self) -> None:
        if self._slots is not None and not self._slots.acquire(
            timeout=self._queue_seconds
        ):
            raise Busy(retryAfterSeconds=max(1, round(self._queue_seconds / 10)))

    def __exit__(self, *_exc) -> None:
        if self._slots is not None:
            self._slots.release()


def _data_url(data: bytes) -> str:
    """The validated bytes as a data URL: unambiguous for every service's intake."""
    media_type = f"image/{(sniff_format(data) or 'octet-stream').lower()}"
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def _fields() -> dict[str, str | None]:
    """studentId and sessionId: optional strings (numbers are taken as strings)."""
    body = json_body(request)
    fields: dict[str, str | None] = {}
    for name in ("studentId", "sessionId"):
        value = body.get(name)
        if isinstance(value, bool) or not isinstance(value, str | int | type(None)):
            raise InvalidRequest(f"'{name}' must be a string.")
        value = str(value).strip() if value is not None else None
        if value is not None and not 0 < len(value) <= 128:
            raise InvalidRequest(f"'{name}' must be 1 to 128 characters long.")
        fields[name] = value
    return fields


def _parts(
    settings: GatewaySettings, image: str, fields: dict[str, str | None]
) -> list[Part]:
    student, session = fields["studentId"], fields["sessionId"]
    with_session = {"image": image} | ({"sessionId": session} if session else {})
    timeouts = settings.part_timeouts
    parts = [
        Part(
            "face",
            "face",
            "/api/face/verify",
            {"image": image} | ({"studentId": student} if student else {}),
            timeouts["face"],
        ),
        Part(
            "idcard",
            "detection",
            "/api/object-detection/idcard",
            with_session,
            timeouts["idcard"],
        ),
        Part(
            "phone",
            "detection",
            "/api/object-detection/phone",
            with_session,
            timeouts["phone"],
        ),
        Part(
            "sentiment",
            "sentiment",
            "/api/sentiment/analyze",
            with_session | ({"studentId": student} if student else {}),
            timeouts["sentiment"],
        ),
    ]
    if settings.analyze_liveness:
        parts.append(
            Part(
                "liveness",
                "face",
                "/api/face/liveness",
                {"image": image},
                timeouts["liveness"],
            )
        )
    return parts


def _run_concurrently(
    executor: ThreadPoolExecutor,
    client: UpstreamClient,
    parts: list[Part],
    request_id: str,
) -> dict[str, PartResult]:
    """Start every part at once; each ends by its own timeout."""
    futures = {
        part.name: executor.submit(_call_part, client, part, request_id)
        for part in parts
    }
    longest = max(part.timeout for part in parts) + client.connect_timeout + 1.0
    wait(futures.values(), timeout=longest)

    results: dict[str, PartResult] = {}
    for part in parts:
        future = futures[part.name]
        if future.done():
            results[part.name] = future.result()
        else:
            error = UpstreamTimeout(service=part.service)
            results[part.name] = PartResult.from_error(part.name, error, ms=None)
    return results


def _call_part(client: UpstreamClient, part: Part, request_id: str) -> PartResult:
    started = time.perf_counter()
    try:
        answer = client.call(
            part.service,
            "POST",
            part.path,
            timeout=part.timeout,
            request_id=request_id,
            json=part.payload,
        )
        return PartResult.from_answer(
            part.name, answer.status, answer.json(), answer.ms
        )
    except ServiceError as error:
        ms = round((time.perf_counter() - started) * 1000, 1)
        return PartResult.from_error(part.name, error, ms)
