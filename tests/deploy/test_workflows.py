"""GitHub workflows: actionlint-clean, least privilege, bounded, pinned actions."""

from __future__ import annotations

import re

import pytest
import yaml

from .conftest import REPO, require_tool, run_tool

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def test_ci_and_release_workflows_exist():
    assert {path.stem for path in WORKFLOWS} >= {"ci", "release"}


def test_workflows_pass_actionlint():
    actionlint = require_tool("actionlint")

    run_tool(actionlint, *map(str, WORKFLOWS))


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_permissions_start_empty_and_every_job_has_a_timeout(workflow):
    document = yaml.safe_load(workflow.read_text())

    assert document["permissions"] == {}
    for name, job in document["jobs"].items():
        assert 0 < job["timeout-minutes"] <= 120, name
        assert "write-all" not in str(job.get("permissions", {})), name


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_actions_are_pinned_to_a_commit_with_the_version_in_a_comment(workflow):
    lines = [line for line in workflow.read_text().splitlines() if "uses:" in line]

    assert lines
    for line in lines:
        reference, _, comment = line.split("uses:", 1)[1].strip().partition("#")
        assert PINNED.match(reference.strip()), line
        assert re.match(r"\s*v\d+\.\d+\.\d+$", comment), line


def test_ci_runs_the_same_test_entry_point_as_local_ci():
    ci = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text())
    commands = [step.get("run", "") for step in ci["jobs"]["test"]["steps"]]

    assert "bash .ci/run" in commands
