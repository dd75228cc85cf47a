# Sentiment service (issue 4): emotions, engagement and attention per face, port 5003.
SENTIMENT_TF_REQUIREMENTS := requirements/sentiment-tensorflow.optional.txt

.PHONY: run-sentiment
run-sentiment: install ## Serve the sentiment service alone on port 5003 (gunicorn)
	$(BIN)/gunicorn -c python:attendance_ml.core.gunicorn_conf --bind 0.0.0.0:5003 \
		'attendance_ml.sentiment.app:create_app()'

.PHONY: test-sentiment
test-sentiment: install ## Run the sentiment and face-landmark tests
	$(BIN)/python -m pytest tests/sentiment tests/core/test_face_landmarks.py $(PYTEST_ARGS)

.PHONY: bench-sentiment
bench-sentiment: install ## Benchmark emotions, head pose and latency against the bare fer model
	$(BIN)/python benchmarks/sentiment_benchmark.py

.PHONY: install-sentiment-tensorflow
install-sentiment-tensorflow: install ## Add the optional TensorFlow backend (Keras/SavedModel emotion models, ~1.6 GB)
	$(BIN)/pip install --quiet -r $(SENTIMENT_TF_REQUIREMENTS)
