"""Two MLModels for one slot: the oldest owns it, the others wait and say so."""

from __future__ import annotations

from mlmodel_operator.kube import mlmodels_path
from mlmodel_operator.spec import ModelSpec, SpecError, parse_spec
from mlmodel_operator.steps import Resource, Services


async def slot_owner(
    resource: Resource, spec: ModelSpec, services: Services
) -> str | None:
    """The older MLModel that claims the same service and slot, if any.

    The oldest resource (creation time, then name) owns a slot; the others wait
    and say so instead of fighting over the Deployment.
    """
    mine = (resource.created, resource.name)
    for other in await services.kube.list(mlmodels_path(resource.namespace)):
        meta = other.get("metadata", {})
        if meta.get("name") == resource.name or meta.get("deletionTimestamp"):
            continue
        try:
            theirs_spec = parse_spec(other.get("spec") or {})
        except SpecError:
            continue
        if (theirs_spec.service, theirs_spec.slot) != (spec.service, spec.slot):
            continue
        targets = {theirs_spec.deployment, spec.deployment}
        if None not in targets and len(targets) == 2:
            continue  # both name a Deployment, and not the same one
        if (str(meta.get("creationTimestamp", "")), meta.get("name", "")) < mine:
            return meta.get("name")
    return None
