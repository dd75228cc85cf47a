"""``attendance-serve``: every service and the gateway on this machine, in one command.

Starts face (5001), detection (5002), sentiment (5003) and the gateway (8080), each
under its own gunicorn with the shared settings, and points the gateway at the
others. Their logs are streamed with the service's name in front. Ctrl-C or SIGTERM
stops all of them (gracefully, then by force after ``STOP_TIMEOUT_SECONDS``). A
service whose package is not installed is reported and skipped; one that exits is
reported and the others keep running. Ports can be moved with
``ATTENDANCE_<SERVICE>_PORT``.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO

STOP_TIMEOUT_SECONDS = 30.0
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class ServiceSpec:
    """One service: its name, the module holding ``create_app`` and its port."""

    name: str
    module: str
    port: int
    threads: int | None = None


DEFAULT_SERVICES = (
    ServiceSpec("face", "attendance_ml.face.app", 5001),
    ServiceSpec("detection", "attendance_ml.detection.app", 5002),
    ServiceSpec("sentiment", "attendance_ml.sentiment.app", 5003),
    # The gateway waits on the others, so it gets more threads than CPU-bound services.
    ServiceSpec("gateway", "attendance_ml.gateway.app", 8080, threads=16),
)


def is_installed(module: str) -> bool:
    """True when ``module`` can be imported (its package exists)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def with_port_overrides(
    specs: Sequence[ServiceSpec], environ: Mapping[str, str]
) -> list[ServiceSpec]:
    """Apply ``ATTENDANCE_<SERVICE>_PORT`` to the embedded defaults."""
    result = []
    for spec in specs:
        name = f"ATTENDANCE_{spec.name.upper()}_PORT"
        value = environ.get(name, "").strip()
        if value and not (value.isdigit() and 0 < int(value) < 65536):
            raise ValueError(f"{name}={value!r} is not a port number (1-65535)")
        port = int(value) if value else spec.port
        result.append(ServiceSpec(spec.name, spec.module, port, spec.threads))
    return result


def child_environment(
    specs: Sequence[ServiceSpec], environ: Mapping[str, str]
) -> dict[str, str]:
    """The environment for every child: the gateway finds the services on loopback."""
    env = dict(environ)
    for spec in specs:
        if spec.name != "gateway":
            key = f"ATTENDANCE_GATEWAY_{spec.name.upper()}_URL"
            env.setdefault(key, f"http://127.0.0.1:{spec.port}")
    # Every service shares this machine's cores: queue fan-outs at the gateway
    # rather than let a burst time out inside the services.
    env.setdefault("ATTENDANCE_GATEWAY_ANALYZE_MAX_IN_FLIGHT", "2")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def gunicorn_command(spec: ServiceSpec, host: str) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:attendance_ml.core.gunicorn_conf",
        "--bind",
        f"{host}:{spec.port}",
        "--name",
        f"attendance-{spec.name}",
    ]
    if spec.threads:
        command += ["--threads", str(spec.threads)]
    return [*command, f"{spec.module}:create_app()"]


class Supervisor:
    """Owns the child processes: start, stream their logs, stop them all."""

    def __init__(self, host: str, out: IO[str]) -> None:
        self.host = host
        self.out = out
        self.children: dict[str, subprocess.Popen] = {}
        self._write_lock = threading.Lock()
        self._stop = threading.Event()

    def say(self, name: str, line: str) -> None:
        with self._write_lock:
            self.out.write(f"{name:<10}| {line.rstrip()}\n")
            self.out.flush()

    def start(self, specs: Sequence[ServiceSpec], env: Mapping[str, str]) -> None:
        for spec in specs:
            if not is_installed(spec.module):
                self.say(
                    "supervisor",
                    f"{spec.name}: {spec.module} is not installed; "
                    "skipped, the others start",
                )
                continue
            process = subprocess.Popen(
                gunicorn_command(spec, self.host),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(env),
                text=True,
                bufsize=1,
                start_new_session=True,
                preexec_fn=_stop_with_parent,
            )
            self.children[spec.name] = process
            threading.Thread(
                target=self._pump, args=(spec.name, process), daemon=True
            ).start()
            self.say(
                "supervisor",
                f"{spec.name}: pid {process.pid}, http://{self.host}:{spec.port}",
            )

    def _pump(self, name: str, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.say(name, line)

    def request_stop(self, signum: int, _frame=None) -> None:
        self.say("supervisor", f"{signal.Signals(signum).name}: stopping every service")
        self._stop.set()

    def watch(self) -> int:
        """Block until asked to stop or until every child has exited; the exit code."""
        running = dict(self.children)
        while running and not self._stop.wait(0.2):
            for name, process in list(running.items()):
                code = process.poll()
                if code is not None:
                    self.say("supervisor", f"{name}: exited with code {code}")
                    del running[name]
        if not self._stop.is_set():
            self.say("supervisor", "no service is running any more")
            return 1
        return 0

    def stop_all(self) -> None:
        """SIGTERM to each child's process group, then SIGKILL after the timeout."""
        for process in self.children.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for name, process in self.children.items():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say("supervisor", f"{name}: did not stop in time; killed")
                _signal_group(process, signal.SIGKILL)
                process.wait()
        self.say("supervisor", "all services stopped")


def _stop_with_parent() -> None:
    """In the child: get SIGTERM if the supervisor dies, even by SIGKILL (Linux)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def run(
    specs: Sequence[ServiceSpec],
    host: str = "127.0.0.1",
    environ: Mapping[str, str] | None = None,
    out: IO[str] = sys.stdout,
) -> int:
    """Start ``specs``, stream their logs until SIGINT/SIGTERM, then stop them all."""
    environ = os.environ if environ is None else environ
    supervisor = Supervisor(host, out)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    try:
        supervisor.start(specs, child_environment(specs, environ))
        if not supervisor.children:
            supervisor.say("supervisor", "nothing could be started")
            return 1
        return supervisor.watch()
    finally:
        supervisor.stop_all()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="attendance-serve",
        description="Run the face, detection and sentiment services and the gateway.",
    )
    names = [spec.name for spec in DEFAULT_SERVICES]
    parser.add_argument(
        "--only",
        default=",".join(names),
        help=f"comma-separated services to run (default: {','.join(names)})",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)"
    )
    args = parser.parse_args(argv)

    wanted = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = wanted - set(names)
    if unknown:
        parser.error(f"unknown service(s): {', '.join(sorted(unknown))}")
    try:
        specs = with_port_overrides(DEFAULT_SERVICES, os.environ)
    except ValueError as error:
        parser.error(str(error))
    return run([spec for spec in specs if spec.name in wanted], args.host)


if __name__ == "__main__":
    sys.exit(main())
