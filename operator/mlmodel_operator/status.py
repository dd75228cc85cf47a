"""The MLModel's status: phases, conditions and the rollout record, as plain dicts."""

from __future__ import annotations

import datetime
from typing import Any

PENDING, VALIDATING, ROLLING = "Pending", "Validating", "Rolling"
READY, FAILED, ROLLED_BACK = "Ready", "Failed", "RolledBack"
TERMINAL = (READY, FAILED, ROLLED_BACK)

# Every key of status.rollout is always written (None when unused), so a merge
# patch never leaves a value of an earlier rollout behind.
ROLLOUT_KEYS = (
    "stage",
    "generation",
    "startedAt",
    "deployment",
    "container",
    "port",
    "previousEnv",
    "canary",
    "holdUntil",
    "baseline",
    "transientErrors",
)


def now_iso(now: float) -> str:
    """An RFC 3339 UTC timestamp of ``now`` (seconds since the epoch)."""
    moment = datetime.datetime.fromtimestamp(now, tz=datetime.UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_iso(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def rollout_record(**values: Any) -> dict[str, Any]:
    unknown = set(values) - set(ROLLOUT_KEYS)
    if unknown:
        raise KeyError(f"not rollout keys: {sorted(unknown)}")
    return {key: values.get(key) for key in ROLLOUT_KEYS}


def set_condition(
    conditions: list[dict[str, Any]],
    kind: str,
    status: bool,
    reason: str,
    message: str,
    generation: int,
    now: float,
) -> list[dict[str, Any]]:
    """Return ``conditions`` with one condition replaced or added.

    lastTransitionTime changes only when the condition's status flips.
    """
    value = "True" if status else "False"
    old = next((c for c in conditions if c.get("type") == kind), None)
    since = old["lastTransitionTime"] if old and old.get("status") == value else None
    fresh = {
        "type": kind,
        "status": value,
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
        "lastTransitionTime": since or now_iso(now),
    }
    return [c for c in conditions if c.get("type") != kind] + [fresh]
