"""Forwarding of ``/api/face/*``, ``/api/object-detection/*`` and ``/api/sentiment/*``.

Method, path, query string, body and end-to-end headers go to the service unchanged;
its status, JSON body and end-to-end headers come back unchanged. Hop-by-hop headers
and the caller's credentials stop at the gateway. The request id travels both ways.
"""

from __future__ import annotations

from flask import Blueprint, Response, g, request
from flask_limiter import Limiter

from attendance_ml.gateway.auth import Authenticator
from attendance_ml.gateway.errors import UpstreamInvalidResponse
from attendance_ml.gateway.limits import (
    current_principal,
    needs_enrol_role,
    route_limit,
    route_scope,
)
from attendance_ml.gateway.settings import GatewaySettings
from attendance_ml.gateway.upstream import UpstreamClient, request_headers

# Public path prefix -> service name.
PREFIXES = {
    "face": "face",
    "object-detection": "detection",
    "sentiment": "sentiment",
}
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
# What a service may answer besides JSON: review images of the detection service.
_PASSED_THROUGH = ("application/json", "image/")


def proxy_blueprint(
    settings: GatewaySettings,
    client: UpstreamClient,
    authenticator: Authenticator,
    limiter: Limiter,
) -> Blueprint:
    """Routes that forward every path under the three service prefixes."""
    blueprint = Blueprint("proxy", __name__)

    def forward(rest: str) -> Response:
        principal = current_principal(authenticator)
        if needs_enrol_role(request.method, request.path):
            authenticator.require_role(principal, authenticator.settings.enrol_role)

        service = PREFIXES[request.path.split("/")[2]]
        api_path = request.path.removeprefix("/api/").strip("/")
        answer = client.call(
            service,
            request.method,
            request.path,
            timeout=settings.timeout_for(api_path),
            request_id=g.request_id,
            headers=_forwarded_headers(),
            data=request.get_data(cache=False),
            params=request.query_string or None,
        )
        if not answer.content_type.lower().startswith(_PASSED_THROUGH):
            raise UpstreamInvalidResponse(service=service, status=answer.status)

        response = Response(answer.content, status=answer.status)
        for key, value in answer.headers:
            response.headers[key] = value
        return response

    limited = limiter.limit(route_limit(settings.limits), scope=route_scope)(forward)
    for prefix in PREFIXES:
        blueprint.add_url_rule(
            f"/api/{prefix}/<path:rest>", "forward", limited, methods=METHODS
        )
    return blueprint


def _forwarded_headers() -> list[tuple[str, str]]:
    headers = request_headers(request.headers.items())
    client = request.remote_addr or ""
    previous = request.headers.get("X-Forwarded-For")
    headers.append(("X-Forwarded-For", f"{previous}, {client}" if previous else client))
    return headers
