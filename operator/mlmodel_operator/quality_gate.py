"""The quality gate: a regression set replayed against a canary pod, scored, floored.

A regression set is a JSON document the spec names by URI (a file on a volume
mounted into the operator, or http(s) with a sha256)::

    {"name": "phones-2026-11",
     "cases": [{"path": "/detect/phone",
                "body": {"image": "<base64 JPEG>"},
                "expect": {"pointer": "/phoneDetected", "equals": true}}]}

Each case is POSTed to the candidate pod; it matches when the answer is 2xx and
the JSON value at ``pointer`` (RFC 6901) equals ``equals``. accuracy = matching
cases / cases; recall = matching positive cases / positive cases, where a case
is positive when ``positive`` says so or, by default, when ``equals`` is truthy.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import aiohttp

from mlmodel_operator.pods import PodProbe
from mlmodel_operator.spec import QualityGate


class RegressionSetError(Exception):
    """The regression set could not be fetched, verified or read."""


@dataclass(frozen=True)
class GateResult:
    """The score of one run: ``value`` of ``metric`` over ``cases`` cases, 0-1."""

    metric: str
    value: float
    cases: int
    passed: bool
    message: str


async def load_regression_set(gate: QualityGate, timeout_seconds: float) -> list[dict]:
    """Fetch and verify the regression set; return its cases."""
    parsed = urlparse(gate.uri)
    try:
        if parsed.scheme == "file":
            data = Path(unquote(parsed.path)).read_bytes()
        else:
            timeout = aiohttp.ClientTimeout(total=timeout_seconds)
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(gate.uri) as response,
            ):
                if response.status != 200:
                    raise RegressionSetError(f"{gate.uri}: HTTP {response.status}")
                data = await response.read()
    except (OSError, aiohttp.ClientError, TimeoutError) as error:
        raise RegressionSetError(f"{gate.uri}: {error}") from error

    if gate.sha256 and hashlib.sha256(data).hexdigest() != gate.sha256:
        raise RegressionSetError(f"{gate.uri}: sha256 does not match")
    try:
        cases = json.loads(data)["cases"]
    except (ValueError, KeyError, TypeError) as error:
        raise RegressionSetError(
            f"{gate.uri}: not a regression set: {error}"
        ) from error
    if not isinstance(cases, list) or not all(isinstance(c, dict) for c in cases):
        raise RegressionSetError(f"{gate.uri}: cases must be a list of objects")
    return cases


def resolve_pointer(document: Any, pointer: str) -> Any:
    """The value at an RFC 6901 JSON pointer; KeyError when there is none."""
    value = document
    for raw in pointer.split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        elif isinstance(value, dict) and token in value:
            value = value[token]
        else:
            raise KeyError(pointer)
    return value


def case_matches(case: dict[str, Any], status: int, body: Any) -> bool:
    if not 200 <= status < 300:
        return False
    expect = case.get("expect") or {}
    try:
        return resolve_pointer(body, expect.get("pointer", "")) == expect.get("equals")
    except KeyError:
        return False


def is_positive(case: dict[str, Any]) -> bool:
    if "positive" in case:
        return bool(case["positive"])
    return bool((case.get("expect") or {}).get("equals"))


def score(gate: QualityGate, cases: list[dict], outcomes: list[bool]) -> GateResult:
    """Compute the gate's metric from per-case outcomes and compare with the floor."""
    if gate.metric == "recall":
        scored = [
            ok for case, ok in zip(cases, outcomes, strict=True) if is_positive(case)
        ]
    else:
        scored = outcomes
    value = sum(scored) / len(scored) if scored else 0.0
    enough = len(scored) >= gate.min_cases
    passed = enough and value >= gate.floor
    if not enough:
        message = f"{len(scored)} scored cases, fewer than minCases {gate.min_cases}"
    else:
        verdict = "meets" if passed else "is below"
        message = (
            f"{gate.metric} {value:.3f} over {len(scored)} cases "
            f"{verdict} the floor {gate.floor:.3f}"
        )
    return GateResult(gate.metric, round(value, 4), len(scored), passed, message)


async def run_gate(
    gate: QualityGate,
    probe: PodProbe,
    pod: dict[str, Any],
    port: int,
    timeout_seconds: float,
) -> GateResult:
    """Replay every case against ``pod`` and score the answers.

    A case whose request fails (timeout, refused) counts as a miss.
    """
    cases = await load_regression_set(gate, timeout_seconds)
    outcomes = []
    for case in cases:
        try:
            status, body = await probe.post_json(
                pod, port, str(case.get("path", "/")), case.get("body")
            )
        except (aiohttp.ClientError, TimeoutError):
            outcomes.append(False)
            continue
        outcomes.append(case_matches(case, status, body))
    return score(gate, cases, outcomes)
