"""Rate limits per client and route (flask-limiter), in memory or in Redis.

A client is the authenticated subject when there is one, else the remote address.
A route is the first two path segments after ``/api/`` (``face/register``,
``face/students``, ``object-detection/phone``, ``analyze/all``), so one student's
id does not get a bucket of its own. With several gateway replicas, point
``ATTENDANCE_GATEWAY_RATE_LIMIT_STORAGE_URI`` at one Redis so that they share counts;
if Redis cannot be reached the limiter falls back to per-replica memory.
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_limiter import Limiter

from attendance_ml.gateway.auth import Authenticator
from attendance_ml.gateway.errors import Unauthorized
from attendance_ml.gateway.settings import RateLimitSettings

ENROL_GROUPS = {("POST", "face/register"), ("DELETE", "face/students")}


def route_group(path: str) -> str:
    """``/api/face/students/42`` -> ``face/students``."""
    parts = [part for part in path.split("/") if part]
    if parts and parts[0] == "api":
        parts = parts[1:]
    return "/".join(parts[:2])


def needs_enrol_role(method: str, path: str) -> bool:
    """Register and delete change the gallery: they need the enrolment role."""
    return (method.upper(), route_group(path)) in ENROL_GROUPS


def current_principal(authenticator: Authenticator):
    """Authenticate once per request; the result (or the error) is kept in ``g``."""
    if "principal" not in g and "auth_error" not in g:
        try:
            g.principal = authenticator.authenticate(request)
        except Unauthorized as error:
            g.auth_error = error
    if "auth_error" in g:
        raise g.auth_error
    return g.principal


def create_limiter(
    app: Flask, settings: RateLimitSettings, authenticator: Authenticator
) -> Limiter:
    """A limiter bound to ``app``; routes opt in with ``limiter.limit``."""

    def client_key() -> str:
        try:
            principal = current_principal(authenticator)
        except Unauthorized:
            return f"ip:{request.remote_addr}"
        if principal.method == "anonymous":
            return f"ip:{request.remote_addr}"
        return f"sub:{principal.subject}"

    return Limiter(
        client_key,
        app=app,
        storage_uri=settings.storage_uri,
        strategy="moving-window",
        headers_enabled=True,
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        key_prefix="attendance-gateway",
        enabled=settings.enabled,
    )


def route_limit(settings: RateLimitSettings):
    """The limit string for the current request's route."""

    def limit_for_request() -> str:
        group = route_group(request.path)
        if group == "analyze/all":
            return settings.analyze
        if needs_enrol_role(request.method, request.path):
            return settings.enrol
        return settings.default

    return limit_for_request


def route_scope(endpoint: str) -> str:
    """Each route group counts separately, even when one view serves many paths.

    flask-limiter prefixes the endpoint name itself.
    """
    return f"{request.method}:{route_group(request.path)}"
