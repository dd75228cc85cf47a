# Gateway (issue 5): the demo on real photos, the benchmark, the gateway's tests.
SHARED_DATA ?= ../shared/data

.PHONY: demo
demo: install ## Start everything, enrol students from ../shared/data/faces, run analyze/all on real photos
	$(BIN)/python -m attendance_ml.gateway.demo --data $(SHARED_DATA)

.PHONY: bench-gateway
bench-gateway: install ## Benchmark analyze/all beside each single service call, then 8 clients for 60 s (table)
	$(BIN)/python benchmarks/gateway_benchmark.py

.PHONY: test-gateway
test-gateway: install ## Run the gateway and supervisor tests (starts redis-server and the services on loopback)
	$(BIN)/python -m pytest tests/gateway tests/core/test_supervisor.py $(PYTEST_ARGS)

.PHONY: serve-gateway
serve-gateway: install ## Run only the gateway on port 8080 (the services must already be running)
	$(BIN)/attendance-serve --only gateway
