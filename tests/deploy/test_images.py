"""Dockerfiles: hadolint-clean, and consistent with the chart and the services."""

from __future__ import annotations

import json
import re

import pytest

from .conftest import REPO, SERVICE_COMPONENTS, require_tool, run_tool

DOCKERFILES = [
    REPO / "Dockerfile.base",
    *sorted((REPO / "docker").glob("*.Dockerfile")),
]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_dockerfile_passes_hadolint(dockerfile):
    hadolint = require_tool("hadolint")

    run_tool(hadolint, "--config", "docker/hadolint.yaml", str(dockerfile))


def test_hadolint_flags_a_root_image_with_unpinned_pip(tmp_path):
    hadolint = require_tool("hadolint")
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:3.11-slim\nRUN pip install flask\nUSER root\n")

    result = run_tool(
        hadolint, "--config", "docker/hadolint.yaml", str(bad), check=False
    )

    assert result.returncode != 0
    assert "DL3013" in result.stdout
    assert "DL3002" in result.stdout


def instructions(dockerfile) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", dockerfile.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest))
    return result


@pytest.mark.parametrize("component", sorted(SERVICE_COMPONENTS))
def test_service_image_runs_gunicorn_on_its_port_with_the_shared_settings(component):
    steps = instructions(REPO / "docker" / f"{component}.Dockerfile")
    port = SERVICE_COMPONENTS[component]
    command = json.loads(dict(steps)["CMD"])

    assert ("EXPOSE", str(port)) in steps
    assert command == [
        "gunicorn",
        "-c",
        "python:attendance_ml.core.gunicorn_conf",
        "--bind",
        f"0.0.0.0:{port}",
        f"attendance_ml.{component}.app:create_app()",
    ]


def test_base_image_runs_as_a_numeric_user_without_build_tools():
    steps = instructions(REPO / "Dockerfile.base")
    final_stage = steps[max(i for i, (k, _) in enumerate(steps) if k == "FROM") :]
    final_text = " ".join(arguments for _, arguments in final_stage)

    assert final_stage[-1] == ("USER", "10001:10001")
    assert "build-essential" not in final_text
    assert "libopenblas-dev" not in final_text
    assert "libopenblas0" in final_text
    assert "COPY --from=builder /opt/venv /opt/venv" in " ".join(
        f"{k} {a}" for k, a in final_stage
    )


def test_images_install_with_the_same_requirement_files_as_make_install():
    builder = (REPO / "Dockerfile.base").read_text()

    assert "requirements/*.txt" in builder
    assert "requirements/*.no-deps.txt" in builder
    assert "--no-deps" in builder
    assert "scripts/install-system-deps.sh" in builder


def test_build_context_admits_what_the_dockerfiles_copy():
    ignore = (REPO / ".dockerignore").read_text().splitlines()
    copied = set()
    for dockerfile in DOCKERFILES:
        for keyword, arguments in instructions(dockerfile):
            if keyword == "COPY" and "--from" not in arguments:
                copied.update(arguments.split()[:-1])

    rules = [line for line in ignore if line and not line.startswith("#")]
    assert rules[0] == "*", "the context must start from nothing"
    admitted = [line[1:].rstrip("/") for line in ignore if line.startswith("!")]
    for source in copied:
        path = source.rstrip("/")
        assert any(path == a or path.startswith(a + "/") for a in admitted), source


def pins(text: str) -> dict[str, str]:
    """name -> version of every ``name==version`` in a requirements or TOML text."""
    found = re.findall(r"^\s*\"?([A-Za-z0-9_.-]+)==([^\s\",#]+)", text, re.MULTILINE)
    return {name.lower().replace("_", "-"): version for name, version in found}


def test_operator_image_pins_agree_with_the_project():
    image = pins((REPO / "docker" / "operator-requirements.txt").read_text())
    project = pins((REPO / "pyproject.toml").read_text())
    operator_file = REPO / "requirements" / "operator.txt"
    if operator_file.exists():
        project |= pins(operator_file.read_text())

    assert image, "the operator image installs nothing"
    for name, version in image.items():
        assert project.get(name) == version, (
            f"{name}: image {version}, project {project.get(name)}"
        )


def test_detection_finds_the_repository_models_inside_the_image():
    """The image copies models/ and points the detection service's MODELS_DIR there."""
    steps = instructions(REPO / "Dockerfile.base")
    copies = [a for k, a in steps if k == "COPY" and a.startswith("models/")]
    environment = " ".join(a for k, a in steps if k == "ENV")

    assert copies == ["models/ /opt/attendance-ml/models/"]
    assert "ATTENDANCE_DETECTION_MODELS_DIR=/opt/attendance-ml/models" in environment
