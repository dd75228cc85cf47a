"""How a look at a rollout ends: still Pending, or done for this generation."""

from __future__ import annotations

from typing import Any

from mlmodel_operator import status as st
from mlmodel_operator.steps import Resource, Step


def wait_pending(
    resource: Resource,
    now: float,
    started: float,
    reason: str,
    message: str,
    delay: float,
) -> Step:
    """Stay Pending; post the reason once, not on every look."""
    events: list[tuple[str, str, str]] = []
    if resource.status.get("reason") != reason:
        events.append(("Warning", reason, message))
    record = st.rollout_record(
        stage="waiting",
        generation=resource.generation,
        startedAt=st.now_iso(started),
        transientErrors=0,
    )
    status = {
        "phase": st.PENDING,
        "reason": reason,
        "message": message,
        "observedGeneration": resource.generation,
        "rollout": record,
    }
    return Step(status, events, delay)


def finish(
    resource: Resource,
    now: float,
    phase: str,
    reason: str,
    message: str,
    event_type: str,
) -> Step:
    """Finish this generation in ``phase``: no retry, the Ready condition set."""
    rollout = resource.rollout
    previous = resource.status.get("previousVersion")
    conditions = st.set_condition(
        resource.status.get("conditions") or [],
        "Ready",
        phase == st.READY,
        reason,
        message,
        resource.generation,
        now,
    )
    status: dict[str, Any] = {
        "phase": phase,
        "reason": reason,
        "message": message,
        "observedGeneration": resource.generation,
        "conditions": conditions,
        "rollout": {
            **st.rollout_record(**{k: rollout.get(k) for k in st.ROLLOUT_KEYS}),
            "stage": "done",
            "canary": None,
            "holdUntil": None,
        },
    }
    if phase == st.ROLLED_BACK and previous is not None:
        status["currentVersion"] = previous
    return Step(status, [(event_type, reason, message)])
