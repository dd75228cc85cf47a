"""The MLModel spec: parsed, checked field by field, and turned into pod variables.

The CRD's schema already rejects most bad input at admission; these checks repeat
what the schema cannot say (a slot that does not belong to the service, a download
without a checksum, canary sizing) so that the operator never acts on a spec it
does not understand. Every failure names the field.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

SLOTS_BY_SERVICE: dict[str, tuple[str, ...]] = {
    "face": ("face_detector", "face_embedder", "face_landmarks"),
    "detection": ("phone_detector", "idcard_detector"),
    "sentiment": ("emotion", "face_landmarks"),
}
FORMATS = ("onnx", "ultralytics", "keras", "tflite")
METRICS = ("accuracy", "recall")
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,62}$")
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
DEFAULT_PORTS = {"face": 5001, "detection": 5002, "sentiment": 5003}


class SpecError(ValueError):
    """A spec value the operator cannot act on; ``field`` is its dotted path."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Canary:
    """Canary sizing and what it must show before promotion.

    replicas: canary pods; share: percent of the target's replicas (rounded up).
    hold_seconds: how long the canary must stay healthy once every pod is ready.
    max_error_rate: highest share of 5xx answers among the canary's requests, 0-1.
    min_requests: fewer requests than this during the hold fail the canary.
    """

    replicas: int | None = 1
    share: int | None = None
    hold_seconds: float = 60.0
    max_error_rate: float = 0.05
    min_requests: int = 0

    def size(self, target_replicas: int) -> int:
        if self.replicas is not None:
            return self.replicas
        share = self.share or 0
        return max(1, -(-target_replicas * share // 100))


@dataclass(frozen=True)
class QualityGate:
    """A regression set the candidate must pass before promotion.

    metric: accuracy (matching cases / cases) or recall (matching positive cases /
    positive cases); floor: lowest acceptable value, 0-1.
    """

    uri: str
    sha256: str | None
    metric: str
    floor: float
    min_cases: int = 1


@dataclass(frozen=True)
class ModelSpec:
    """What one MLModel asks for, checked."""

    service: str
    slot: str
    version: str
    uri: str
    format: str
    sha256: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    deployment: str | None = None
    container: str | None = None
    strategy: str = "rolling"
    timeout_seconds: float = 600.0
    canary: Canary | None = None
    quality_gate: QualityGate | None = None

    @property
    def uses_canary(self) -> bool:
        """A quality gate needs a pod to test, so it implies a canary."""
        return self.strategy == "canary" or self.quality_gate is not None

    @property
    def container_name(self) -> str:
        return self.container or self.service

    def env_prefix(self) -> str:
        return f"ATTENDANCE_{self.service.upper()}_MODEL_{self.slot.upper()}_"

    def env(self) -> list[dict[str, str]]:
        """The five contract variables that make a pod load this model."""
        prefix = self.env_prefix()
        values = {
            "URI": self.uri,
            "VERSION": self.version,
            "SHA256": self.sha256 or "",
            "FORMAT": self.format,
            "SETTINGS": json.dumps(self.settings, sort_keys=True),
        }
        return [{"name": prefix + key, "value": value} for key, value in values.items()]


def parse_spec(spec: dict[str, Any]) -> ModelSpec:
    """Check ``spec`` and return it typed; SpecError names the first bad field."""
    service = _choice(spec, "service", tuple(SLOTS_BY_SERVICE))
    slot = _required(spec, "slot")
    if slot not in SLOTS_BY_SERVICE[service]:
        raise SpecError(
            "spec.slot",
            f"{slot!r} is not a slot of {service}: {SLOTS_BY_SERVICE[service]}",
        )
    version = _required(spec, "version")
    if not VERSION_PATTERN.match(version):
        raise SpecError("spec.version", "use 1-63 letters, digits, '.', '_', '+', '-'")
    source = spec.get("source") or {}
    uri, sha256 = _source(source, "spec.source")
    settings = spec.get("settings") or {}
    if not isinstance(settings, dict):
        raise SpecError("spec.settings", "must be an object")

    target = spec.get("target") or {}
    strategy = spec.get("strategy") or {}
    kind = strategy.get("type", "rolling")
    if kind not in ("rolling", "canary"):
        raise SpecError("spec.strategy.type", "use rolling or canary")
    timeout = _number(strategy, "timeoutSeconds", 600, "spec.strategy", low=1)

    return ModelSpec(
        service=service,
        slot=slot,
        version=version,
        uri=uri,
        format=_choice(spec, "format", FORMATS),
        sha256=sha256,
        settings=settings,
        deployment=target.get("deployment") or None,
        container=target.get("container") or None,
        strategy=kind,
        timeout_seconds=timeout,
        canary=_canary(strategy.get("canary") or {}, 60.0 if kind == "canary" else 0.0),
        quality_gate=_quality_gate(spec.get("qualityGate")),
    )


def _required(data: dict[str, Any], key: str, where: str = "spec") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"{where}.{key}", "is required")
    return value.strip()


def _choice(data: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = _required(data, key)
    if value not in allowed:
        raise SpecError(f"spec.{key}", f"{value!r} is not one of {allowed}")
    return value


def _number(
    data: dict[str, Any], key: str, default: float, where: str, low: float = 0
) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
        raise SpecError(f"{where}.{key}", f"must be a number >= {low}")
    return float(value)


def _source(source: dict[str, Any], where: str) -> tuple[str, str | None]:
    uri = _required(source, "uri", where)
    sha256 = source.get("sha256") or None
    if sha256 is not None and not SHA256_PATTERN.match(str(sha256)):
        raise SpecError(f"{where}.sha256", "must be 64 lower-case hex digits")
    scheme = urlparse(uri).scheme
    if uri != "builtin:" and scheme not in ("file", "http", "https"):
        raise SpecError(
            f"{where}.uri", "use builtin:, file:///path, https:// or http://"
        )
    if scheme in ("http", "https") and sha256 is None:
        raise SpecError(f"{where}.sha256", "is required for a download")
    return uri, sha256


def _canary(data: dict[str, Any], default_hold: float) -> Canary:
    """Canary sizing; a quality gate on a rolling rollout gets one pod, no hold."""
    replicas = data.get("replicas")
    share = data.get("share")
    if replicas is not None and share is not None:
        raise SpecError("spec.strategy.canary", "give replicas or share, not both")
    if replicas is not None and (not isinstance(replicas, int) or replicas < 1):
        raise SpecError("spec.strategy.canary.replicas", "must be an integer >= 1")
    if share is not None and (not isinstance(share, int) or not 1 <= share <= 100):
        raise SpecError("spec.strategy.canary.share", "must be a percent, 1-100")
    where = "spec.strategy.canary"
    max_error_rate = _number(data, "maxErrorRate", 0.05, where)
    if max_error_rate > 1:
        raise SpecError(f"{where}.maxErrorRate", "must be between 0 and 1")
    return Canary(
        replicas=(replicas or 1) if share is None else None,
        share=share,
        hold_seconds=_number(data, "holdSeconds", default_hold, where),
        max_error_rate=max_error_rate,
        min_requests=int(_number(data, "minRequests", 0, where)),
    )


def _quality_gate(data: dict[str, Any] | None) -> QualityGate | None:
    if not data:
        return None
    where = "spec.qualityGate"
    uri, sha256 = _source(data.get("regressionSet") or {}, f"{where}.regressionSet")
    if uri == "builtin:":
        raise SpecError(f"{where}.regressionSet.uri", "name a file or a URL")
    metric = data.get("metric", "accuracy")
    if metric not in METRICS:
        raise SpecError(f"{where}.metric", f"{metric!r} is not one of {METRICS}")
    floor = _number(data, "floor", -1, where)
    if floor > 1:
        raise SpecError(f"{where}.floor", "must be between 0 and 1")
    return QualityGate(
        uri=uri,
        sha256=sha256,
        metric=metric,
        floor=floor,
        min_cases=int(_number(data, "minCases", 1, where, low=1)),
    )
