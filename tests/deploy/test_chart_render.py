"""The rendered chart: valid Kubernetes objects, and the settings that matter."""

from __future__ import annotations

import copy

import pytest
from attendance_ml.core.app_base import build_service_app
from attendance_ml.core.settings import CoreSettings, EnvReader

from .conftest import (
    CHART,
    KUBERNETES_VERSIONS,
    NAMESPACE,
    PIP_HINT,
    RELEASE,
    SCENARIOS,
    SERVICE_COMPONENTS,
    by_kind,
    env_of,
    main_container,
    scenario,
)

# Kinds from other projects' CRDs: no Kubernetes schema, checked by the tests below.
CUSTOM_KINDS = {"ServiceMonitor", "PrometheusRule", "MLModel"}
SELECTOR_KEYS = {
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
}
DOCUMENTED_PATHS = [
    ("/api/face/", "Prefix"),
    ("/api/object-detection/", "Prefix"),
    ("/api/sentiment/", "Prefix"),
    ("/api/analyze/all", "Exact"),
    ("/health", "Exact"),
]

kubernetes_validate = pytest.importorskip(
    "kubernetes_validate",
    reason=f"kubernetes-validate is not installed: {PIP_HINT}",
)


def name_of(component: str) -> str:
    return f"{RELEASE}-ml-services-{component}"


def validate_all(documents: list[dict], version: str) -> None:
    for document in documents:
        if document["kind"] in CUSTOM_KINDS:
            continue
        kubernetes_validate.validate(document, version, strict=True)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("values", SCENARIOS, ids=lambda path: path.stem)
def test_every_rendered_object_is_valid_kubernetes(render, values, version):
    validate_all(render(values), version)


def test_the_validator_rejects_an_unknown_field(render):
    deployment = copy.deepcopy(by_kind(render(scenario("minimal")), "Deployment"))
    broken = deployment[name_of("face")]
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbes"] = {}

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)


