"""HTTP calls from the gateway to the services, with pooled connections and timeouts.

A service that refuses the connection raises ``UpstreamUnavailable`` (503), one that
is slower than the timeout ``UpstreamTimeout`` (504), one that answers something
other than its API ``UpstreamInvalidResponse`` (502). No call is retried: every
route here may change state or cost a model inference.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
import structlog
from requests.adapters import HTTPAdapter

from attendance_ml.core.logs import REQUEST_ID_HEADER
from attendance_ml.gateway.errors import (
    UpstreamInvalidResponse,
    UpstreamTimeout,
    UpstreamUnavailable,
)

log = structlog.get_logger("attendance_ml.gateway.upstream")

# RFC 9110 section 7.6.1 hop-by-hop headers, plus what the gateway sets itself.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
_NOT_FORWARDED_TO_SERVICE = HOP_BY_HOP | {
    "host",
    "content-length",
    "authorization",
    "x-api-key",
    "cookie",
    REQUEST_ID_HEADER.lower(),
}
_NOT_RETURNED_TO_CLIENT = HOP_BY_HOP | {
    "content-length",
    "content-encoding",
    "server",
    "date",
    REQUEST_ID_HEADER.lower(),
}


@dataclass(frozen=True)
class UpstreamResponse:
    """One service answer: status, body bytes, the headers to return, timing in ms."""

    service: str
    status: int
    content: bytes
    content_type: str
    headers: list[tuple[str, str]]
    ms: float

    @property
    def is_json(self) -> bool:
        return self.content_type.split(";")[0].strip().lower() == "application/json"

    def json(self) -> Any:
        """The parsed JSON body, or UpstreamInvalidResponse if it is not JSON."""
        if not self.is_json:
            raise UpstreamInvalidResponse(service=self.service, status=self.status)
        try:
            return requests.models.complexjson.loads(self.content)
        except ValueError as error:
            raise UpstreamInvalidResponse(service=self.service) from error


def forwardable_headers(
    headers: Iterable[tuple[str, str]], drop: frozenset[str]
) -> list[tuple[str, str]]:
    """Headers without the hop-by-hop ones, nor those named in ``Connection``."""
    pairs = list(headers)
    named = {
        token.strip().lower()
        for key, value in pairs
        if key.lower() == "connection"
        for token in value.split(",")
    }
    return [
        (k, v) for k, v in pairs if k.lower() not in drop and k.lower() not in named
    ]


def request_headers(incoming: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return forwardable_headers(incoming, _NOT_FORWARDED_TO_SERVICE)


class UpstreamClient:
    """One pooled HTTP session per service; safe to share between request threads."""

    def __init__(
        self, urls: Mapping[str, str], connect_timeout: float, pool_size: int = 32
    ) -> None:
        self.urls = dict(urls)
        self.connect_timeout = connect_timeout
        self._sessions: dict[str, requests.Session] = {}
        for service in self.urls:
            session = requests.Session()
            session.trust_env = False
            adapter = HTTPAdapter(
                pool_connections=1, pool_maxsize=pool_size, max_retries=0
            )
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._sessions[service] = session

    def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        timeout: float,
        request_id: str,
        headers: Iterable[tuple[str, str]] = (),
        data: bytes | None = None,
        json: Any = None,
        params: Any = None,
    ) -> UpstreamResponse:
        """Send one request to ``service`` and return its answer, whatever its status.

        timeout: seconds to wait for the answer once connected.
        """
        url = self.urls[service] + path
        sent_headers = dict(headers)
        sent_headers[REQUEST_ID_HEADER] = request_id
        started = time.perf_counter()
        try:
            response = self._sessions[service].request(
                method,
                url,
                data=data,
                json=json,
                params=params,
                headers=sent_headers,
                timeout=(self.connect_timeout, timeout),
                allow_redirects=False,
            )
        except requests.ConnectTimeout as error:
            _log_failure(service, path, "unavailable", error)
            raise UpstreamUnavailable(service=service) from error
        except requests.Timeout as error:
            _log_failure(service, path, "timeout", error)
            raise UpstreamTimeout(service=service) from error
        except requests.ConnectionError as error:
            _log_failure(service, path, "unavailable", error)
            raise UpstreamUnavailable(service=service) from error
        except requests.RequestException as error:
            _log_failure(service, path, "invalid_response", error)
            raise UpstreamInvalidResponse(service=service) from error

        return UpstreamResponse(
            service=service,
            status=response.status_code,
            content=response.content,
            content_type=response.headers.get("Content-Type", ""),
            headers=forwardable_headers(
                response.headers.items(), _NOT_RETURNED_TO_CLIENT
            ),
            ms=round((time.perf_counter() - started) * 1000, 1),
        )

    def close(self) -> None:
        for session in self._sessions.values():
            session.close()


def _log_failure(service: str, path: str, kind: str, error: Exception) -> None:
    log.warning(
        "upstream_failed",
        upstream=service,
        path=path,
        kind=kind,
        error_type=type(error).__name__,
    )
