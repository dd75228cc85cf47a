"""The chart README's values table, generated from the ``## @param`` comments.

``python tests/deploy/chart_readme.py --write`` (``make chart-readme``) rewrites the
table between the markers in charts/ml-services/README.md; the tests check that the
table is current and that every value in values.yaml is documented.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

CHART = Path(__file__).resolve().parents[2] / "charts" / "ml-services"
START = "<!-- values-table:start -->"
END = "<!-- values-table:end -->"
PARAM = re.compile(r"^## @param (\S+) (.+)$")
SECTION = re.compile(r"^## @section (.+)$")


@dataclass(frozen=True)
class Param:
    """One documented value: dotted key, description, default as YAML text."""

    key: str
    description: str
    default: str


def read_params(values_file: Path) -> list[tuple[str, list[Param]]]:
    """Sections in file order, each with its documented values."""
    text = values_file.read_text()
    values = yaml.safe_load(text)
    sections: list[tuple[str, list[Param]]] = []
    for line in text.splitlines():
        if match := SECTION.match(line):
            sections.append((match.group(1), []))
        elif match := PARAM.match(line):
            key, description = match.groups()
            default = lookup(values, key)
            sections[-1][1].append(Param(key, description, json.dumps(default)))
    return sections


def lookup(values: dict, dotted: str):
    """The value at a dotted key; KeyError names the key when it does not exist."""
    node = values
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"@param {dotted} names no value in values.yaml")
        node = node[part]
    return node


def render_table(sections: list[tuple[str, list[Param]]]) -> str:
    """Markdown: one heading and one three-column table per section."""
    blocks = []
    for title, params in sections:
        rows = [f"### {title}", "", "| Name | Description | Default |", "|---|---|---|"]
        for param in params:
            default = param.default.replace("|", "\\|")
            rows.append(f"| `{param.key}` | {param.description} | `{default}` |")
        blocks.append("\n".join(rows))
    return "\n\n".join(blocks)


def updated_readme(readme: str, table: str) -> str:
    """The README with the text between the markers replaced by ``table``."""
    head, _, rest = readme.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{table}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the README")
    args = parser.parse_args(argv)

    readme_file = CHART / "README.md"
    readme = readme_file.read_text()
    wanted = updated_readme(readme, render_table(read_params(CHART / "values.yaml")))
    if args.write:
        readme_file.write_text(wanted)
        return 0
    if wanted != readme:
        print("charts/ml-services/README.md is stale: run make chart-readme")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
