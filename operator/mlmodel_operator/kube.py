"""A small Kubernetes API client on aiohttp, for the objects kopf does not manage.

kopf watches and patches the MLModel itself; this client reads and changes the
target Deployment, its canary, and lists pods. It authenticates with the
credentials kopf's login handler found (service account in the cluster, a
kubeconfig outside), so both share one identity.
"""

from __future__ import annotations

import ssl
from typing import Any

import aiohttp
import kopf

GROUP = "attendance-ml.io"
VERSION = "v1alpha1"
TRANSIENT_STATUSES = {408, 409, 429, 500, 502, 503, 504}


class ApiError(Exception):
    """The API server answered an error; ``transient`` when a retry may succeed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.transient = status in TRANSIENT_STATUSES


def deployments_path(namespace: str, name: str = "") -> str:
    return f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}".rstrip("/")


def pods_path(namespace: str) -> str:
    return f"/api/v1/namespaces/{namespace}/pods"


def mlmodels_path(namespace: str) -> str:
    return f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/mlmodels"


class KubeClient:
    """Reads and writes Kubernetes objects as plain dicts.

    timeout_seconds: total time of one API request.
    """

    def __init__(self, timeout_seconds: float = 10.0) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._info: kopf.ConnectionInfo | None = None
        self._session: aiohttp.ClientSession | None = None

    def use(self, info: kopf.ConnectionInfo) -> None:
        """Take the credentials kopf logged in with (called by the login handler).

        The token is read per request, so a refreshed token takes effect at once.
        """
        self._info = info

    @property
    def logged_in(self) -> bool:
        return self._info is not None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get(self, path: str) -> dict[str, Any] | None:
        """The object at ``path``, or None when it does not exist."""
        try:
            return await self._request("GET", path)
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    async def list(self, path: str, label_selector: str = "") -> list[dict[str, Any]]:
        params = {"labelSelector": label_selector} if label_selector else None
        body = await self._request("GET", path, params=params)
        return list(body.get("items") or [])

    async def json_patch(self, path: str, operations: list[dict[str, Any]]) -> Any:
        """Apply RFC 6902 operations; a failed ``test`` operation raises ApiError."""
        return await self._request(
            "PATCH", path, json=operations, content_type="application/json-patch+json"
        )

    async def create(self, path: str, body: dict[str, Any]) -> Any:
        return await self._request("POST", path, json=body)

    async def delete(self, path: str) -> bool:
        """Delete the object; false when it was already gone."""
        try:
            await self._request("DELETE", path)
        except ApiError as error:
            if error.status == 404:
                return False
            raise
        return True

    async def _request(
        self,
        method: str,
        path: str,
        json: Any = None,
        params: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Any:
        session = self._open()
        assert self._info is not None
        url = self._info.server.rstrip("/") + path
        headers = {"Accept": "application/json"}
        if self._info.token:
            headers["Authorization"] = (
                f"{self._info.scheme or 'Bearer'} {self._info.token}"
            )
        if json is not None:
            headers["Content-Type"] = content_type
        try:
            async with session.request(
                method, url, json=json, params=params, headers=headers
            ) as response:
                if response.status >= 400:
                    text = (await response.text())[:500]
                    raise ApiError(response.status, f"{method} {path}: {text}")
                return await response.json(content_type=None)
        except aiohttp.ClientError as error:
            raise ApiError(503, f"{method} {path}: {error}") from error

    def _open(self) -> aiohttp.ClientSession:
        if self._info is None:
            raise ApiError(503, "not logged in to the API server yet")
        if self._session is None:
            connector = aiohttp.TCPConnector(ssl=self._ssl_context())
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, connector=connector
            )
        return self._session

    def _ssl_context(self) -> ssl.SSLContext | bool:
        info = self._info
        assert info is not None
        if info.insecure:
            return False
        context = ssl.create_default_context(cafile=info.ca_path)
        if info.ca_data:
            data = info.ca_data
            context.load_verify_locations(
                cadata=data.decode("ascii") if isinstance(data, bytes) else data
            )
        if info.certificate_path and info.private_key_path:
            context.load_cert_chain(info.certificate_path, info.private_key_path)
        return context
