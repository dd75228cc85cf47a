"""The stages of a rollout onto the target Deployment: start, follow, roll back."""

from __future__ import annotations

from mlmodel_operator import status as st
from mlmodel_operator.checks import check_pods
from mlmodel_operator.conflicts import slot_owner
from mlmodel_operator.endings import finish, wait_pending
from mlmodel_operator.kube import deployments_path, pods_path
from mlmodel_operator.rollout import (
    canary_manifest,
    choose_target,
    container_index,
    container_port,
    deployment_pods,
    env_patch,
    slot_env,
    version_of,
)
from mlmodel_operator.spec import ModelSpec
from mlmodel_operator.steps import Resource, Services, Step, delete_deployment


async def invalid(
    resource: Resource, services: Services, field: str, message: str
) -> Step:
    """The spec cannot be acted on: Failed, a condition naming the field, no retry."""
    await delete_deployment(
        services.kube, resource.namespace, resource.rollout.get("canary")
    )
    now = services.clock()
    conditions = st.set_condition(
        resource.status.get("conditions") or [],
        "Valid",
        False,
        "InvalidSpec",
        f"{field}: {message}",
        resource.generation,
        now,
    )
    return Step(
        status={
            "phase": st.FAILED,
            "reason": "InvalidSpec",
            "message": f"{field}: {message}",
            "observedGeneration": resource.generation,
            "conditions": conditions,
            "rollout": st.rollout_record(stage="done", generation=resource.generation),
        },
        events=[("Warning", "InvalidSpec", f"{field}: {message}")],
        permanent=f"{field}: {message}",
    )


async def start(resource: Resource, spec: ModelSpec, services: Services) -> Step:
    """Find the target, claim the slot, then launch a canary or patch the target."""
    kube, config, now = services.kube, services.config, services.clock()
    rollout = resource.rollout
    fresh = rollout.get("generation") != resource.generation
    started = now if fresh else st.parse_iso(rollout.get("startedAt")) or now
    if fresh and rollout.get("canary"):
        await delete_deployment(kube, resource.namespace, rollout["canary"])

    target = choose_target(await kube.list(deployments_path(resource.namespace)), spec)
    if target is None:
        if now - started > spec.timeout_seconds:
            return finish(
                resource,
                now,
                st.FAILED,
                "TargetNotFound",
                f"no Deployment of {spec.service} appeared",
                "Warning",
            )
        return wait_pending(
            resource,
            now,
            started,
            "TargetNotFound",
            f"waiting for a Deployment of {spec.service}",
            config.poll_seconds,
        )
    index = container_index(target, spec.container_name)
    owner = await slot_owner(resource, spec, services)
    if owner is not None:
        message = f"{spec.service}/{spec.slot} is managed by MLModel {owner}; waiting"
        step = wait_pending(
            resource,
            now,
            started,
            "SlotConflict",
            message,
            config.conflict_recheck_seconds,
        )
        step.status["conditions"] = st.set_condition(
            resource.status.get("conditions") or [],
            "Conflict",
            True,
            "SlotConflict",
            message,
            resource.generation,
            now,
        )
        return step

    prefix = spec.env_prefix()
    unfinished = not fresh or resource.status.get("phase") == st.ROLLING
    kept = rollout.get("previousEnv") if unfinished else None
    previous_env = kept if kept is not None else slot_env(target, index, prefix)
    record = {
        "generation": resource.generation,
        "startedAt": st.now_iso(started),
        "deployment": target["metadata"]["name"],
        "container": spec.container_name,
        "port": container_port(target, index, spec.service),
        "previousEnv": previous_env,
        "transientErrors": 0,
    }
    conditions = resource.status.get("conditions") or []
    conditions = st.set_condition(
        conditions,
        "Valid",
        True,
        "SpecValid",
        "the spec is valid",
        resource.generation,
        now,
    )
    conditions = st.set_condition(
        conditions,
        "Conflict",
        False,
        "SlotOwned",
        "this resource manages the slot",
        resource.generation,
        now,
    )
    status = {
        "observedGeneration": resource.generation,
        "targetVersion": spec.version,
        "previousVersion": version_of(previous_env, prefix),
        "conditions": conditions,
        "qualityGate": None,
    }

    if spec.uses_canary:
        assert spec.canary is not None
        replicas = spec.canary.size(int(target["spec"].get("replicas", 1)))
        owner_ref = {"name": resource.name, "uid": resource.uid}
        manifest = canary_manifest(target, index, spec, owner_ref, replicas)
        await kube.create(deployments_path(resource.namespace), manifest)
        message = (
            f"{replicas} canary pod(s) of {spec.version} beside {record['deployment']}"
        )
        status.update(
            phase=st.VALIDATING,
            reason="CanaryStarted",
            message=message,
            rollout=st.rollout_record(
                stage="canary", canary=manifest["metadata"]["name"], **record
            ),
        )
        return Step(status, [("Normal", "CanaryStarted", message)], config.poll_seconds)

    operations = env_patch(target, index, prefix, spec.env(), spec.version)
    if operations:
        await kube.json_patch(
            deployments_path(resource.namespace, record["deployment"]), operations
        )
    message = f"rolling {spec.version} onto {record['deployment']}"
    status.update(
        phase=st.ROLLING,
        reason="RolloutStarted",
        message=message,
        rollout=st.rollout_record(stage="rolling", **record),
    )
    return Step(status, [("Normal", "RolloutStarted", message)], config.poll_seconds)


