"""Errors only the gateway raises: a service that cannot answer, and access control.

They subclass the core's ``ServiceError``, so the core's one handler turns them into
the usual JSON body with a stable ``code``.
"""

from __future__ import annotations

from attendance_ml.core.errors import ServiceError


class UpstreamUnavailable(ServiceError):
    """The service refused the connection or is not running."""

    status, code = 503, "service_unavailable"
    message = "A service behind the gateway is unavailable; try again shortly."


class UpstreamTimeout(ServiceError):
    """The service took longer than the route's timeout."""

    status, code = 504, "service_timeout"
    message = "A service behind the gateway did not answer in time."


class UpstreamInvalidResponse(ServiceError):
    """The service answered with something that is not its JSON API."""

    status, code = 502, "bad_gateway"
    message = "A service behind the gateway gave an invalid answer."


class AllPartsFailed(ServiceError):
    """Every part of ``/api/analyze/all`` failed: nothing can be assessed."""

    status, code = 503, "services_unavailable"
    message = "No service could analyse the image; try again shortly."


class Busy(ServiceError):
    """Too many analyze/all requests are waiting: the services are saturated."""

    status, code = 503, "busy"
    message = "The system is busy analysing other images; try again shortly."


class Unauthorized(ServiceError):
    status, code = 401, "unauthorized"
    message = "Authentication is required: send a bearer token or an API key."


class Forbidden(ServiceError):
    status, code = 403, "forbidden"
    message = "The credentials do not grant this operation."
