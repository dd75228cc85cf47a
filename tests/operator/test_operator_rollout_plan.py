"""Deployment changes as plain functions: env patch, canary manifest, pod selection."""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import pytest
from mlmodel_operator.rollout import (
    TRACK_LABEL,
    TargetError,
    canary_manifest,
    canary_name,
    choose_target,
    container_index,
    container_port,
    deployment_pods,
    env_patch,
    slot_env,
    version_of,
)
from mlmodel_operator.spec import parse_spec

PREFIX = "ATTENDANCE_FACE_MODEL_FACE_EMBEDDER_"
LABELS = {
    "app.kubernetes.io/name": "ml-services",
    "app.kubernetes.io/instance": "prod",
    "app.kubernetes.io/component": "face",
}


def face_deployment(name: str = "prod-ml-services-face", **labels: str) -> dict:
    return {
        "metadata": {"name": name, "namespace": "ml", "labels": {**LABELS, **labels}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": dict(LABELS)},
            "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {
                    "containers": [
                        {"name": "sidecar", "image": "s"},
                        {
                            "name": "face",
                            "image": "f",
                            "ports": [{"name": "http", "containerPort": 5001}],
                            "env": [
                                {"name": "ATTENDANCE_LOG_LEVEL", "value": "INFO"},
                                {"name": PREFIX + "VERSION", "value": "1.0"},
                            ],
                        },
                    ]
                },
            },
        },
    }


def embedder_spec(**extra: Any):
    return parse_spec(
        {
            "service": "face",
            "slot": "face_embedder",
            "version": "2.0",
            "source": {"uri": "file:///models/embedder.onnx"},
            "format": "onnx",
            **extra,
        }
    )


def test_env_patch_replaces_only_the_slot_variables() -> None:
    deployment = face_deployment()
    spec = embedder_spec()

    operations = env_patch(deployment, 1, PREFIX, spec.env(), "2.0")
    patched = jsonpatch.apply_patch(copy.deepcopy(deployment), operations)

    env = patched["spec"]["template"]["spec"]["containers"][1]["env"]
    assert env == [{"name": "ATTENDANCE_LOG_LEVEL", "value": "INFO"}, *spec.env()]
    annotations = patched["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {"attendance-ml.io/model-version.face_embedder": "2.0"}
    assert operations[0] == {
        "op": "test",
        "path": "/spec/template/spec/containers/1/name",
        "value": "face",
    }
    assert env_patch(patched, 1, PREFIX, spec.env(), "2.0") == []


def test_env_patch_to_no_variables_restores_the_builtin_model() -> None:
    deployment = face_deployment()

    operations = env_patch(deployment, 1, PREFIX, [], "builtin")
    patched = jsonpatch.apply_patch(copy.deepcopy(deployment), operations)

    assert slot_env(patched, 1, PREFIX) == []
    assert version_of(slot_env(deployment, 1, PREFIX), PREFIX) == "1.0"
    assert version_of([], PREFIX) == "builtin"


def test_test_operation_refuses_a_reordered_container_list() -> None:
    deployment = face_deployment()
    operations = env_patch(deployment, 1, PREFIX, embedder_spec().env(), "2.0")
    containers = deployment["spec"]["template"]["spec"]["containers"]
    containers.reverse()

    with pytest.raises(jsonpatch.JsonPatchTestFailed):
        jsonpatch.apply_patch(deployment, operations)


def test_target_is_found_by_labels_never_a_canary() -> None:
    spec = embedder_spec()
    target = face_deployment()
    canary = face_deployment("c", **{TRACK_LABEL: "canary"})
    other = face_deployment("d", **{"app.kubernetes.io/component": "sentiment"})

    assert choose_target([canary, other, target], spec) is target
    assert choose_target([other], spec) is None
    with pytest.raises(TargetError) as caught:
        choose_target([target, face_deployment("staging-face")], spec)
    assert caught.value.field == "spec.target.deployment"
    named = embedder_spec(target={"deployment": "staging-face"})
    assert choose_target([target, face_deployment("staging-face")], named) == (
        face_deployment("staging-face")
    )


def test_container_and_port_lookup() -> None:
    deployment = face_deployment()

    assert container_index(deployment, "face") == 1
    assert container_port(deployment, 1, "face") == 5001
    assert container_port(deployment, 0, "face") == 5001
    with pytest.raises(TargetError, match="no container 'gpu'"):
        container_index(deployment, "gpu")


def test_canary_manifest_runs_the_new_model_beside_the_target() -> None:
    target = face_deployment()
    spec = embedder_spec()

    manifest = canary_manifest(target, 1, spec, {"name": "embedder", "uid": "u-1"}, 2)

    assert manifest["metadata"]["name"] == "prod-ml-services-face-canary-face-embedder"
    assert manifest["spec"]["replicas"] == 2
    selector = manifest["spec"]["selector"]["matchLabels"]
    assert selector == {
        **LABELS,
        TRACK_LABEL: "canary",
        "attendance-ml.io/mlmodel": "embedder",
    }
    assert manifest["spec"]["template"]["metadata"]["labels"] == selector
    env = manifest["spec"]["template"]["spec"]["containers"][1]["env"]
    assert env == [{"name": "ATTENDANCE_LOG_LEVEL", "value": "INFO"}, *spec.env()]
    owner = manifest["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["uid"], owner["controller"]) == (
        "MLModel",
        "u-1",
        True,
    )
    assert (
        target["spec"]["template"]["spec"]["containers"][1]["env"][1]["value"] == "1.0"
    )


def test_canary_name_fits_in_63_characters() -> None:
    name = canary_name("x" * 70, "face_landmarks")

    assert len(name) <= 63
    assert name.endswith("-canary-face-landmarks")


def test_pods_are_split_between_target_and_canary() -> None:
    target = face_deployment()

    def pod(name: str, **labels: str) -> dict:
        return {"metadata": {"name": name, "labels": {**LABELS, **labels}}}

    stable = pod("a")
    canary = pod("b", **{TRACK_LABEL: "canary"})
    leaving = {
        **pod("c"),
        "metadata": {**pod("c")["metadata"], "deletionTimestamp": "t"},
    }
    foreign = {"metadata": {"name": "d", "labels": {"app": "x"}}}

    assert deployment_pods(target, [stable, canary, leaving, foreign], False) == [
        stable
    ]
    assert deployment_pods(target, [stable, canary], True) == [canary]
