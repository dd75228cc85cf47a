"""The canary: start beside the target, hold, check, gate, then promote or abort."""

from __future__ import annotations

from typing import Any

import aiohttp

from mlmodel_operator import status as st
from mlmodel_operator.checks import PodCheck, check_pods
from mlmodel_operator.endings import finish
from mlmodel_operator.kube import deployments_path, pods_path
from mlmodel_operator.pods import RequestCounts
from mlmodel_operator.quality_gate import RegressionSetError, run_gate
from mlmodel_operator.rollout import container_index, deployment_pods, env_patch
from mlmodel_operator.spec import ModelSpec
from mlmodel_operator.steps import Resource, Services, Step, delete_deployment


async def follow_canary(
    resource: Resource, spec: ModelSpec, services: Services
) -> Step:
    """Wait until every canary pod reports the new version, then start the hold."""
    now = services.clock()
    observed = await _observe_canary(resource, spec, services)
    if isinstance(observed, Step):
        return observed
    pods, check, desired = observed
    if check.ready < desired:
        elapsed = now - (st.parse_iso(resource.rollout.get("startedAt")) or now)
        if elapsed > spec.timeout_seconds:
            message = f"{check.ready}/{desired} canary pods ready after {elapsed:.0f}s"
            return await abort(resource, services, "CanaryTimeout", message)
        message = f"{check.ready}/{desired} canary pods serve {spec.version}"
        return Step({"message": message}, [], services.config.poll_seconds)

    assert spec.canary is not None
    baseline = await _request_counts(pods, resource, services)
    hold = spec.canary.hold_seconds
    message = f"canary ready; holding {hold:.0f}s"
    rollout = {
        "stage": "hold",
        "holdUntil": st.now_iso(now + hold),
        "baseline": None if baseline is None else vars(baseline),
    }
    delay = min(services.config.poll_seconds, hold) or services.config.poll_seconds
    return Step(
        {"rollout": rollout, "reason": "CanaryReady", "message": message},
        [("Normal", "CanaryReady", message)],
        delay,
    )


async def hold_canary(resource: Resource, spec: ModelSpec, services: Services) -> Step:
    """Keep watching the canary until the hold ends; then judge it and gate it."""
    assert spec.canary is not None
    now = services.clock()
    observed = await _observe_canary(resource, spec, services)
    if isinstance(observed, Step):
        return observed
    pods, check, desired = observed
    if check.ready < desired:
        message = f"only {check.ready}/{desired} canary pods stayed ready"
        return await abort(resource, services, "CanaryUnhealthy", message)
    hold_until = st.parse_iso(resource.rollout.get("holdUntil")) or now
    if now < hold_until:
        return Step({}, [], min(services.config.poll_seconds, hold_until - now))

    verdict = await _judge_traffic(pods, resource, spec, services)
    if verdict is not None:
        return await abort(resource, services, *verdict)
    step_status: dict[str, Any] = {}
    if spec.quality_gate is not None:
        gate = spec.quality_gate
        try:
            result = await run_gate(
                gate,
                services.probe,
                pods[0],
                int(resource.rollout["port"]),
                services.config.pod_timeout_seconds * 5,
            )
        except RegressionSetError as error:
            return await abort(resource, services, "QualityGateError", str(error))
        step_status["qualityGate"] = vars(result)
        step_status["conditions"] = st.set_condition(
            resource.status.get("conditions") or [],
            "QualityGate",
            result.passed,
            "GatePassed" if result.passed else "GateFailed",
            result.message,
            resource.generation,
            now,
        )
        if not result.passed:
            step = await abort(resource, services, "QualityGateFailed", result.message)
            step.status["qualityGate"] = step_status["qualityGate"]
            step.status["conditions"] = st.set_condition(
                step_status["conditions"],
                "Ready",
                False,
                "QualityGateFailed",
                result.message,
                resource.generation,
                now,
            )
            return step
    return await promote(resource, spec, services, step_status)


