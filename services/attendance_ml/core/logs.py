"""Structured JSON logs with a request id on every event of a request.

The id comes from the caller's ``X-Request-ID`` when it is a sane token, else it is
generated; it is returned in the response header and bound to every log event.
Image bytes and embeddings are never logged.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

import structlog
from flask import Flask, g, request

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_configured = False


def configure_logging(level: str = "INFO", json_output: bool = True) -> None:
    """Set up structlog once per process; later calls only change the level."""
    global _configured
    numeric_level = logging.getLevelName(level)
    if not isinstance(numeric_level, int):
        numeric_level = logging.INFO
    logging.basicConfig(format="%(message)s", stream=sys.stdout, level=numeric_level)
    logging.getLogger().setLevel(numeric_level)
    if _configured:
        return

    renderer = (
        structlog.processors.JSONRenderer()
        if json_output
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    _configured = True


def incoming_request_id() -> str:
    """The caller's request id if it is a sane token, else a new one."""
    candidate = request.headers.get(REQUEST_ID_HEADER, "")
    if _SANE_REQUEST_ID.match(candidate):
        return candidate
    return uuid.uuid4().hex


def install_request_logging(app: Flask, service: str) -> None:
    """Bind a request id to each request's log events and log one line per request."""
    log = structlog.get_logger("attendance_ml.request")

    @app.before_request
    def bind_request_id() -> None:
        g.request_id = incoming_request_id()
        g.request_started = time.perf_counter()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=g.request_id, service=service)

    @app.after_request
    def return_request_id(response):
        request_id = getattr(g, "request_id", None)
        if request_id:
            response.headers[REQUEST_ID_HEADER] = request_id
        started = getattr(g, "request_started", None)
        if started is not None and not request.path.startswith(("/metrics", "/health")):
            log.info(
                "request_finished",
                method=request.method,
                path=request.path,
                status=response.status_code,
                ms=round((time.perf_counter() - started) * 1000, 1),
            )
        return response

    @app.teardown_request
    def unbind_request_id(_error) -> None:
        structlog.contextvars.clear_contextvars()
