"""kopf handlers of the MLModel resource: short, each handing off to plain code."""

from __future__ import annotations

from typing import Any

import kopf
import structlog

from mlmodel_operator.config import OperatorConfig
from mlmodel_operator.kube import GROUP, VERSION, ApiError
from mlmodel_operator.reconcile import reconcile
from mlmodel_operator.steps import Resource, Step, delete_deployment

PLURAL = "mlmodels"
log = structlog.get_logger("mlmodel_operator.mlmodel")


async def reconcile_model(
    body: kopf.Body, memo: kopf.Memo, patch: kopf.Patch, **_: Any
):
    """Run one reconcile step; ask kopf to call again while the rollout goes on."""
    resource = Resource.from_body(dict(body))
    step = await reconcile(resource, memo.services)
    apply_step(body, patch, step)
    log.info(
        "mlmodel_step",
        namespace=resource.namespace,
        name=resource.name,
        generation=resource.generation,
        phase=step.status.get("phase", resource.status.get("phase")),
        reason=step.status.get("reason"),
        retry_after=step.retry_after,
    )
    if step.permanent is not None:
        raise kopf.PermanentError(step.permanent)
    if step.retry_after is not None:
        message = step.status.get("message") or "rollout in progress"
        raise kopf.TemporaryError(message, delay=step.retry_after)


def apply_step(body: kopf.Body, patch: kopf.Patch, step: Step) -> None:
    """Write the step's status fields and post its events."""
    for key, value in step.status.items():
        patch.status[key] = value
    for event_type, reason, message in step.events:
        kopf.event(body, type=event_type, reason=reason, message=message)


async def forget_model(
    event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, **_: Any
) -> None:
    """A deleted MLModel leaves the target on its last model; its canary goes.

    No finalizer: the canary is also owned by the MLModel, so the cluster's garbage
    collector removes it even when the operator is not running.
    """
    if event.get("type") != "DELETED":
        return
    canary = ((body.get("status") or {}).get("rollout") or {}).get("canary")
    namespace = body.get("metadata", {}).get("namespace", "")
    try:
        await delete_deployment(memo.services.kube, namespace, canary)
    except ApiError as error:
        log.warning("canary_cleanup_failed", canary=canary, error=str(error))
    log.info("mlmodel_deleted", namespace=namespace, name=body["metadata"]["name"])


def register(registry: kopf.OperatorRegistry, config: OperatorConfig) -> None:
    """Attach the handlers to ``registry``.

    retries=None: a rollout may poll for as long as its own timeout allows; API
    trouble is bounded inside the step (max_transient_errors, exponential backoff).
    """
    options: dict[str, Any] = {
        "registry": registry,
        "id": "reconcile",
        "retries": None,
        "backoff": config.poll_seconds,
    }
    kopf.on.create(GROUP, VERSION, PLURAL, **options)(reconcile_model)
    kopf.on.resume(GROUP, VERSION, PLURAL, **options)(reconcile_model)
    kopf.on.update(GROUP, VERSION, PLURAL, field="spec", **options)(reconcile_model)
    kopf.on.event(GROUP, VERSION, PLURAL, registry=registry)(forget_model)
