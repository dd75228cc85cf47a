"""Alert rules under promtool, and the dashboard's queries against a live service.

The dashboard may only name metrics a running service really exports: the names come
from the /metrics of an app built by the shared core (metrics_app.py). A real
Prometheus, started on loopback, scrapes that app served by gunicorn, loads the
rendered alert rules and answers every dashboard query.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from .conftest import CHART, PIP_HINT, REPO, by_kind, require_tool, run_tool, scenario
from .metrics_app import create_app

DASHBOARD = CHART / "files" / "dashboard.json"
# Grafana variables replaced by what Grafana would send for "all services".
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$service": ".*"}
# Series that come from kube-state-metrics, not from the services.
KUBE_STATE_METRICS = {
    "kube_deployment_status_replicas_available",
    "kube_deployment_spec_replicas",
}

promql_parser = pytest.importorskip(
    "promql_parser",
    reason=f"promql-parser is not installed: {PIP_HINT}",
)


def rendered_rules(render) -> dict:
    rule = by_kind(render(scenario("production")), "PrometheusRule")[
        "attendance-ml-services"
    ]
    return {"groups": rule["spec"]["groups"]}


@pytest.fixture
def rules_dir(render, tmp_path) -> Path:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rendered_rules(render)))
    shutil.copy(Path(__file__).with_name("alert_rules_test.yaml"), tmp_path)
    return tmp_path


def test_alert_rules_pass_promtool_check(rules_dir):
    promtool = require_tool("promtool")

    result = run_tool(promtool, "check", "rules", str(rules_dir / "rules.yaml"))

    assert "SUCCESS: 5 rules found" in result.stdout


def test_alert_rules_fire_as_the_unit_tests_expect(rules_dir):
    promtool = require_tool("promtool")

    result = run_tool(promtool, "test", "rules", "alert_rules_test.yaml", cwd=rules_dir)

    assert "SUCCESS" in result.stdout


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]


def grafana_free(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def metric_names(expr: str) -> set[str]:
    """Names of the series an expression selects, from its parsed syntax tree."""
    return {
        node.name
        for node in _walk(promql_parser.parse(expr))
        if isinstance(node, promql_parser.VectorSelector) and node.name
    }


def _walk(node):
    yield node
    for attribute in ("expr", "lhs", "rhs", "param", "vector_selector"):
        child = getattr(node, attribute, None)
        if isinstance(child, promql_parser.Expr):
            yield from _walk(child)
    for child in getattr(node, "args", None) or []:
        yield from _walk(child)


def exported_names(metrics_text: str) -> set[str]:
    """Every series name a scrape of this text can produce."""
    names = set()
    for family in text_string_to_metric_families(metrics_text):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
        if family.type == "counter":
            names.add(family.name + "_total")
        if family.type == "histogram":
            names.update(
                family.name + suffix for suffix in ("_bucket", "_count", "_sum")
            )
    return names


@pytest.fixture(scope="module")
def live_metrics() -> str:
    app = create_app({"ATTENDANCE_LOG_LEVEL": "WARNING"})
    client = app.test_client()
    assert client.post("/probe").status_code == 200
    assert client.get("/fail").status_code == 500
    return client.get("/metrics").get_data(as_text=True)


def test_the_dashboard_configmap_ships_the_dashboard_file(render):
    config_map = by_kind(render(scenario("production")), "ConfigMap")[
        "attendance-ml-services-dashboard"
    ]

    assert json.loads(config_map["data"]["attendance-ml-services.json"]) == json.loads(
        DASHBOARD.read_text()
    )


def test_every_dashboard_query_parses():
    queries = dashboard_queries()

    assert len(queries) >= 9
    for expr in queries:
        promql_parser.parse(grafana_free(expr))


def test_dashboard_and_rules_name_only_metrics_the_services_export(
    render, live_metrics
):
    exported = exported_names(live_metrics)
    rule_exprs = [
        rule["expr"]
        for group in rendered_rules(render)["groups"]
        for rule in group["rules"]
    ]

    for expr in dashboard_queries() + rule_exprs:
        selected = metric_names(grafana_free(expr))
        assert selected, f"no metric found in {expr}"
        names = selected - KUBE_STATE_METRICS
        assert names <= exported, f"{expr} names {names - exported}, not exported"


# Builds one real service app (models load on a background thread), prints its
# /metrics and exits at once, so no model finishes loading in the test run.
SERVICE_METRICS_PROBE = """
import os, sys
module = __import__(f"attendance_ml.{sys.argv[1]}.app", fromlist=["create_app"])
app = module.create_app({
    "ATTENDANCE_DATA_DIR": sys.argv[2],
    "ATTENDANCE_LOG_LEVEL": "ERROR",
    "ATTENDANCE_LOAD_IN_BACKGROUND": "true",
})
sys.stdout.write(app.test_client().get("/metrics").get_data(as_text=True))
sys.stdout.flush()
os._exit(0)
"""


@pytest.mark.parametrize("service", ["face", "detection", "sentiment", "gateway"])
def test_each_real_service_exports_what_dashboard_and_rules_query(
    render, service, tmp_path
):
    if importlib.util.find_spec(f"attendance_ml.{service}.app") is None:
        pytest.skip(f"attendance_ml.{service}.app is not in this tree yet")
    result = subprocess.run(
        [sys.executable, "-c", SERVICE_METRICS_PROBE, service, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    exported = exported_names(result.stdout)
    rule_exprs = [
        rule["expr"]
        for group in rendered_rules(render)["groups"]
        for rule in group["rules"]
    ]
    wanted = set().union(
        *(metric_names(grafana_free(e)) for e in dashboard_queries() + rule_exprs)
    )

    missing = wanted - exported - KUBE_STATE_METRICS
    assert not missing, f"{service} does not export {sorted(missing)}"


def test_the_metric_check_catches_an_unknown_name(live_metrics):
    names = metric_names('sum(rate(flask_http_requests_total{service="face"}[5m]))')

    assert not names <= exported_names(live_metrics)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def stop(process: subprocess.Popen, how: signal.Signals) -> None:
    """Stop a server this test started; kill it if it lingers."""
    process.send_signal(how)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture
def gunicorn_service(tmp_path):
    """metrics_app served by gunicorn with the services' gunicorn settings."""
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "python:attendance_ml.core.gunicorn_conf",
            "--bind",
            f"127.0.0.1:{port}",
            "--chdir",
            str(Path(__file__).parent),
            "metrics_app:create_app()",
        ],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: get_json(f"{base}/health")["status"] == "ok", 30, "gunicorn")
        yield base
    finally:
        # INT is gunicorn's quick shutdown: no grace period for open keep-alives.
        stop(process, signal.SIGINT)
        log.close()


