"""Gateway benchmark: /api/analyze/all beside each single service call, then load.

Starts every service and the gateway with ``attendance-serve`` on free loopback
ports, enrols one student, and times on one 640x480 one-face frame:

1. latency, p50 and p95 in ms, of analyze/all and of each single call it makes
   (face verify, passive liveness, ID card, phone, sentiment), interleaved in the
   same rounds through the gateway, plus the sum of the single calls (what a client
   calling them one after another pays). Target: analyze/all p50 at most 1.3x the
   slowest single call's p50;
2. throughput: ``--clients`` concurrent clients calling analyze/all for
   ``--duration`` seconds: requests per second, p50/p95, errors (non-200), degraded
   answers, and the resident memory of each service at the start and the end.

Usage: ``python benchmarks/gateway_benchmark.py [--rounds 30] [--clients 8]
[--duration 60]``. Needs ../shared/data.
"""

from __future__ import annotations

import argparse
import base64
import io
import socket
import statistics
import threading
import time
from collections import defaultdict
from pathlib import Path

import psutil
import requests
from attendance_ml.gateway.demo import DEFAULT_DATA, enrol, running_stack
from PIL import Image

EXAMPLES = DEFAULT_DATA / "faces" / "face_recognition_examples" / "examples"
SINGLE_CALLS = {
    "face verify": "/api/face/verify",
    "face liveness": "/api/face/liveness",
    "ID card": "/api/object-detection/idcard",
    "phone": "/api/object-detection/phone",
    "sentiment": "/api/sentiment/analyze",
}
STUDENT = "obama"


def frame_640x480(path: Path) -> str:
    """The photo centre-cropped and resized to 640x480, as base64 JPEG."""
    image = Image.open(path).convert("RGB")
    width, height = image.size
    target = 640 / 480
    if width / height > target:
        new_width = int(height * target)
        left = (width - new_width) // 2
        image = image.crop((left, 0, left + new_width, height))
    image = image.resize((640, 480), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def timed_post(session: requests.Session, url: str, body: dict) -> tuple[float, dict]:
    started = time.perf_counter()
    response = session.post(url, json=body, timeout=120)
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, {"status": response.status_code} | response.json()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def latency_rounds(gateway: str, image: str, rounds: int) -> dict[str, list[float]]:
    session = requests.Session()
    payloads = {
        "analyze/all": ("/api/analyze/all", {"image": image, "studentId": STUDENT}),
        **{
            name: (
                path,
                {"image": image} | ({"studentId": STUDENT} if "verify" in path else {}),
            )
            for name, path in SINGLE_CALLS.items()
        },
    }
    for path, body in payloads.values():
        for _ in range(2):
            timed_post(session, gateway + path, body)

    times: dict[str, list[float]] = defaultdict(list)
    for _ in range(rounds):
        singles = 0.0
        for name, (path, body) in payloads.items():
            ms, answer = timed_post(session, gateway + path, body)
            if answer["status"] != 200:
                raise RuntimeError(
                    f"{name}: HTTP {answer['status']} {answer.get('code')}"
                )
            times[name].append(ms)
            if name != "analyze/all":
                singles += ms
        times["sum of single calls"].append(singles)
    return times


def service_memory(supervisor_pid: int) -> dict[str, float]:
    """Resident memory in MiB of each service's gunicorn (master and workers)."""
    memory: dict[str, float] = defaultdict(float)
    for child in psutil.Process(supervisor_pid).children(recursive=True):
        try:
            command = " ".join(child.cmdline())
            name = command.split("--name attendance-")[1].split()[0]
            memory[name] += child.memory_info().rss / 2**20
        except (IndexError, psutil.Error):
            continue
    return dict(memory)


def load(gateway: str, image: str, clients: int, duration: float) -> dict:
    deadline = time.monotonic() + duration
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    degraded = 0

    def client() -> None:
        nonlocal degraded
        session = requests.Session()
        body = {"image": image, "studentId": STUDENT}
        while time.monotonic() < deadline:
            try:
                ms, answer = timed_post(session, gateway + "/api/analyze/all", body)
            except requests.RequestException as error:
                with lock:
                    errors.append(type(error).__name__)
                continue
            with lock:
                if answer["status"] != 200:
                    errors.append(str(answer.get("code")))
                else:
                    latencies.append(ms)
                    degraded += bool(answer["degraded"])

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {
        "requests": len(latencies) + len(errors),
        "rps": len(latencies) / elapsed,
        "p50": percentile(latencies, 0.5) if latencies else float("nan"),
        "p95": percentile(latencies, 0.95) if latencies else float("nan"),
        "errors": errors,
        "degraded": degraded,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the gateway.")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=60.0)
    args = parser.parse_args()

    ports = {
        name: free_port() for name in ("face", "detection", "sentiment", "gateway")
    }
    image = frame_640x480(EXAMPLES / "obama-480p.jpg")
    with running_stack(ports=ports) as stack:
        gateway = stack.gateway_url
        enrol(gateway, STUDENT, [EXAMPLES / "obama.jpg", EXAMPLES / "obama2.jpg"])

        times = latency_rounds(gateway, image, args.rounds)
        print(f"\nLatency, one 640x480 frame, {args.rounds} rounds, ms, via gateway")
        print(f"{'call':<22}{'p50':>9}{'p95':>9}")
        for name, values in times.items():
            p50, p95 = statistics.median(values), percentile(values, 0.95)
            print(f"{name:<22}{p50:>9.1f}{p95:>9.1f}")
        slowest = max(statistics.median(times[name]) for name in SINGLE_CALLS)
        ratio = statistics.median(times["analyze/all"]) / slowest
        print(f"analyze/all p50 / slowest single p50 = {ratio:.2f} (target <= 1.30)")

        memory_before = service_memory(stack.process.pid)
        result = load(gateway, image, args.clients, args.duration)
        memory_after = service_memory(stack.process.pid)

    print(f"\nLoad: {args.clients} clients, analyze/all, {args.duration:.0f} s")
    print(
        f"requests {result['requests']}, {result['rps']:.2f}/s, "
        f"p50 {result['p50']:.0f} ms, p95 {result['p95']:.0f} ms, "
        f"errors {len(result['errors'])}, "
        f"degraded answers {result['degraded']}"
    )
    if result["errors"]:
        print(f"error codes: {sorted(set(result['errors']))}")
    print(f"\n{'service':<12}{'RSS before MiB':>16}{'RSS after MiB':>16}")
    for name in sorted(memory_before):
        print(
            f"{name:<12}{memory_before[name]:>16.0f}{memory_after.get(name, 0):>16.0f}"
        )


if __name__ == "__main__":
    main()
