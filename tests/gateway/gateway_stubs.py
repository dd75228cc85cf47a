"""Small stand-ins for the three services, served on loopback for gateway tests.

They use the core's error handler and request-id wiring like the real services, and
record what they received so tests can check what the gateway forwarded.
"""

from __future__ import annotations

import base64
import io
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from attendance_ml.core.errors import UnknownStudent, register_error_handlers
from attendance_ml.core.imaging import json_body
from attendance_ml.core.logs import install_request_logging
from flask import Flask, Response, g, jsonify, request
from PIL import Image
from werkzeug.serving import make_server


@dataclass
class Received:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    json: Any
    request_id: str


@dataclass
class StubBehaviour:
    """Per-path overrides: seconds to sleep, or a fixed (status, body, content type)."""

    delays: dict[str, float] = field(default_factory=dict)
    answers: dict[str, tuple[int, Any, str]] = field(default_factory=dict)


def stub_app(service: str, behaviour: StubBehaviour, received: list[Received]) -> Flask:
    app = Flask(f"stub.{service}")
    app.json.sort_keys = False
    register_error_handlers(app)
    install_request_logging(app, f"stub-{service}")

    @app.before_request
    def record_and_misbehave():
        received.append(
            Received(
                request.method,
                request.path,
                request.query_string.decode(),
                dict(request.headers),
                request.get_json(silent=True),
                g.request_id,
            )
        )
        time.sleep(behaviour.delays.get(request.path, 0.0))
        if request.path in behaviour.answers:
            status, body, content_type = behaviour.answers[request.path]
            text = body if isinstance(body, str) else app.json.dumps(body)
            return Response(text, status=status, content_type=content_type)
        return None

    @app.get("/health")
    def health():
        return jsonify({"status": "ok", "service": service})

    ROUTES[service](app)
    return app


def _face_routes(app: Flask) -> None:
    @app.post("/api/face/register")
    def register():
        body = json_body(request)
        return jsonify({"success": True, "studentId": body.get("studentId")}), 201

    @app.post("/api/face/verify")
    def verify():
        body = json_body(request)
        student = body.get("studentId", "s-001")
        if student == "ghost":
            raise UnknownStudent()
        return jsonify(
            {
                "success": True,
                "message": "Verified.",
                "studentId": student,
                "confidence": 0.93,
            }
        )

    @app.post("/api/face/analyze")
    def analyze():
        return jsonify({"success": True, "faces": []})

    @app.post("/api/face/liveness")
    def liveness():
        verdict = {"score": 0.6, "decision": "uncertain", "method": "bracketing-edges"}
        return jsonify({"success": True, "message": "Passive", "liveness": verdict})

    @app.post("/api/face/liveness/challenge")
    def challenge():
        return jsonify({"success": True, "nonce": "n-1", "actions": ["blink"]})

    @app.get("/api/face/students")
    def students():
        return jsonify({"success": True, "students": [{"studentId": "s-001"}]})

    @app.get("/api/face/students/<student_id>")
    def student(student_id: str):
        return jsonify({"success": True, "studentId": student_id})

    @app.delete("/api/face/students/<student_id>")
    def delete_student(student_id: str):
        return jsonify({"success": True, "deleted": student_id})


def _detection_routes(app: Flask) -> None:
    @app.post("/api/object-detection/phone")
    def phone():
        return jsonify({"success": True, "phoneDetected": False, "detections": []})

    @app.post("/api/object-detection/idcard")
    def idcard():
        box = [10, 20, 110, 80]
        detection = {"label": "id_card", "confidence": 0.8, "box": box}
        return jsonify(
            {"success": True, "idCardVisible": True, "detections": [detection]}
        )


def _sentiment_routes(app: Flask) -> None:
    @app.post("/api/sentiment/analyze")
    def analyze():
        small = {
            "faceId": 1,
            "position": [0, 0, 10, 10],
            "engagement": 0.1,
            "attention": 0.1,
        }
        large = {
            "faceId": 0,
            "position": [0, 0, 100, 120],
            "engagement": 0.8,
            "attention": 0.7,
        }
        return jsonify({"success": True, "faceCount": 2, "results": [small, large]})


ROUTES = {
    "face": _face_routes,
    "detection": _detection_routes,
    "sentiment": _sentiment_routes,
}


class StubServer:
    """One stub service on 127.0.0.1 and a free port; stop() makes it unreachable."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.behaviour = StubBehaviour()
        self.received: list[Received] = []
        self._server = make_server(
            "127.0.0.1",
            0,
            stub_app(service, self.behaviour, self.received),
            threaded=True,
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def paths(self) -> list[str]:
        return [item.path for item in self.received]


def encoded_image(image_format: str = "PNG", width: int = 64, height: int = 48) -> str:
    """A small real image (a grey gradient) as plain base64."""
    ramp = np.linspace(0, 255, width, dtype=np.uint8)
    pixels = np.stack([np.tile(ramp, (height, 1))] * 3, axis=-1)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=image_format)
    return base64.b64encode(buffer.getvalue()).decode()