async def promote(
    resource: Resource, spec: ModelSpec, services: Services, extra: dict[str, Any]
) -> Step:
    """Patch the target with the new model, drop the canary, follow the rollout."""
    rollout = resource.rollout
    path = deployments_path(resource.namespace, rollout["deployment"])
    target = await services.kube.get(path)
    if target is None:
        return await abort(resource, services, "TargetGone", "the target was deleted")
    index = container_index(target, spec.container_name)
    operations = env_patch(target, index, spec.env_prefix(), spec.env(), spec.version)
    if operations:
        await services.kube.json_patch(path, operations)
    await delete_deployment(services.kube, resource.namespace, rollout.get("canary"))
    message = f"canary passed; rolling {spec.version} onto {rollout['deployment']}"
    status = {
        **extra,
        "phase": st.ROLLING,
        "reason": "CanaryPromoted",
        "message": message,
        "rollout": {
            "stage": "rolling",
            "startedAt": st.now_iso(services.clock()),
            "canary": None,
            "holdUntil": None,
        },
    }
    return Step(
        status, [("Normal", "CanaryPromoted", message)], services.config.poll_seconds
    )


async def abort(
    resource: Resource, services: Services, reason: str, message: str
) -> Step:
    """Delete the canary; the target never changed. End RolledBack."""
    await delete_deployment(
        services.kube, resource.namespace, resource.rollout.get("canary")
    )
    return finish(
        resource, services.clock(), st.ROLLED_BACK, reason, message, "Warning"
    )


async def _observe_canary(
    resource: Resource, spec: ModelSpec, services: Services
) -> Step | tuple[list[dict[str, Any]], PodCheck, int]:
    """The canary's pods, their readiness check and desired count; or the abort
    step when the canary is gone or a pod failed to load the model."""
    canary, pods = await _canary_pods(resource, services)
    if canary is None:
        return await abort(resource, services, "CanaryLost", "the canary was deleted")
    check = await check_pods(pods, spec, int(resource.rollout["port"]), services.probe)
    if check.failure:
        return await abort(resource, services, "CanaryLoadFailed", check.failure)
    return pods, check, int(canary["spec"].get("replicas", 1))


async def _canary_pods(
    resource: Resource, services: Services
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    name = resource.rollout.get("canary")
    canary = await services.kube.get(deployments_path(resource.namespace, name))
    if canary is None:
        return None, []
    pods = await services.kube.list(pods_path(resource.namespace))
    return canary, deployment_pods(canary, pods, canary=True)


async def _request_counts(
    pods: list[dict[str, Any]], resource: Resource, services: Services
) -> RequestCounts | None:
    """Requests answered by all canary pods so far; None if a pod has no metrics."""
    total = errors = 0.0
    port = int(resource.rollout["port"])
    try:
        for pod in pods:
            counts = await services.probe.request_counts(pod, port)
            total += counts.total
            errors += counts.errors
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None
    return RequestCounts(total=total, errors=errors)


async def _judge_traffic(
    pods: list[dict[str, Any]],
    resource: Resource,
    spec: ModelSpec,
    services: Services,
) -> tuple[str, str] | None:
    """(reason, message) when the canary's traffic during the hold condemns it."""
    assert spec.canary is not None
    canary = spec.canary
    baseline = resource.rollout.get("baseline")
    now = await _request_counts(pods, resource, services)
    if baseline is None or now is None:
        if canary.min_requests > 0:
            return (
                "CanaryMetricsUnavailable",
                "the canary pods' /metrics did not answer",
            )
        return None
    requests = now.total - float(baseline["total"])
    errors = now.errors - float(baseline["errors"])
    if requests < canary.min_requests:
        message = (
            f"{requests:.0f} requests during the hold, fewer than {canary.min_requests}"
        )
        return "CanaryTooLittleTraffic", message
    if requests > 0 and errors / requests > canary.max_error_rate:
        message = (
            f"error rate {errors / requests:.3f} ({errors:.0f}/{requests:.0f}) above "
            f"{canary.max_error_rate:.3f}"
        )
        return "CanaryErrorRate", message
    return None
