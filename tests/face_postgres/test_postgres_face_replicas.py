"""Two face-service processes (gunicorn) on one PostgreSQL gallery, real faces."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests
from face_postgres_support import GRACE_HOPPER, b64_file, free_port, wait_until

UNAVAILABLE = "The gallery database is unreachable or the index is resynchronising."


class Replica:
    """One gunicorn face service on 127.0.0.1, started and stopped by the test."""

    def __init__(self, name: str, database_url: str, workdir: Path) -> None:
        self.name = name
        self.base = f"http://127.0.0.1:{free_port()}"
        env = {
            **os.environ,
            "ATTENDANCE_FACE_DATABASE_URL": database_url,
            "ATTENDANCE_DATA_DIR": str(workdir / name),
            "ATTENDANCE_LOAD_IN_BACKGROUND": "true",
            "ATTENDANCE_LOG_LEVEL": "WARNING",
            "ATTENDANCE_THREADS": "4",
        }
        self.log = open(workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn",
                "-c", "python:attendance_ml.core.gunicorn_conf",
                "--bind", self.base.removeprefix("http://"),
                "attendance_ml.face.app:create_app()",
            ],
            env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def get(self, path: str) -> requests.Response:
        return requests.get(self.base + path, timeout=30)

    def post(self, path: str, body: dict) -> requests.Response:
        return requests.post(self.base + path, json=body, timeout=60)

    def ready(self) -> bool:
        try:
            return self.get("/health/ready").status_code == 200
        except requests.ConnectionError:
            return False

    def knows(self, student_id: str) -> bool:
        """Whether this replica's in-memory index holds the student (no face work)."""
        answer = self.post("/api/face/liveness/challenge", {"studentId": student_id})
        return answer.status_code == 201

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)  # gunicorn: quick shutdown
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture(scope="module")
def replicas(postgres_cluster):
    url = postgres_cluster.create_database("face_replicas")
    workdir = Path(tempfile.mkdtemp(prefix="attendance-face-replicas-"))
    started = [Replica(name, url, workdir) for name in ("a", "b")]
    try:
        for replica in started:
            if wait_until(replica.ready, timeout=240) is None:
                log = (workdir / f"{replica.name}.log").read_text(errors="replace")
                pytest.fail(
                    f"replica {replica.name} never became ready:\n{log[-3000:]}"
                )
        yield started
    finally:
        for replica in started:
            replica.stop()


@pytest.fixture(scope="module")
def hopper_b64() -> str:
    return b64_file(GRACE_HOPPER)


def test_student_registered_on_one_replica_is_recognised_by_the_other(
    replicas, hopper_b64
):
    first, second = replicas

    registered = first.post(
        "/api/face/register", {"studentId": "hopper", "image": hopper_b64}
    )
    seconds = wait_until(lambda: second.knows("hopper"), timeout=1.0)
    verified = second.post("/api/face/verify", {"image": hopper_b64})

    assert registered.status_code == 201
    assert seconds is not None, "replica b did not see the registration within 1 s"
    assert verified.status_code == 200
    assert verified.json()["success"] is True
    assert verified.json()["studentId"] == "hopper"
    assert verified.json()["mode"] == "1:N"


def test_erasure_on_one_replica_is_seen_by_the_other(replicas, hopper_b64):
    first, second = replicas
    assert wait_until(lambda: first.knows("hopper"), timeout=1.0) is not None

    erased = requests.delete(second.base + "/api/face/students/hopper", timeout=30)
    seconds = wait_until(lambda: not first.knows("hopper"), timeout=1.0)
    verified = first.post("/api/face/verify", {"image": hopper_b64})
    shown = first.get("/api/face/students/hopper")

    assert erased.status_code == 200
    assert seconds is not None, "replica a still knew the student after 1 s"
    assert verified.status_code == 200
    assert verified.json()["success"] is False
    assert verified.json()["studentId"] is None
    assert verified.json()["code"] == "face_not_recognised"
    assert shown.status_code == 404
    assert shown.json()["code"] == "unknown_student"


def test_concurrent_registrations_of_one_student_on_both_replicas(replicas, hopper_b64):
    answers = []

    def register(replica: Replica) -> None:
        body = {"studentId": "grace", "image": hopper_b64}
        answers.append(replica.post("/api/face/register", body).status_code)

    threads = [threading.Thread(target=register, args=(r,)) for r in replicas * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [201] * 4
    for replica in replicas:
        shown = replica.get("/api/face/students/grace").json()
        verified = replica.post(
            "/api/face/verify", {"image": hopper_b64, "studentId": "grace"}
        ).json()
        assert shown["embeddingCount"] == 4
        assert (verified["success"], verified["studentId"]) == (True, "grace")


def test_database_restart_mid_run_answers_503_then_recovers(
    replicas, hopper_b64, postgres_cluster
):
    first, second = replicas

    postgres_cluster.stop("fast")
    try:
        assert wait_until(lambda: not first.ready(), timeout=5) is not None
        ready = first.get("/health/ready")
        verified = second.post("/api/face/verify", {"image": hopper_b64})
        registered = first.post(
            "/api/face/register", {"studentId": "grace", "image": hopper_b64}
        )
        listed = second.get("/api/face/students")
    finally:
        postgres_cluster.start()

    assert ready.status_code == 503
    assert ready.json()["checks"] == {"models": True, "gallery": False}
    assert verified.status_code == 503
    assert verified.json() == {
        "success": False,
        "message": UNAVAILABLE,
        "code": "storage_unavailable",
        "requestId": verified.headers["X-Request-ID"],
    }
    assert registered.status_code == 503
    assert registered.json()["code"] == "storage_unavailable"
    assert listed.status_code == 503
    assert listed.json()["code"] == "storage_unavailable"

    for replica in replicas:
        assert wait_until(replica.ready, timeout=15) is not None
    again = second.post("/api/face/verify", {"image": hopper_b64}).json()
    added = second.post(
        "/api/face/register", {"studentId": "grace", "image": hopper_b64}
    )
    assert (again["success"], again["studentId"]) == (True, "grace")
    assert added.status_code == 201
    assert added.json()["totalEmbeddings"] == 5
    assert first.get("/api/face/students/grace").json()["embeddingCount"] == 5


@pytest.mark.data
def test_lfw_identities_enrolled_on_either_replica_are_told_apart(
    replicas, shared_data
):
    first, second = replicas
    root = shared_data / "faces" / "lfw_mini" / "images"
    names = ("Celine_Dion", "Abdullah_Gul")
    people = {name: sorted((root / name).glob("*.jpg")) for name in names}
    enrol_on = {"Celine_Dion": first, "Abdullah_Gul": second}
    for name, replica in enrol_on.items():
        photos = [b64_file(path) for path in people[name][:2]]
        answer = replica.post(
            "/api/face/register", {"studentId": name, "images": photos}
        )
        assert answer.status_code == 201, answer.json()
    time.sleep(1.0)

    for name, replica in enrol_on.items():
        other = second if replica is first else first
        probe = b64_file(people[name][4])
        verified = other.post("/api/face/verify", {"image": probe}).json()
        assert (verified["success"], verified["studentId"]) == (True, name)
