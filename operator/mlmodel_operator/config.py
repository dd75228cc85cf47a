"""The operator's settings, read once from ``MLMODEL_OPERATOR_*`` variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

PREFIX = "MLMODEL_OPERATOR_"


@dataclass(frozen=True)
class OperatorConfig:
    """How the operator watches and how patiently it follows rollouts.

    namespace: the one namespace to watch; empty means every namespace.
    poll_seconds: delay between two looks at a rollout in progress.
    pod_timeout_seconds: timeout of one HTTP call to a pod (readiness, metrics,
        quality-gate cases).
    conflict_recheck_seconds: how often a resource that lost a slot conflict
        looks again whether the slot is free.
    max_transient_errors: consecutive API or network failures tolerated before
        the resource is marked Failed.
    health_port: port of ``GET /healthz`` (kopf's liveness endpoint).
    """

    namespace: str = ""
    poll_seconds: float = 5.0
    pod_timeout_seconds: float = 2.0
    conflict_recheck_seconds: float = 30.0
    max_transient_errors: int = 5
    health_port: int = 8080
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OperatorConfig:
        env = os.environ if environ is None else environ

        def read(name: str, default: str) -> str:
            return env.get(PREFIX + name, "").strip() or default

        config = cls(
            namespace=read("NAMESPACE", ""),
            poll_seconds=float(read("POLL_SECONDS", "5")),
            pod_timeout_seconds=float(read("POD_TIMEOUT_SECONDS", "2")),
            conflict_recheck_seconds=float(read("CONFLICT_RECHECK_SECONDS", "30")),
            max_transient_errors=int(read("MAX_TRANSIENT_ERRORS", "5")),
            health_port=int(read("HEALTH_PORT", "8080")),
            log_level=read("LOG_LEVEL", "INFO").upper(),
        )
        if config.poll_seconds <= 0 or config.pod_timeout_seconds <= 0:
            raise ValueError(
                f"{PREFIX}POLL_SECONDS and POD_TIMEOUT_SECONDS must be > 0"
            )
        return config
