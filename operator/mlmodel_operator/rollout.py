"""Pure changes to Deployments: the model's variables, the canary, pod selection.

Nothing here talks to the API; every function takes and returns plain dicts, so
the rollout arithmetic is tested without a cluster.
"""

from __future__ import annotations

import copy
from typing import Any

from mlmodel_operator.kube import GROUP, VERSION
from mlmodel_operator.pods import is_terminating, matches_labels
from mlmodel_operator.spec import DEFAULT_PORTS, ModelSpec

TRACK_LABEL = f"{GROUP}/track"
MODEL_LABEL = f"{GROUP}/mlmodel"
VERSION_ANNOTATION = f"{GROUP}/model-version"


class TargetError(Exception):
    """The target Deployment cannot take the model; ``field`` names the spec field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def choose_target(
    deployments: list[dict[str, Any]], spec: ModelSpec
) -> dict[str, Any] | None:
    """The service's Deployment: by name when the spec names one, else by labels.

    Canary Deployments are never targets. None when nothing matches; TargetError
    when several do (the spec must then name one).
    """
    candidates = [
        deployment
        for deployment in deployments
        if TRACK_LABEL not in (deployment["metadata"].get("labels") or {})
    ]
    if spec.deployment:
        named = [d for d in candidates if d["metadata"]["name"] == spec.deployment]
        return named[0] if named else None
    wanted = {
        "app.kubernetes.io/name": "ml-services",
        "app.kubernetes.io/component": spec.service,
    }
    matching = [
        d
        for d in candidates
        if matches_labels(d["metadata"].get("labels") or {}, wanted)
    ]
    if len(matching) > 1:
        names = sorted(d["metadata"]["name"] for d in matching)
        raise TargetError("spec.target.deployment", f"several candidates: {names}")
    return matching[0] if matching else None


def container_index(deployment: dict[str, Any], name: str) -> int:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    for index, container in enumerate(containers):
        if container.get("name") == name:
            return index
    raise TargetError(
        "spec.target.container",
        f"{deployment['metadata']['name']} has no container {name!r}",
    )


def slot_env(deployment: dict[str, Any], index: int, prefix: str) -> list[dict]:
    """The container's variables for this slot (empty: the builtin default)."""
    container = deployment["spec"]["template"]["spec"]["containers"][index]
    return [
        e for e in container.get("env") or [] if e.get("name", "").startswith(prefix)
    ]


def version_of(entries: list[dict[str, Any]], prefix: str) -> str:
    for entry in entries:
        if entry.get("name") == prefix + "VERSION":
            return str(entry.get("value", ""))
    return "builtin"


def env_patch(
    deployment: dict[str, Any],
    index: int,
    prefix: str,
    entries: list[dict[str, Any]],
    version: str,
) -> list[dict[str, Any]]:
    """JSON-patch operations that give the slot exactly ``entries``; [] if it has.

    The container's other variables stay as they are. A ``test`` operation pins
    the container's name, so a concurrent reorder fails the patch instead of
    changing the wrong container.
    """
    template = deployment["spec"]["template"]
    container = template["spec"]["containers"][index]
    current = container.get("env") or []
    others = [e for e in current if not e.get("name", "").startswith(prefix)]
    wanted = others + entries
    if wanted == current:
        return []

    base = f"/spec/template/spec/containers/{index}"
    operations: list[dict[str, Any]] = [
        {"op": "test", "path": f"{base}/name", "value": container["name"]},
        {"op": "add", "path": f"{base}/env", "value": wanted},
    ]
    annotations = dict(template.get("metadata", {}).get("annotations") or {})
    slot = prefix.split("_MODEL_", 1)[-1].rstrip("_").lower()
    key = f"{VERSION_ANNOTATION}.{slot}"
    annotations[key] = version
    operations.append(
        {
            "op": "add",
            "path": "/spec/template/metadata/annotations",
            "value": annotations,
        }
    )
    if "metadata" not in template:
        operations.insert(
            -1, {"op": "add", "path": "/spec/template/metadata", "value": {}}
        )
    return operations


def container_port(deployment: dict[str, Any], index: int, service: str) -> int:
    """The port the service answers on: the port named http, else the first one."""
    container = deployment["spec"]["template"]["spec"]["containers"][index]
    ports = container.get("ports") or []
    for port in ports:
        if port.get("name") == "http":
            return int(port["containerPort"])
    if ports:
        return int(ports[0]["containerPort"])
    return DEFAULT_PORTS[service]


def canary_name(target: str, slot: str) -> str:
    suffix = "-canary-" + slot.replace("_", "-")
    return (target[: 63 - len(suffix)] + suffix).strip("-")


def canary_manifest(
    target: dict[str, Any],
    index: int,
    spec: ModelSpec,
    owner: dict[str, str],
    replicas: int,
) -> dict[str, Any]:
    """A Deployment beside the target that runs ``replicas`` pods of the new model.

    Its pods keep the target's labels, so the target's Service sends them a share
    of the traffic; the track label keeps them out of the target's own pod count.
    The MLModel owns it: deleting the resource garbage-collects the canary.
    """
    name = canary_name(target["metadata"]["name"], spec.slot)
    extra = {TRACK_LABEL: "canary", MODEL_LABEL: owner["name"]}
    template = copy.deepcopy(target["spec"]["template"])
    template.setdefault("metadata", {})
    template["metadata"]["labels"] = {
        **(template["metadata"].get("labels") or {}),
        **extra,
    }
    container = template["spec"]["containers"][index]
    prefix = spec.env_prefix()
    others = [e for e in container.get("env") or [] if not e["name"].startswith(prefix)]
    container["env"] = others + spec.env()
    selector = dict(target["spec"]["selector"].get("matchLabels") or {})
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": target["metadata"]["namespace"],
            "labels": {**(target["metadata"].get("labels") or {}), **extra},
            "annotations": {VERSION_ANNOTATION: spec.version},
            "ownerReferences": [
                {
                    "apiVersion": f"{GROUP}/{VERSION}",
                    "kind": "MLModel",
                    "name": owner["name"],
                    "uid": owner["uid"],
                    "controller": True,
                    "blockOwnerDeletion": False,
                }
            ],
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {**selector, **extra}},
            "template": template,
        },
    }


def deployment_pods(
    deployment: dict[str, Any], pods: list[dict[str, Any]], canary: bool
) -> list[dict[str, Any]]:
    """Live pods selected by the Deployment; canary pods only for a canary."""
    wanted = deployment["spec"]["selector"].get("matchLabels") or {}
    selected = []
    for pod in pods:
        labels = pod.get("metadata", {}).get("labels") or {}
        if is_terminating(pod) or not matches_labels(labels, wanted):
            continue
        if (labels.get(TRACK_LABEL) == "canary") == canary:
            selected.append(pod)
    return selected
