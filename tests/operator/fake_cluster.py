"""What kmock does not emulate: a Deployment controller, a kubelet and the pods.

The controller turns each Deployment's pod template into pod objects in kmock,
the way a rolling update with ``maxUnavailable: 0`` does: new pods first, old pods
removed only once the new ones are ready. Each pod is served over HTTP on
loopback at ``/pods/<name>/...`` and answers like a service would, according to
the model version its variables name:

- ``/health/ready``: 200 and the loaded models, or 503 with the load error;
- ``/metrics``: ``flask_http_request_total`` counters that grow on each scrape;
- ``POST /detect/phone``: ``{"phoneDetected": ...}`` from a rule per version.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import kmock
from aiohttp import web

DEPLOYMENTS = "apps/v1/deployments"
PODS = "v1/pods"


class NamingEmulator(kmock.KubernetesEmulator):
    """kmock's emulator, plus two things the API server does on every write.

    Objects created with ``generateName`` (kopf's Events) get a name, and every
    write bumps ``metadata.resourceVersion`` (kopf follows its own patches by it).
    """

    _versions = itertools.count(100)

    async def _handle(self, request: Any) -> Any:
        data = request.data
        version = str(next(self._versions))
        if request.method.value == "POST" and isinstance(data, dict):
            metadata = data.setdefault("metadata", {})
            if not metadata.get("name") and metadata.get("generateName"):
                metadata["name"] = metadata["generateName"] + version
            metadata["resourceVersion"] = version
        elif request.method.value == "PATCH" and isinstance(data, dict):
            data.setdefault("metadata", {})["resourceVersion"] = version
        elif request.method.value == "PATCH" and isinstance(data, list):
            path = "/metadata/resourceVersion"
            data.append({"op": "add", "path": path, "value": version})
        return await super()._handle(request)


@dataclass
class Behaviour:
    """How pods holding one model version behave.

    loads: the model loads and the pod becomes ready; else /health/ready says why.
    errors_per_scrape: 5xx answers added to the counters on each /metrics scrape.
    sees_phones: whether the model detects a phone in a case whose image has one.
    """

    loads: bool = True
    errors_per_scrape: int = 0
    sees_phones: bool = True


@dataclass
class FakeCluster:
    kmock: Any
    namespace: str = "ml"
    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    stalled_versions: set[str] = field(default_factory=set)
    port: int = 0
    health_url: str = ""
    _counter: itertools.count = field(default_factory=itertools.count)
    _scrapes: dict[str, int] = field(default_factory=dict)

    def pod_address(self, pod: dict[str, Any], port: int) -> str:
        return f"http://127.0.0.1:{self.port}/pods/{pod['metadata']['name']}"

    # The controller.

    async def run_controller(self, period: float = 0.05) -> None:
        while True:
            self.sync_once()
            await asyncio.sleep(period)

    def sync_once(self) -> None:
        deployments = self._live(DEPLOYMENTS)
        names = {d["metadata"]["name"] for d in deployments}
        for pod in self._live(PODS):
            if pod["metadata"]["labels"].get("fake/owner") not in names:
                self._delete_pod(pod)
        for deployment in deployments:
            self._sync_deployment(deployment)

    def _sync_deployment(self, deployment: dict[str, Any]) -> None:
        name = deployment["metadata"]["name"]
        template = deployment["spec"]["template"]
        digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode())
        template_hash = digest.hexdigest()[:10]
        replicas = int(deployment["spec"].get("replicas", 1))
        pods = [
            p for p in self._live(PODS) if p["metadata"]["labels"]["fake/owner"] == name
        ]
        current = [
            p for p in pods if p["metadata"]["labels"]["fake/hash"] == template_hash
        ]
        old = [p for p in pods if p not in current]

        stalled = bool(self.versions_of(template) & self.stalled_versions)
        if not stalled:
            for _ in range(replicas - len(current)):
                current.append(self._create_pod(name, template, template_hash))
        for pod in current[replicas:]:
            self._delete_pod(pod)
        ready = [p for p in current[:replicas] if self._loads(p)]
        if len(ready) >= replicas:
            for pod in old:
                self._delete_pod(pod)

    def _create_pod(self, owner: str, template: dict, template_hash: str) -> dict:
        name = f"{owner}-{template_hash[:5]}-{next(self._counter)}"
        labels = {
            **(template.get("metadata", {}).get("labels") or {}),
            "fake/owner": owner,
            "fake/hash": template_hash,
        }
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": self.namespace, "labels": labels},
            "spec": json.loads(json.dumps(template["spec"])),
            "status": {"podIP": "127.0.0.1", "phase": "Running"},
        }
        self.kmock.objects[PODS, self.namespace, name] = pod
        return pod

    def _delete_pod(self, pod: dict[str, Any]) -> None:
        self.kmock.objects[PODS, self.namespace, pod["metadata"]["name"]].delete()

    def _live(self, resource: str) -> list[dict[str, Any]]:
        plural = resource.rsplit("/", 1)[-1]
        found = []
        for (kind, _, _), obj in list(self.kmock.objects.items()):
            if kind.plural == plural and not obj.deleted:
                found.append(obj.raw)
        return found

    # The pods.

    @staticmethod
    def versions_of(template_or_pod: dict[str, Any]) -> set[str]:
        return {
            entry["value"]
            for container in template_or_pod["spec"]["containers"]
            for entry in container.get("env") or []
            if entry["name"].endswith("_VERSION")
        }

    def behaviour(self, pod: dict[str, Any]) -> Behaviour:
        for version in self.versions_of(pod):
            if version in self.behaviours:
                return self.behaviours[version]
        return Behaviour()

    def _loads(self, pod: dict[str, Any]) -> bool:
        return self.behaviour(pod).loads

    def _pod(self, request: web.Request) -> dict[str, Any]:
        for pod in self._live(PODS):
            if pod["metadata"]["name"] == request.match_info["name"]:
                return pod
        raise web.HTTPNotFound()

    async def ready(self, request: web.Request) -> web.Response:
        pod = self._pod(request)
        models = [
            {
                "slot": entry["name"]
                .split("_MODEL_")[1]
                .removesuffix("_VERSION")
                .lower(),
                "name": "fake",
                "version": entry["value"],
            }
            for container in pod["spec"]["containers"]
            for entry in container.get("env") or []
            if entry["name"].endswith("_VERSION") and "_MODEL_" in entry["name"]
        ]
        if not self.behaviour(pod).loads:
            body = {"ready": False, "error": "ModelChecksumMismatch: sha256 differs"}
            return web.json_response({**body, "models": []}, status=503)
        return web.json_response({"ready": True, "models": models})

    async def metrics(self, request: web.Request) -> web.Response:
        pod = self._pod(request)
        scrapes = self._scrapes[pod["metadata"]["name"]] = (
            self._scrapes.get(pod["metadata"]["name"], 0) + 1
        )
        errors = scrapes * self.behaviour(pod).errors_per_scrape
        text = (
            "# TYPE flask_http_request_total counter\n"
            f'flask_http_request_total{{method="POST",status="200"}} {scrapes * 20}\n'
            f'flask_http_request_total{{method="POST",status="500"}} {errors}\n'
        )
        return web.Response(text=text)

    async def detect_phone(self, request: web.Request) -> web.Response:
        pod = self._pod(request)
        body = await request.json()
        seen = self.behaviour(pod).sees_phones and body.get("image") == "phone"
        return web.json_response({"phoneDetected": seen})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/pods/{name}/health/ready", self.ready)
        app.router.add_get("/pods/{name}/metrics", self.metrics)
        app.router.add_post("/pods/{name}/detect/phone", self.detect_phone)
        return app