@pytest.fixture
def prometheus(tmp_path, render, gunicorn_service):
    """A real Prometheus scraping the service every second, with the chart's rules."""
    binary = require_tool("prometheus")
    port = free_port()
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rendered_rules(render)))
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(tmp_path / "rules.yaml")],
        "scrape_configs": [
            {
                "job_name": "attendance-face",
                "static_configs": [
                    {"targets": [gunicorn_service.removeprefix("http://")]}
                ],
            }
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    log = (tmp_path / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process, signal.SIGTERM)
        log.close()


def query(prometheus: str, expr: str) -> list:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    body = get_json(url)
    assert body["status"] == "success", body
    return body["data"]["result"]


@pytest.mark.slow
def test_prometheus_scrapes_the_service_and_answers_every_dashboard_query(
    gunicorn_service, prometheus
):
    for _ in range(5):
        request = urllib.request.Request(
            f"{gunicorn_service}/probe", data=b"", method="POST"
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
    with pytest.raises(urllib.error.HTTPError) as failure:
        urllib.request.urlopen(f"{gunicorn_service}/fail", timeout=5)
    assert failure.value.code == 500
    failure.value.close()

    up = wait_for(
        lambda: query(prometheus, 'up{job="attendance-face"} == 1'),
        60,
        "the first scrape",
    )
    assert len(up) == 1
    ready = wait_for(
        lambda: query(prometheus, "attendance_service_ready"), 30, "service metrics"
    )
    assert [(r["metric"]["service"], r["value"][1]) for r in ready] == [("face", "1")]
    wait_for(
        lambda: query(prometheus, "count_over_time(attendance_service_ready[1m]) >= 3"),
        30,
        "three scrapes",
    )

    for expr in dashboard_queries():
        uses_failures = "attendance_model_load_failures_total" in expr
        result = query(prometheus, grafana_free(expr))
        assert bool(result) is not uses_failures, f"{expr} -> {result}"

    rules = get_json(f"{prometheus}/api/v1/rules")["data"]["groups"]
    assert [rule["health"] for group in rules for rule in group["rules"]] == ["ok"] * 5