@pytest.mark.parametrize("values", SCENARIOS, ids=lambda path: path.stem)
def test_every_object_carries_the_contract_labels(render, values):
    for document in render(values):
        if document["kind"] == "CustomResourceDefinition":
            continue
        labels = document["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "ml-services"
        assert labels["app.kubernetes.io/instance"] == RELEASE
        assert labels["app.kubernetes.io/part-of"] == "attendance-ml"
        assert labels["app.kubernetes.io/component"] in {
            *SERVICE_COMPONENTS,
            "operator",
        }


def test_minimal_scenario_deploys_the_four_services_without_operator(render):
    documents = render(scenario("minimal"))
    deployments = by_kind(documents, "Deployment")

    assert set(deployments) == {name_of(c) for c in SERVICE_COMPONENTS}
    assert by_kind(documents, "Ingress") == {}
    assert by_kind(documents, "Secret") == {}
    for deployment in deployments.values():
        container = main_container(deployment)
        component = deployment["metadata"]["labels"]["app.kubernetes.io/component"]
        assert container["ports"] == [
            {
                "name": "http",
                "containerPort": SERVICE_COMPONENTS[component],
                "protocol": "TCP",
            }
        ]
        assert env_of(container)["ATTENDANCE_LOG_FORMAT"]["value"] == "json"
        assert env_of(container)["ATTENDANCE_DATA_DIR"]["value"] == "/data"


def test_selectors_name_only_name_instance_and_component(render):
    documents = render(scenario("production"))

    for deployment in by_kind(documents, "Deployment").values():
        assert set(deployment["spec"]["selector"]["matchLabels"]) == SELECTOR_KEYS
    for service in by_kind(documents, "Service").values():
        assert set(service["spec"]["selector"]) == SELECTOR_KEYS
    for budget in by_kind(documents, "PodDisruptionBudget").values():
        assert set(budget["spec"]["selector"]["matchLabels"]) == SELECTOR_KEYS


def test_selectors_stay_the_same_across_an_upgrade(render):
    """An upgrade changing tags, replicas and chart values keeps every selector."""
    before = render(scenario("minimal"))
    after = render(
        scenario("production"),
        sets=(
            "image.tag=9.9.9",
            "commonLabels.team=vision",
            "face.pdb.maxUnavailable=2",
        ),
    )

    def selectors(documents):
        return {
            name: d["spec"]["selector"]
            for name, d in by_kind(documents, "Deployment").items()
        }

    shared = selectors(before).keys() & selectors(after).keys()
    assert shared == {name_of(c) for c in SERVICE_COMPONENTS}
    assert {n: selectors(before)[n] for n in shared} == {
        n: selectors(after)[n] for n in shared
    }


def test_ingress_routes_exactly_the_documented_paths_to_the_gateway(render):
    ingress = by_kind(render(scenario("production")), "Ingress")[
        f"{RELEASE}-ml-services"
    ]
    rule = ingress["spec"]["rules"][0]
    routes = [
        (
            p["path"],
            p["pathType"],
            p["backend"]["service"]["name"],
            p["backend"]["service"]["port"]["number"],
        )
        for p in rule["http"]["paths"]
    ]

    assert rule["host"] == "attendance.example.edu"
    assert routes == [
        (path, kind, name_of("gateway"), 8080) for path, kind in DOCUMENTED_PATHS
    ]
    assert ingress["spec"]["tls"] == [
        {"hosts": ["attendance.example.edu"], "secretName": "attendance-tls"}
    ]


def test_ingress_without_gateway_routes_each_prefix_to_its_service(render):
    ingress = by_kind(render(scenario("no-gateway")), "Ingress")[
        f"{RELEASE}-ml-services"
    ]
    routes = {
        p["path"]: (
            p["backend"]["service"]["name"],
            p["backend"]["service"]["port"]["number"],
        )
        for p in ingress["spec"]["rules"][0]["http"]["paths"]
    }

    assert routes == {
        "/api/face/": (name_of("face"), 5001),
        "/health": (name_of("face"), 5001),
        "/api/object-detection/": (name_of("detection"), 5002),
        "/api/sentiment/": (name_of("sentiment"), 5003),
    }


def body_limit_bytes(annotation: str) -> int:
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    return int(annotation[:-1]) * units[annotation[-1].lower()]


@pytest.mark.parametrize("max_image_bytes", [10 * 1024 * 1024, 3_000_000, 25_000_000])
def test_ingress_body_limit_admits_what_the_services_accept(render, max_image_bytes):
    """The nginx limit is at least the services' own Flask request limit."""
    ingress = by_kind(
        render(
            scenario("production"), sets=(f"config.maxImageBytes={max_image_bytes}",)
        ),
        "Ingress",
    )[f"{RELEASE}-ml-services"]
    annotation = ingress["metadata"]["annotations"][
        "nginx.ingress.kubernetes.io/proxy-body-size"
    ]
    env = EnvReader("face", {"ATTENDANCE_MAX_IMAGE_BYTES": str(max_image_bytes)})
    app, _ = build_service_app(CoreSettings.from_env("face", env), lambda: None)
    service_limit = app.config["MAX_CONTENT_LENGTH"]

    assert service_limit <= body_limit_bytes(annotation) <= service_limit + 2 * 1024**2


def test_gpu_components_get_a_gpu_the_gpu_image_and_gpu_nodes(render):
    deployments = by_kind(render(scenario("gpu")), "Deployment")

    for component in ("face", "detection"):
        spec = deployments[name_of(component)]["spec"]["template"]["spec"]
        container = main_container(deployments[name_of(component)])
        assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
        assert container["image"] == f"ghcr.io/attendance-ml/{component}:0.1.0-gpu"
        assert spec["nodeSelector"]["nvidia.com/gpu.present"] == "true"
        assert {
            "key": "nvidia.com/gpu",
            "operator": "Exists",
            "effect": "NoSchedule",
        } in spec["tolerations"]
        assert env_of(container)["ATTENDANCE_ONNX_PROVIDERS"]["value"].startswith(
            "CUDA"
        )
        preferred = spec["affinity"]["nodeAffinity"][
            "preferredDuringSchedulingIgnoredDuringExecution"
        ]
        assert preferred[0]["preference"]["matchExpressions"][0]["key"] == (
            "nvidia.com/gpu.product"
        )
    detection = deployments[name_of("detection")]["spec"]["template"]["spec"]
    assert detection["nodeSelector"]["node.kubernetes.io/instance-type"] == "g5.xlarge"
    sentiment_pod = deployments[name_of("sentiment")]["spec"]["template"]["spec"]
    assert "affinity" not in sentiment_pod
    assert "nodeSelector" not in sentiment_pod
    sentiment = main_container(deployments[name_of("sentiment")])
    assert "nvidia.com/gpu" not in sentiment["resources"].get("limits", {})
    assert sentiment["image"] == "ghcr.io/attendance-ml/sentiment:0.1.0"


def test_production_autoscales_on_cpu_and_the_custom_metric(render):
    documents = render(scenario("production"))
    autoscalers = by_kind(documents, "HorizontalPodAutoscaler")
    face = autoscalers[name_of("face")]["spec"]

    assert set(autoscalers) == {name_of(c) for c in SERVICE_COMPONENTS}
    assert face["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": name_of("face"),
    }
    assert (face["minReplicas"], face["maxReplicas"]) == (2, 8)
    assert face["metrics"] == [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 70},
            },
        },
        {
            "type": "Pods",
            "pods": {
                "metric": {"name": "flask_http_requests_per_second"},
                "target": {"type": "AverageValue", "averageValue": "8"},
            },
        },
    ]
    for deployment in by_kind(documents, "Deployment").values():
        component = deployment["metadata"]["labels"]["app.kubernetes.io/component"]
        assert ("replicas" in deployment["spec"]) == (component == "operator")


