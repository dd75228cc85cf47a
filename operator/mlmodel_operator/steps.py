"""The values a reconcile step works with: its services, the resource, its result."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlmodel_operator.config import OperatorConfig
from mlmodel_operator.kube import KubeClient, deployments_path
from mlmodel_operator.pods import PodProbe

Event = tuple[str, str, str]


@dataclass(frozen=True)
class Services:
    """What a step may use: the API, the pods, the settings and a clock (seconds)."""

    kube: KubeClient
    probe: PodProbe
    config: OperatorConfig
    clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class Resource:
    """The MLModel as the step sees it."""

    name: str
    namespace: str
    uid: str
    generation: int
    created: str
    spec: dict[str, Any]
    status: dict[str, Any]

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Resource:
        meta = body.get("metadata", {})
        return cls(
            name=meta["name"],
            namespace=meta.get("namespace", ""),
            uid=meta.get("uid", ""),
            generation=int(meta.get("generation", 1)),
            created=str(meta.get("creationTimestamp", "")),
            spec=dict(body.get("spec") or {}),
            status=dict(body.get("status") or {}),
        )

    @property
    def rollout(self) -> dict[str, Any]:
        return dict(self.status.get("rollout") or {})


@dataclass
class Step:
    """What one step decided.

    status: fields to merge into the resource's status.
    events: (type, reason, message) to post on the resource.
    retry_after: seconds until the next look; None when this generation is done.
    permanent: set when the spec cannot be acted on; no retry follows.
    """

    status: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    retry_after: float | None = None
    permanent: str | None = None


async def delete_deployment(kube: KubeClient, namespace: str, name: str | None) -> None:
    if name:
        await kube.delete(deployments_path(namespace, name))
