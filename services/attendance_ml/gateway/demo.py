"""``make demo``: the whole system on this machine, on real photos, end to end.

Starts every service and the gateway with ``attendance-serve`` (state in a fresh
temporary data directory), waits until the gateway reports every service ready,
enrols a few students from ``faces/lfw_mini`` (three photos each), then runs
``/api/analyze/all`` on unseen photos of enrolled students, on people who were never
enrolled, on a student wearing an ID card and on classroom frames with phones, and
prints the assessments. Stops everything on exit.
"""

from __future__ import annotations

import argparse
import base64
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

DEFAULT_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"


@dataclass(frozen=True)
class Stack:
    """A running supervisor and where its gateway listens."""

    process: subprocess.Popen
    gateway_url: str


@contextmanager
def running_stack(
    ports: Mapping[str, int] | None = None,
    data_dir: Path | None = None,
    log_file: Path | None = None,
    ready_timeout: float = 300.0,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[Stack]:
    """Start ``attendance-serve``; yield once ``/health`` is ok; stop it afterwards."""
    ports = dict(ports or {})
    with tempfile.TemporaryDirectory(prefix="attendance-demo-") as scratch:
        env = dict(os.environ)
        env["ATTENDANCE_DATA_DIR"] = str(data_dir or Path(scratch) / "data")
        env.setdefault("ATTENDANCE_GATEWAY_RATE_LIMIT_ENABLED", "false")
        env.update(
            {f"ATTENDANCE_{name.upper()}_PORT": str(p) for name, p in ports.items()}
        )
        env.update(extra_env or {})
        log_path = log_file or Path(scratch) / "serve.log"
        with open(log_path, "w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "attendance_ml.core.supervisor"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
            )
            stack = Stack(process, f"http://127.0.0.1:{ports.get('gateway', 8080)}")
            try:
                wait_until_healthy(stack, ready_timeout, log_path)
                yield stack
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def wait_until_healthy(stack: Stack, timeout: float, log_path: Path) -> None:
    """Poll the gateway's aggregated ``/health`` until every service is ok."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            raise RuntimeError(f"attendance-serve exited; see {log_path}")
        try:
            response = requests.get(f"{stack.gateway_url}/health", timeout=5)
            if response.status_code == 200:
                return
            last = str(response.json().get("services"))
        except requests.RequestException as error:
            last = type(error).__name__
        time.sleep(1.0)
    tail = log_path.read_text()[-3000:]
    raise TimeoutError(f"services not ready after {timeout:.0f} s: {last}\n{tail}")


def encode(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


def enrol(gateway_url: str, student_id: str, photos: list[Path]) -> list[dict]:
    """Register each photo on its own, so one unusable photo does not sink the rest."""
    results = []
    for photo in photos:
        response = requests.post(
            f"{gateway_url}/api/face/register",
            json={"studentId": student_id, "image": encode(photo)},
            timeout=60,
        )
        results.append({"status": response.status_code} | response.json())
    return results


def analyze_all(gateway_url: str, photo: Path, student_id: str | None = None) -> dict:
    body = {"image": encode(photo), "sessionId": "demo"}
    if student_id:
        body["studentId"] = student_id
    response = requests.post(f"{gateway_url}/api/analyze/all", json=body, timeout=60)
    return {"status": response.status_code} | response.json()


def lfw_people(data: Path) -> list[tuple[str, list[Path]]]:
    root = data / "faces" / "lfw_mini" / "images"
    return [
        (person.name, sorted(person.glob("*.jpg")))
        for person in sorted(root.iterdir())
        if person.is_dir()
    ]


def demo_probes(data: Path, enrolled: int) -> list[tuple[str, Path, str | None]]:
    """(label, photo, claimed student id) for analyze/all."""
    people = lfw_people(data)
    probes = [
        (f"enrolled {name}", photos[-1], name) for name, photos in people[:enrolled]
    ]
    probes += [
        (f"never enrolled {name}", photos[0], None)
        for name, photos in people[enrolled : enrolled + 2]
    ]
    impostor_name, impostor_photos = people[enrolled + 2]
    probes.append(
        (f"{impostor_name} claiming {people[0][0]}", impostor_photos[0], people[0][0])
    )
    cards = sorted((data / "idcard_lanyard").rglob("*.jpg"))[:2]
    probes += [("lanyard ID card", photo, None) for photo in cards]
    phones = sorted((data / "classroom_phone").rglob("sample_3*.jpg"))[:2]
    probes += [("classroom with phones", photo, None) for photo in phones]
    return probes


def print_assessment(label: str, result: dict) -> None:
    if result.get("status") != 200:
        print(f"{label:<44} HTTP {result['status']} {result.get('code')}")
        return
    assessment = result["assessment"]
    liveness = (result.get("liveness") or {}).get("decision")
    print(
        f"{label:<44} verified={_show(assessment['studentVerified']):<5} "
        f"idCard={_show(assessment['idCardVisible']):<5} "
        f"phone={_show(assessment['phoneDetected']):<5} "
        f"engagement={_show(assessment['engagement']):<6} "
        f"attention={_show(result['attention']):<6} "
        f"liveness={_show(liveness):<9} "
        f"degraded={','.join(result['degraded']) or '-'} "
        f"{result['timings']['total']:.0f} ms"
    )


def _show(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--students", type=int, default=5)
    args = parser.parse_args(argv)
    if not (args.data / "faces" / "lfw_mini").is_dir():
        print(f"no photo set at {args.data} (give --data PATH)", file=sys.stderr)
        return 2

    print("starting every service and the gateway (models load: about a minute)")
    # Whole phone photos (12 MP) take longer than webcam frames: wait for them.
    timeouts = {
        f"ATTENDANCE_GATEWAY_ANALYZE_{part}_TIMEOUT_SECONDS": "30"
        for part in ("FACE", "LIVENESS", "IDCARD", "PHONE", "SENTIMENT")
    }
    with running_stack(extra_env=timeouts) as stack:
        print(f"ready: {stack.gateway_url}\n")
        for name, photos in lfw_people(args.data)[: args.students]:
            results = enrol(stack.gateway_url, name, photos[:3])
            taken = sum(result["status"] == 201 for result in results)
            refused = [
                result.get("code") for result in results if result["status"] != 201
            ]
            print(
                f"enrol {name:<30} {taken} photo(s) enrolled; refused: {refused or '-'}"
            )
        print()
        for label, photo, claimed in demo_probes(args.data, args.students):
            print_assessment(label, analyze_all(stack.gateway_url, photo, claimed))
    print("\nall services stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
