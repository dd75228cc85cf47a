"""The CRD is structural and well-formed; the example manifests validate against it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from mlmodel_operator.spec import SLOTS_BY_SERVICE, parse_spec

ROOT = Path(__file__).resolve().parents[2]
CRD_PATH = ROOT / "charts/ml-services/crds/mlmodels.attendance-ml.io.yaml"
EXAMPLES = sorted((ROOT / "operator/examples").glob("*.yaml"))


@pytest.fixture(scope="module")
def crd() -> dict[str, Any]:
    return yaml.safe_load(CRD_PATH.read_text())


@pytest.fixture(scope="module")
def schema(crd: dict[str, Any]) -> dict[str, Any]:
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def test_crd_names_the_contract_group_version_and_kind(crd: dict[str, Any]) -> None:
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    assert crd["metadata"]["name"] == "mlmodels.attendance-ml.io"
    assert crd["spec"]["group"] == "attendance-ml.io"
    assert crd["spec"]["scope"] == "Namespaced"
    assert crd["spec"]["names"]["kind"] == "MLModel"
    assert crd["spec"]["names"]["plural"] == "mlmodels"
    version = crd["spec"]["versions"][0]
    assert (version["name"], version["served"], version["storage"]) == (
        "v1alpha1",
        True,
        True,
    )
    assert version["subresources"] == {"status": {}}
    columns = [column["name"] for column in version["additionalPrinterColumns"]]
    assert columns == ["Service", "Task", "Version", "Serving", "Phase", "Age"]


def _untyped_nodes(node: dict[str, Any], path: str) -> list[str]:
    """Paths of schema nodes without a type, which a structural schema forbids."""
    missing = []
    if "type" not in node and not node.get("x-kubernetes-preserve-unknown-fields"):
        missing.append(path)
    for name, child in (node.get("properties") or {}).items():
        missing += _untyped_nodes(child, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        missing += _untyped_nodes(node["items"], f"{path}[]")
    return missing


def test_schema_is_structural(schema: dict[str, Any]) -> None:
    assert _untyped_nodes(schema, "") == []


def test_slot_enum_covers_every_slot_the_operator_knows(schema: dict[str, Any]) -> None:
    slots = {slot for group in SLOTS_BY_SERVICE.values() for slot in group}
    enum = schema["properties"]["spec"]["properties"]["slot"]["enum"]
    assert set(enum) == slots
    services = schema["properties"]["spec"]["properties"]["service"]["enum"]
    assert services == list(SLOTS_BY_SERVICE)


def test_phases_in_the_schema_are_the_operators(schema: dict[str, Any]) -> None:
    from mlmodel_operator import status

    phases = schema["properties"]["status"]["properties"]["phase"]["enum"]
    assert phases == [
        status.PENDING,
        status.VALIDATING,
        status.ROLLING,
        status.READY,
        status.FAILED,
        status.ROLLED_BACK,
    ]


def test_there_are_example_manifests() -> None:
    assert [path.name for path in EXAMPLES] == [
        "emotion-tflite-volume.yaml",
        "face-detector-builtin.yaml",
        "phone-detector-canary-gated.yaml",
    ]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_example_validates_against_the_crd_and_the_operator(
    path: Path, schema: dict[str, Any]
) -> None:
    manifest = yaml.safe_load(path.read_text())

    jsonschema.validate(manifest, schema)
    spec = parse_spec(manifest["spec"])

    assert manifest["apiVersion"] == "attendance-ml.io/v1alpha1"
    assert manifest["kind"] == "MLModel"
    assert spec.slot in SLOTS_BY_SERVICE[spec.service]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("service", "gateway"),
        ("slot", "plate_reader"),
        ("format", "pickle"),
        ("version", "two words"),
        ("source", {"uri": "s3://bucket/model.onnx"}),
        ("source", {"uri": "builtin:", "sha256": "ABC"}),
    ],
)
def test_schema_rejects_bad_values(
    field: str, value: Any, schema: dict[str, Any]
) -> None:
    manifest = yaml.safe_load(EXAMPLES[1].read_text())
    bad = copy.deepcopy(manifest)
    bad["spec"][field] = value

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
