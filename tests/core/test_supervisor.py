"""attendance-serve: starts what is installed, streams logs, stops everything."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time

import requests
from attendance_ml.core.supervisor import (
    DEFAULT_SERVICES,
    ServiceSpec,
    child_environment,
    gunicorn_command,
    is_installed,
    with_port_overrides,
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_missing_service_package_is_detected():
    assert is_installed("attendance_ml.gateway.app")
    assert not is_installed("attendance_ml.no_such_service.app")
    assert not is_installed("attendance_ml.gateway.no_such_module")


def test_ports_can_be_moved_and_the_gateway_follows():
    specs = with_port_overrides(DEFAULT_SERVICES, {"ATTENDANCE_FACE_PORT": "6001"})
    env = child_environment(specs, {"ATTENDANCE_GATEWAY_SENTIMENT_URL": "http://s:1"})

    assert [spec.port for spec in specs] == [6001, 5002, 5003, 8080]
    assert env["ATTENDANCE_GATEWAY_FACE_URL"] == "http://127.0.0.1:6001"
    assert env["ATTENDANCE_GATEWAY_DETECTION_URL"] == "http://127.0.0.1:5002"
    assert env["ATTENDANCE_GATEWAY_SENTIMENT_URL"] == "http://s:1"


def test_gateway_runs_under_gunicorn_with_the_shared_settings():
    command = gunicorn_command(
        ServiceSpec("gateway", "m.app", 8080, threads=16), "0.0.0.0"
    )

    assert command[1:] == [
        "-m",
        "gunicorn",
        "-c",
        "python:attendance_ml.core.gunicorn_conf",
        "--bind",
        "0.0.0.0:8080",
        "--name",
        "attendance-gateway",
        "--threads",
        "16",
        "m.app:create_app()",
    ]


def test_serve_skips_a_missing_package_streams_logs_and_sigterm_stops_all(tmp_path):
    port = _free_port()
    script = textwrap.dedent(
        f"""
        import sys
        from attendance_ml.core.supervisor import ServiceSpec, run
        specs = [
            ServiceSpec("ghost", "attendance_ml.ghost.app", {_free_port()}),
            ServiceSpec("gateway", "attendance_ml.gateway.app", {port}),
        ]
        sys.exit(run(specs))
        """
    )
    env = dict(os.environ, ATTENDANCE_DATA_DIR=str(tmp_path))
    supervisor = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(supervisor.stdout), daemon=True
    )
    reader.start()
    try:
        _wait_for(f"http://127.0.0.1:{port}/health/live", timeout=60)
        gunicorn_pid = _child_pid(lines, "gateway")

        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(45) == 0
    finally:
        if supervisor.poll() is None:
            supervisor.send_signal(signal.SIGTERM)
            supervisor.wait(45)
    reader.join(5)
    supervisor.stdout.close()

    output = "".join(lines)
    assert "ghost: attendance_ml.ghost.app is not installed; skipped" in output
    assert any(line.startswith("gateway   | ") for line in lines)
    assert "all services stopped" in output
    assert not _alive(gunicorn_pid)
    assert not _listening(port)


def test_children_stop_when_the_supervisor_is_killed(tmp_path):
    port = _free_port()
    script = textwrap.dedent(
        f"""
        import sys
        from attendance_ml.core.supervisor import ServiceSpec, run
        sys.exit(run([ServiceSpec("gateway", "attendance_ml.gateway.app", {port})]))
        """
    )
    supervisor = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, ATTENDANCE_DATA_DIR=str(tmp_path)),
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/health/live", timeout=60)
    finally:
        supervisor.kill()
        supervisor.wait(10)

    deadline = time.monotonic() + 30
    while _listening(port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _listening(port)


def _wait_for(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def _child_pid(lines: list[str], name: str) -> int:
    for line in list(lines):
        if line.startswith("supervisor") and f"{name}: pid " in line:
            return int(line.split(f"{name}: pid ")[1].split(",")[0])
    raise AssertionError(f"no pid reported for {name}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
