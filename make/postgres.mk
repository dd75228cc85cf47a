# Shared face gallery on PostgreSQL (issue 8): server for the tests, benchmark.

.PHONY: postgres-server
postgres-server: ## Install Debian's PostgreSQL server binaries the gallery tests start on loopback
	bash scripts/ci.d/45-postgres.sh

.PHONY: test-postgres
test-postgres: install ## Run the PostgreSQL gallery tests (a throwaway server on 127.0.0.1)
	$(BIN)/python -m pytest tests/face_postgres $(PYTEST_ARGS)

.PHONY: bench-gallery
bench-gallery: install ## Benchmark SQLite vs PostgreSQL gallery storage at 10k/100k faces
	$(BIN)/python benchmarks/gallery_benchmark.py
