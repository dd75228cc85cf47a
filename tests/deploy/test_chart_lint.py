"""helm lint --strict per scenario, the values schema, and refused combinations."""

from __future__ import annotations

import pytest

from .conftest import CHART, RELEASE, SCENARIOS, run_tool


@pytest.mark.parametrize("values", SCENARIOS, ids=lambda path: path.stem)
def test_chart_lints_strictly_with_every_scenario(helm, values):
    result = run_tool(helm, "lint", "--strict", str(CHART), "-f", str(values))

    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout


def test_scenarios_cover_minimal_gpu_and_production():
    names = {path.stem.removesuffix("-values") for path in SCENARIOS}

    assert {"minimal", "gpu", "production"} <= names


def refusal(helm, *sets: str) -> str:
    args = [helm, "template", RELEASE, str(CHART)]
    for pair in sets:
        args += ["--set", pair]
    result = run_tool(*args, check=False)
    assert result.returncode != 0, "helm rendered values it should refuse"
    return result.stderr


def test_schema_rejects_a_misspelt_value(helm):
    stderr = refusal(helm, "gateway.auth.enabled=false", "face.replicas=2")

    assert "values don't meet the specifications of the schema" in stderr
    assert "replicas" in stderr


def test_schema_rejects_an_unknown_log_level(helm):
    stderr = refusal(helm, "gateway.auth.enabled=false", "config.logLevel=LOUD")

    assert "logLevel" in stderr


def test_auth_on_without_a_secret_is_refused_with_the_value_to_set(helm):
    stderr = refusal(helm)

    assert "gateway.auth.existingSecret is required" in stderr


def test_two_face_replicas_on_sqlite_are_refused(helm):
    stderr = refusal(helm, "gateway.auth.enabled=false", "face.replicaCount=2")

    assert "face.database.existingSecret" in stderr


def test_face_autoscaling_on_sqlite_is_refused(helm):
    stderr = refusal(
        helm, "gateway.auth.enabled=false", "face.autoscaling.enabled=true"
    )

    assert "face.database.existingSecret" in stderr


def test_tls_without_a_certificate_secret_is_refused(helm):
    stderr = refusal(
        helm,
        "gateway.auth.enabled=false",
        "ingress.enabled=true",
        "ingress.host=a.example.org",
        "ingress.tls.enabled=true",
    )

    assert "ingress.tls.secretName is required" in stderr
