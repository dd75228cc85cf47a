"""Fixtures for the deployment tests: the real tools, and the chart rendered by helm.

Each tool is looked up on PATH and beside the test interpreter (pip puts kubectl,
hadolint, actionlint and yamllint into the virtualenv's bin). Where one is missing
the tests that need it skip with the reason; CI installs all of them
(scripts/ci.d/20-k8s-tools.sh and requirements/deploy.txt).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "ml-services"
SCENARIOS = sorted((CHART / "ci").glob("*-values.yaml"))
RELEASE = "attendance"
NAMESPACE = "attendance-ml"
# Oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and a current one.
KUBERNETES_VERSIONS = ("1.25.0", "1.33.0")
SERVICE_COMPONENTS = {
    "face": 5001,
    "detection": 5002,
    "sentiment": 5003,
    "gateway": 8080,
}
INSTALL_HINT = "install it with scripts/ci.d/20-k8s-tools.sh or requirements/deploy.txt"
PIP_HINT = "pip install -r requirements/deploy.txt"


def find_tool(name: str) -> str | None:
    """Path of an executable on PATH or in the test interpreter's bin directory."""
    beside_python = Path(sys.executable).parent / name
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    return shutil.which(name)


def require_tool(name: str) -> str:
    path = find_tool(name)
    if path is None:
        pytest.skip(f"{name} is not installed: {INSTALL_HINT}")
    return path


def run_tool(
    *args: str, cwd: Path = REPO, check: bool = True
) -> subprocess.CompletedProcess:
    """Run a tool; on an unexpected exit the assertion shows its whole output."""
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)
    if check:
        command = " ".join(args)
        assert result.returncode == 0, (
            f"{command} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result


@pytest.fixture(scope="session")
def helm() -> str:
    return require_tool("helm")


@pytest.fixture(scope="session")
def kubectl() -> str:
    return require_tool("kubectl")


@pytest.fixture(scope="session")
def render(helm):
    """Render the chart with values files and --set pairs; returns the documents."""
    cache: dict[tuple, list[dict]] = {}

    def render_chart(*values_files: Path, sets: tuple[str, ...] = ()) -> list[dict]:
        key = (values_files, sets)
        if key not in cache:
            args = [helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE]
            args += ["--include-crds"]
            for values in values_files:
                args += ["-f", str(values)]
            for pair in sets:
                args += ["--set", pair]
            output = run_tool(*args).stdout
            cache[key] = [doc for doc in yaml.safe_load_all(output) if doc]
        return cache[key]

    return render_chart


def by_kind(documents: list[dict], kind: str) -> dict[str, dict]:
    """Objects of one kind, by name."""
    return {d["metadata"]["name"]: d for d in documents if d["kind"] == kind}


def scenario(name: str) -> Path:
    return CHART / "ci" / f"{name}-values.yaml"


def main_container(deployment: dict) -> dict:
    """The container named after the Deployment's component (the contract)."""
    component = deployment["metadata"]["labels"]["app.kubernetes.io/component"]
    containers = deployment["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == component)


def env_of(container: dict) -> dict[str, dict]:
    """The container's environment: name -> the whole entry (value or valueFrom)."""
    return {entry["name"]: entry for entry in container.get("env", [])}
