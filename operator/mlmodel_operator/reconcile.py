"""One reconcile step of an MLModel: read what is, compare, change only the difference.

The step is level-triggered: it looks at the resource's status (where the rollout
stands), the target Deployment and the pods, acts once, and says when it wants to
look again. The kopf handler calls it until it returns no retry.

Stages of one generation of the spec::

    start -> [canary -> hold (error rate, quality gate)] -> rolling -> Ready
    canary or hold fails: canary deleted, target untouched       -> RolledBack
    rolling times out or a pod fails to load: variables restored -> RolledBack
"""

from __future__ import annotations

from mlmodel_operator import canary_stages, stages
from mlmodel_operator import status as st
from mlmodel_operator.config import OperatorConfig
from mlmodel_operator.kube import ApiError
from mlmodel_operator.rollout import TargetError
from mlmodel_operator.spec import ModelSpec, SpecError, parse_spec
from mlmodel_operator.steps import Resource, Services, Step


async def reconcile(resource: Resource, services: Services) -> Step:
    """Run one step; API trouble becomes a bounded retry with backoff."""
    try:
        spec = parse_spec(resource.spec)
    except SpecError as error:
        return await stages.invalid(resource, services, error.field, error.message)

    status = resource.status
    finished = status.get("phase") in st.TERMINAL
    if finished and status.get("observedGeneration") == resource.generation:
        return Step()

    try:
        step = await _advance(resource, spec, services)
    except TargetError as error:
        return await stages.invalid(resource, services, error.field, error.message)
    except ApiError as error:
        return _transient(resource, services.config, error)

    if resource.rollout.get("transientErrors"):
        step.status.setdefault("rollout", {}).setdefault("transientErrors", 0)
    return step


async def _advance(resource: Resource, spec: ModelSpec, services: Services) -> Step:
    rollout = resource.rollout
    if rollout.get("generation") != resource.generation:
        return await stages.start(resource, spec, services)
    stage = rollout.get("stage")
    if stage == "rolling":
        return await stages.follow_rollout(resource, spec, services)
    if stage == "canary":
        return await canary_stages.follow_canary(resource, spec, services)
    if stage == "hold":
        return await canary_stages.hold_canary(resource, spec, services)
    return await stages.start(resource, spec, services)


def _transient(resource: Resource, config: OperatorConfig, error: ApiError) -> Step:
    """Retry with exponential backoff; give up after ``max_transient_errors``."""
    count = int(resource.rollout.get("transientErrors") or 0) + 1
    if not error.transient or count > config.max_transient_errors:
        reason = "ApiUnavailable" if error.transient else "ApiError"
        message = f"{error} (after {count} attempts)"
        return Step(
            status={
                "phase": st.FAILED,
                "reason": reason,
                "message": message,
                "observedGeneration": resource.generation,
            },
            events=[("Warning", reason, message)],
        )
    delay = min(config.poll_seconds * 2 ** (count - 1), 300.0)
    return Step(
        status={"rollout": {"transientErrors": count}, "message": str(error)},
        retry_after=delay,
    )
