"""Whether a set of pods serves the new model: counted from the pods' own reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlmodel_operator.pods import PodProbe, pod_env, pod_failure
from mlmodel_operator.spec import ModelSpec


@dataclass(frozen=True)
class PodCheck:
    """new: pods created with the new model's variables; ready: those of them that
    report the new version loaded; old: pods still on other variables; failure:
    why a new pod cannot serve the model, if one cannot.
    """

    new: int
    ready: int
    old: int
    failure: str | None = None


async def check_pods(
    pods: list[dict[str, Any]],
    spec: ModelSpec,
    port: int,
    probe: PodProbe,
) -> PodCheck:
    """Ask every new pod what it loaded; stop at the first failure.

    A pod fails when its container crash-loops, when it reports a load error, or
    when it is ready but serves another version in the slot (it ignored the model).
    """
    version_variable = spec.env_prefix() + "VERSION"
    new = ready = old = 0
    for pod in pods:
        if pod_env(pod, spec.container_name, version_variable) != spec.version:
            old += 1
            continue
        new += 1
        name = pod.get("metadata", {}).get("name", "")
        crashed = pod_failure(pod)
        if crashed:
            return PodCheck(new, ready, old, f"pod {name}: {crashed}")
        report = await probe.readiness(pod, port)
        if report.error:
            return PodCheck(new, ready, old, f"pod {name}: {report.error}")
        if not report.ready:
            continue
        loaded = report.versions.get(spec.slot)
        if loaded != spec.version:
            failure = f"pod {name} is ready but serves {spec.slot} version {loaded}"
            return PodCheck(new, ready, old, failure)
        ready += 1
    return PodCheck(new, ready, old)