def test_probes_wait_for_model_loading_and_readiness_means_loaded(render):
    for deployment in by_kind(render(scenario("minimal")), "Deployment").values():
        container = main_container(deployment)
        startup = container["startupProbe"]

        assert startup["httpGet"] == {"path": "/health/ready", "port": "http"}
        assert startup["failureThreshold"] * startup["periodSeconds"] >= 60
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    face = main_container(
        by_kind(render(scenario("minimal")), "Deployment")[name_of("face")]
    )
    assert (
        face["startupProbe"]["failureThreshold"] * face["startupProbe"]["periodSeconds"]
        == 300
    )


@pytest.mark.parametrize("values", SCENARIOS, ids=lambda path: path.stem)
def test_every_pod_runs_locked_down(render, values):
    for deployment in by_kind(render(values), "Deployment").values():
        pod = deployment["spec"]["template"]["spec"]
        security = pod["securityContext"]
        assert security["runAsNonRoot"] is True
        assert security["runAsUser"] == 10001
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"] == {"drop": ["ALL"]}
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert "/tmp" in mounts
        component = deployment["metadata"]["labels"]["app.kubernetes.io/component"]
        assert pod["automountServiceAccountToken"] is (component == "operator")
        assert pod["enableServiceLinks"] is False


def test_face_gallery_is_on_a_kept_claim_with_recreate_updates(render):
    documents = render(scenario("minimal"))
    claim = by_kind(documents, "PersistentVolumeClaim")[name_of("face")]
    face = by_kind(documents, "Deployment")[name_of("face")]
    volumes = {v["name"]: v for v in face["spec"]["template"]["spec"]["volumes"]}

    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert volumes["data"]["persistentVolumeClaim"]["claimName"] == name_of("face")
    assert face["spec"]["strategy"] == {"type": "Recreate"}
    assert env_of(main_container(face))["ATTENDANCE_FACE_DATA_DIR"]["value"] == "/data"


def test_face_gallery_url_comes_from_the_database_secret(render):
    face = by_kind(render(scenario("production")), "Deployment")[name_of("face")]
    env = env_of(main_container(face))

    assert env["ATTENDANCE_FACE_DATABASE_URL"]["valueFrom"] == {
        "secretKeyRef": {"name": "attendance-face-database", "key": "database-url"}
    }
    assert face["spec"]["strategy"]["type"] == "RollingUpdate"


def test_gateway_reads_auth_keys_from_the_existing_secret(render):
    gateway = by_kind(render(scenario("production")), "Deployment")[name_of("gateway")]
    env = env_of(main_container(gateway))

    assert env["ATTENDANCE_GATEWAY_AUTH_ENABLED"]["value"] == "true"
    for name, key in [
        ("ATTENDANCE_GATEWAY_JWT_SECRET", "jwt-secret"),
        ("ATTENDANCE_GATEWAY_JWT_PUBLIC_KEY", "jwt-public-key"),
        ("ATTENDANCE_GATEWAY_API_KEYS", "api-keys"),
    ]:
        assert env[name]["valueFrom"] == {
            "secretKeyRef": {
                "name": "attendance-gateway-auth",
                "key": key,
                "optional": True,
            }
        }
    assert env["ATTENDANCE_GATEWAY_RATE_LIMIT_STORAGE_URI"]["valueFrom"][
        "secretKeyRef"
    ] == {
        "name": "attendance-gateway-redis",
        "key": "storage-uri",
    }
    for service, port in [("face", 5001), ("detection", 5002), ("sentiment", 5003)]:
        url = env[f"ATTENDANCE_GATEWAY_{service.upper()}_URL"]["value"]
        assert url == f"http://{name_of(service)}:{port}"


