"""Kustomize overlays: the base matches the chart; each overlay builds and validates."""

from __future__ import annotations

import pytest
import yaml

from .conftest import (
    CHART,
    KUBERNETES_VERSIONS,
    NAMESPACE,
    PIP_HINT,
    RELEASE,
    REPO,
    by_kind,
    env_of,
    main_container,
    require_tool,
    run_tool,
)

K8S = REPO / "k8s"
OVERLAYS = ("dev", "production", "gpu")

kubernetes_validate = pytest.importorskip(
    "kubernetes_validate",
    reason=f"kubernetes-validate is not installed: {PIP_HINT}",
)


@pytest.fixture(scope="module")
def build(kubectl):
    cache: dict[str, list[dict]] = {}

    def build_overlay(name: str) -> list[dict]:
        if name not in cache:
            path = K8S / "base" if name == "base" else K8S / "overlays" / name
            output = run_tool(kubectl, "kustomize", str(path)).stdout
            cache[name] = [doc for doc in yaml.safe_load_all(output) if doc]
        return cache[name]

    return build_overlay


def test_base_is_the_current_chart_rendering(helm):
    """k8s/base/ml-services.yaml is what `make kustomize-base` renders today."""
    rendered = run_tool(
        helm,
        "template",
        RELEASE,
        str(CHART),
        "--namespace",
        NAMESPACE,
        "-f",
        str(K8S / "base" / "chart-values.yaml"),
    ).stdout

    assert rendered == (K8S / "base" / "ml-services.yaml").read_text(), (
        "k8s/base is stale: run make kustomize-base"
    )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_builds_into_valid_objects(build, overlay):
    documents = build(overlay)

    assert by_kind(documents, "Deployment")
    for document in documents:
        if document["kind"] in {"MLModel", "ServiceMonitor", "PrometheusRule"}:
            continue
        kubernetes_validate.validate(document, KUBERNETES_VERSIONS[-1], strict=True)


def deployments(documents: list[dict]) -> dict[str, dict]:
    return {
        d["metadata"]["labels"]["app.kubernetes.io/component"]: d
        for d in documents
        if d["kind"] == "Deployment"
    }


def test_dev_overlay_uses_its_namespace_dev_images_and_no_auth(build):
    documents = build("dev")
    gateway = main_container(deployments(documents)["gateway"])

    assert {
        d["metadata"].get("namespace")
        for d in documents
        if d["kind"] != "CustomResourceDefinition"
    } == {"attendance-ml-dev"}
    assert env_of(gateway)["ATTENDANCE_GATEWAY_AUTH_ENABLED"]["value"] == "false"
    for component, deployment in deployments(documents).items():
        assert main_container(deployment)["image"].endswith(f"/{component}:dev")
    bindings = by_kind(documents, "RoleBinding")
    assert [s["namespace"] for b in bindings.values() for s in b["subjects"]] == [
        "attendance-ml-dev"
    ]


def test_production_overlay_shares_the_gallery_and_scales(build):
    documents = build("production")
    face = deployments(documents)["face"]
    volumes = {v["name"]: v for v in face["spec"]["template"]["spec"]["volumes"]}
    autoscalers = by_kind(documents, "HorizontalPodAutoscaler")

    assert "replicas" not in face["spec"]
    assert face["spec"]["strategy"]["type"] == "RollingUpdate"
    assert volumes["data"] == {"name": "data", "emptyDir": {"sizeLimit": "1Gi"}}
    assert by_kind(documents, "PersistentVolumeClaim") == {}
    assert "ATTENDANCE_FACE_DATABASE_URL" in env_of(main_container(face))
    assert {a["spec"]["scaleTargetRef"]["name"] for a in autoscalers.values()} == {
        "attendance-ml-services-face",
        "attendance-ml-services-gateway",
    }
    assert deployments(documents)["detection"]["spec"]["replicas"] == 2


def test_production_overlay_ingress_matches_the_chart_ingress(build, render):
    """The hand-written overlay ingress routes what the chart's ingress routes."""
    overlay = by_kind(build("production"), "Ingress")["attendance-ml-services"]
    chart = by_kind(render(CHART / "ci" / "production-values.yaml"), "Ingress")[
        "attendance-ml-services"
    ]

    assert overlay["spec"]["rules"][0]["http"] == chart["spec"]["rules"][0]["http"]
    body = "nginx.ingress.kubernetes.io/proxy-body-size"
    assert (
        overlay["metadata"]["annotations"][body]
        == chart["metadata"]["annotations"][body]
    )


def test_gpu_overlay_puts_face_and_detection_on_gpus(build):
    by_component = deployments(build("gpu"))

    for component in ("face", "detection"):
        pod = by_component[component]["spec"]["template"]["spec"]
        container = main_container(by_component[component])
        assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
        assert container["image"].endswith(f"/{component}:0.1.0-gpu")
        assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
        assert env_of(container)["ATTENDANCE_ONNX_PROVIDERS"]["value"].startswith(
            "CUDA"
        )
    assert (
        "nvidia.com/gpu"
        not in main_container(by_component["sentiment"])["resources"]["limits"]
    )


@pytest.mark.parametrize("overlay", ("base", *OVERLAYS))
def test_overlays_keep_the_base_selectors(build, overlay):
    selectors = {
        c: d["spec"]["selector"] for c, d in deployments(build(overlay)).items()
    }
    base = {c: d["spec"]["selector"] for c, d in deployments(build("base")).items()}

    assert selectors == base


def test_manifests_and_workflows_pass_yamllint():
    yamllint = require_tool("yamllint")

    run_tool(
        yamllint,
        "--strict",
        "-c",
        str(K8S / ".yamllint.yaml"),
        "k8s",
        ".github/workflows",
    )
