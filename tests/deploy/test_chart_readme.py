"""Every value in values.yaml is documented, and the README table is current."""

from __future__ import annotations

import yaml

from . import chart_readme
from .conftest import CHART

# Free-form maps documented as one value (their keys are Kubernetes fields or labels).
FREE_FORM = {
    "resources",
    "nodeSelector",
    "affinity",
    "podAnnotations",
    "labels",
    "annotations",
    "commonLabels",
    "podSecurityContext",
    "containerSecurityContext",
}


def leaf_keys(node: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value and key not in FREE_FORM:
            keys |= leaf_keys(value, dotted + ".")
        else:
            keys.add(dotted)
    return keys


def test_every_value_has_exactly_one_param_comment():
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    documented = [
        param.key
        for _, params in chart_readme.read_params(CHART / "values.yaml")
        for param in params
    ]

    assert sorted(documented) == sorted(set(documented)), "a value is documented twice"
    assert set(documented) == leaf_keys(values)


def test_readme_table_matches_values_yaml():
    assert chart_readme.main([]) == 0, "run make chart-readme"