def test_network_policies_admit_only_the_callers(render):
    policies = by_kind(render(scenario("production")), "NetworkPolicy")
    face_sources = policies[name_of("face")]["spec"]["ingress"][0]["from"]
    gateway_sources = policies[name_of("gateway")]["spec"]["ingress"][0]["from"]
    ingress_nginx = {
        "namespaceSelector": {
            "matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}
        }
    }

    callers = [
        s["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
        for s in face_sources
        if "podSelector" in s
    ]
    assert callers == ["gateway", "operator"]
    assert ingress_nginx not in face_sources
    assert ingress_nginx in gateway_sources


OPERATOR_RULES = [
    {
        "apiGroups": ["attendance-ml.io"],
        "resources": ["mlmodels", "mlmodels/status"],
        "verbs": ["get", "list", "watch", "patch", "update"],
    },
    {
        "apiGroups": ["apps"],
        "resources": ["deployments"],
        # create and delete: the canary Deployment beside the target (beyond the
        # contract's list; docs/operator.md explains why).
        "verbs": ["get", "list", "watch", "patch", "create", "delete"],
    },
    {
        "apiGroups": ["apps"],
        "resources": ["replicasets"],
        "verbs": ["get", "list", "watch"],
    },
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
    {
        "apiGroups": ["events.k8s.io"],
        "resources": ["events"],
        "verbs": ["create", "patch"],
    },
]


def test_operator_role_grants_exactly_the_contract_in_its_namespace(render):
    documents = render(scenario("gpu"))
    role = by_kind(documents, "Role")[name_of("operator")]
    binding = by_kind(documents, "RoleBinding")[name_of("operator")]
    operator = main_container(by_kind(documents, "Deployment")[name_of("operator")])

    assert role["rules"] == OPERATOR_RULES
    assert by_kind(documents, "ClusterRole") == {}
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": name_of("operator"), "namespace": NAMESPACE}
    ]
    assert operator["command"] == ["python", "-m", "mlmodel_operator"]
    assert env_of(operator)["MLMODEL_OPERATOR_NAMESPACE"]["valueFrom"] == {
        "fieldRef": {"fieldPath": "metadata.namespace"}
    }
    assert operator["livenessProbe"]["httpGet"] == {
        "path": "/healthz",
        "port": "health",
    }


def test_operator_watching_all_namespaces_gets_a_cluster_role(render):
    documents = render(scenario("production"))
    role = by_kind(documents, "ClusterRole")[name_of("operator")]
    operator = main_container(by_kind(documents, "Deployment")[name_of("operator")])

    assert role["rules"] == [
        *OPERATOR_RULES,
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["list", "watch"]},
    ]
    assert (
        by_kind(documents, "ClusterRoleBinding")[name_of("operator")]["roleRef"]["kind"]
        == "ClusterRole"
    )
    assert env_of(operator)["MLMODEL_OPERATOR_NAMESPACE"]["value"] == ""


def test_monitoring_objects_scrape_the_services_with_their_own_labels(render):
    documents = render(scenario("production"))
    monitor = by_kind(documents, "ServiceMonitor")[f"{RELEASE}-ml-services"]
    endpoint = monitor["spec"]["endpoints"][0]
    dashboard = by_kind(documents, "ConfigMap")[f"{RELEASE}-ml-services-dashboard"]

    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert (endpoint["port"], endpoint["path"], endpoint["honorLabels"]) == (
        "http",
        "/metrics",
        True,
    )
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert set(by_kind(documents, "PrometheusRule")) == {f"{RELEASE}-ml-services"}
    assert by_kind(render(scenario("minimal")), "ServiceMonitor") == {}


def test_without_gateway_the_ingress_controller_reaches_the_services(render):
    documents = render(scenario("no-gateway"))
    policies = by_kind(documents, "NetworkPolicy")
    ingress_nginx = {
        "namespaceSelector": {
            "matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}
        }
    }

    assert name_of("gateway") not in by_kind(documents, "Deployment")
    for component in ("face", "detection", "sentiment"):
        assert (
            ingress_nginx in policies[name_of(component)]["spec"]["ingress"][0]["from"]
        )


def test_operator_mounts_the_regression_sets_read_only(render):
    operator = by_kind(render(scenario("production")), "Deployment")[
        name_of("operator")
    ]
    pod = operator["spec"]["template"]["spec"]
    mounts = {m["name"]: m for m in main_container(operator)["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}

    assert mounts["regression-sets"] == {
        "name": "regression-sets",
        "mountPath": "/regression-sets",
        "readOnly": True,
    }
    assert volumes["regression-sets"]["persistentVolumeClaim"]["readOnly"] is True


def test_chart_ships_the_mlmodel_crd(render):
    if not (CHART / "crds" / "mlmodels.attendance-ml.io.yaml").exists():
        pytest.skip("the operator's CRD file is not in this tree yet")
    crds = by_kind(render(scenario("minimal")), "CustomResourceDefinition")

    crd = crds["mlmodels.attendance-ml.io"]["spec"]
    assert (crd["group"], crd["names"]["kind"], crd["scope"]) == (
        "attendance-ml.io",
        "MLModel",
        "Namespaced",
    )
    assert [v["name"] for v in crd["versions"]] == ["v1alpha1"]