async def follow_rollout(
    resource: Resource, spec: ModelSpec, services: Services
) -> Step:
    """Ready when every replica reports the new version; else wait, or roll back."""
    kube, now = services.kube, services.clock()
    rollout = resource.rollout
    target = await kube.get(deployments_path(resource.namespace, rollout["deployment"]))
    if target is None:
        return finish(
            resource,
            now,
            st.FAILED,
            "TargetGone",
            f"Deployment {rollout['deployment']} was deleted",
            "Warning",
        )
    pods = deployment_pods(
        target, await kube.list(pods_path(resource.namespace)), False
    )
    check = await check_pods(pods, spec, int(rollout["port"]), services.probe)
    desired = int(target["spec"].get("replicas", 1))
    counts = {"updatedReplicas": check.new, "readyReplicas": check.ready}

    if check.failure:
        return await roll_back(
            resource, spec, services, "LoadFailed", check.failure, counts
        )
    if check.ready >= desired and check.old == 0:
        message = f"{check.ready}/{desired} pods serve {spec.slot} {spec.version}"
        step = finish(resource, now, st.READY, "RolloutComplete", message, "Normal")
        step.status.update(counts, currentVersion=spec.version)
        return step
    elapsed = now - (st.parse_iso(rollout.get("startedAt")) or now)
    if elapsed > spec.timeout_seconds:
        message = (
            f"{check.ready}/{desired} pods serve {spec.version} after "
            f"{spec.timeout_seconds:.0f}s"
        )
        return await roll_back(
            resource, spec, services, "RolloutTimeout", message, counts
        )
    message = f"{check.ready}/{desired} pods serve {spec.version}; {check.old} old"
    return Step({**counts, "message": message}, [], services.config.poll_seconds)


async def roll_back(
    resource: Resource,
    spec: ModelSpec,
    services: Services,
    reason: str,
    message: str,
    counts: dict[str, int] | None = None,
) -> Step:
    """Put the slot's previous variables back on the target; end RolledBack."""
    rollout = resource.rollout
    path = deployments_path(resource.namespace, rollout["deployment"])
    target = await services.kube.get(path)
    previous = rollout.get("previousEnv") or []
    if target is not None:
        index = container_index(target, spec.container_name)
        version = version_of(previous, spec.env_prefix())
        operations = env_patch(target, index, spec.env_prefix(), previous, version)
        if operations:
            await services.kube.json_patch(path, operations)
    step = finish(
        resource, services.clock(), st.ROLLED_BACK, reason, message, "Warning"
    )
    step.status.update(counts or {})
    return step
