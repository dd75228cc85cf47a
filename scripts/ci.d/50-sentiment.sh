#!/usr/bin/env bash
# Sentiment service: install the optional TensorFlow backend into .venv so that CI
# runs the Keras and SavedModel loading tests (tests/sentiment/test_tensorflow_backend.py)
# for real: the model operator may deliver Keras models, and an untested loader rots.
# Users without it get the packaged TFLite model and those tests skip. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."

make --no-print-directory install
if ! .venv/bin/python -c "import tensorflow" 2>/dev/null; then
    .venv/bin/pip install --quiet -r requirements/sentiment-tensorflow.optional.txt
fi
