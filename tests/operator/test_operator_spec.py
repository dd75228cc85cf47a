"""Spec checks as plain functions: each bad value is named by its field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mlmodel_operator.config import OperatorConfig
from mlmodel_operator.spec import Canary, SpecError, parse_spec

SHA = "a" * 64


def spec(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "service": "detection",
        "slot": "idcard_detector",
        "version": "1.2.0",
        "source": {"uri": "https://m.example/idcard.onnx", "sha256": SHA},
        "format": "onnx",
    }
    base.update(changes)
    return base


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"service": None}, "spec.service"),
        ({"service": "gateway"}, "spec.service"),
        ({"slot": "emotion"}, "spec.slot"),
        ({"version": "1 2"}, "spec.version"),
        ({"format": "pt"}, "spec.format"),
        ({"source": {}}, "spec.source.uri"),
        ({"source": {"uri": "ftp://m/x"}}, "spec.source.uri"),
        ({"source": {"uri": "http://m/x"}}, "spec.source.sha256"),
        ({"source": {"uri": "builtin:", "sha256": "XYZ"}}, "spec.source.sha256"),
        ({"settings": [1]}, "spec.settings"),
        ({"strategy": {"type": "blue-green"}}, "spec.strategy.type"),
        ({"strategy": {"timeoutSeconds": 0}}, "spec.strategy.timeoutSeconds"),
        (
            {"strategy": {"canary": {"replicas": 1, "share": 10}}},
            "spec.strategy.canary",
        ),
        ({"strategy": {"canary": {"share": 101}}}, "spec.strategy.canary.share"),
        (
            {"strategy": {"canary": {"maxErrorRate": 2}}},
            "spec.strategy.canary.maxErrorRate",
        ),
        ({"qualityGate": {"floor": 0.5}}, "spec.qualityGate.regressionSet.uri"),
        (
            {"qualityGate": {"regressionSet": {"uri": "file:///r.json"}}},
            "spec.qualityGate.floor",
        ),
        (
            {
                "qualityGate": {
                    "regressionSet": {"uri": "file:///r.json"},
                    "floor": 0.5,
                    "metric": "f1",
                }
            },
            "spec.qualityGate.metric",
        ),
    ],
)
def test_bad_value_names_its_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(spec(**changes))

    assert caught.value.field == field


def test_env_carries_the_contract_variables() -> None:
    parsed = parse_spec(spec(settings={"threshold": 0.5, "classes": ["id card"]}))

    assert parsed.env() == [
        {
            "name": "ATTENDANCE_DETECTION_MODEL_IDCARD_DETECTOR_URI",
            "value": "https://m.example/idcard.onnx",
        },
        {
            "name": "ATTENDANCE_DETECTION_MODEL_IDCARD_DETECTOR_VERSION",
            "value": "1.2.0",
        },
        {"name": "ATTENDANCE_DETECTION_MODEL_IDCARD_DETECTOR_SHA256", "value": SHA},
        {"name": "ATTENDANCE_DETECTION_MODEL_IDCARD_DETECTOR_FORMAT", "value": "onnx"},
        {
            "name": "ATTENDANCE_DETECTION_MODEL_IDCARD_DETECTOR_SETTINGS",
            "value": json.dumps({"classes": ["id card"], "threshold": 0.5}),
        },
    ]


def test_defaults_are_a_rolling_rollout_into_the_service_container() -> None:
    parsed = parse_spec(spec())

    assert (parsed.strategy, parsed.timeout_seconds, parsed.uses_canary) == (
        "rolling",
        600.0,
        False,
    )
    assert parsed.container_name == "detection"


def test_quality_gate_implies_a_one_pod_canary_without_hold() -> None:
    gate = {"regressionSet": {"uri": "file:///r.json"}, "floor": 0.8}

    parsed = parse_spec(spec(qualityGate=gate))

    assert parsed.uses_canary
    assert parsed.canary == Canary(replicas=1, hold_seconds=0.0)
    assert parsed.quality_gate is not None
    assert (parsed.quality_gate.metric, parsed.quality_gate.floor) == ("accuracy", 0.8)


@pytest.mark.parametrize(
    ("canary", "target_replicas", "size"),
    [
        ({}, 4, 1),
        ({"replicas": 2}, 4, 2),
        ({"share": 25}, 4, 1),
        ({"share": 30}, 4, 2),
        ({"share": 100}, 3, 3),
    ],
)
def test_canary_size_from_replicas_or_share(
    canary: dict[str, Any], target_replicas: int, size: int
) -> None:
    parsed = parse_spec(spec(strategy={"type": "canary", "canary": canary}))

    assert parsed.canary is not None
    assert parsed.canary.size(target_replicas) == size
    assert parsed.canary.hold_seconds == 60.0


def test_config_reads_prefixed_variables() -> None:
    config = OperatorConfig.from_env(
        {"MLMODEL_OPERATOR_NAMESPACE": "ml", "MLMODEL_OPERATOR_POLL_SECONDS": "2.5"}
    )

    assert (config.namespace, config.poll_seconds, config.health_port) == (
        "ml",
        2.5,
        8080,
    )
    with pytest.raises(ValueError, match="must be > 0"):
        OperatorConfig.from_env({"MLMODEL_OPERATOR_POLL_SECONDS": "0"})


def test_main_runs_kopf_standalone_on_the_configured_namespace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import kopf
    from mlmodel_operator import __main__ as entry

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(kopf, "run", lambda **kwargs: calls.append(kwargs))
    monkeypatch.setattr(entry, "configure_logging", lambda level: None)
    monkeypatch.setenv("MLMODEL_OPERATOR_NAMESPACE", "attendance")

    entry.main()

    (call,) = calls
    assert call["namespaces"] == ["attendance"]
    assert (call["standalone"], call["clusterwide"]) == (True, False)
    assert call["liveness_endpoint"] == "http://0.0.0.0:8080/healthz"
    assert call["memo"].services.config.namespace == "attendance"


def test_polling_retries_are_logged_at_info_not_error() -> None:
    import logging

    from mlmodel_operator.__main__ import PollingIsNotAnError

    def record(level: int, message: str) -> logging.LogRecord:
        return logging.LogRecord("kopf.objects", level, "", 0, message, None, None)

    polling = record(logging.ERROR, "Handler 'reconcile' failed temporarily: 1/2 pods")
    failure = record(logging.ERROR, "Handler 'reconcile' failed with an exception")

    assert PollingIsNotAnError().filter(polling) and polling.levelname == "INFO"
    assert PollingIsNotAnError().filter(failure) and failure.levelname == "ERROR"
