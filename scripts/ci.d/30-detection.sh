#!/usr/bin/env bash
# Detection service: no system packages needed (rapidocr, onnxruntime and the optional
# ultralytics extra come from pip through `make test`). Fail early when the committed
# converted model does not match models/manifest.json.
set -euo pipefail

cd "$(dirname "$0")/../.."
python3 models/check_manifest.py
