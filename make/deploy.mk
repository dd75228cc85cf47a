# Deployment (issue 6): images, chart, overlays, monitoring, workflows.
CHART := charts/ml-services
K8S_RELEASE := attendance
K8S_NAMESPACE := attendance-ml
IMAGE_REGISTRY ?= ghcr.io/attendance-ml
IMAGE_TAG ?= $(shell sed -n 's/^appVersion: *"\(.*\)"/\1/p' $(CHART)/Chart.yaml)
HELM ?= helm
# Services that get a -gpu image variant (ONNX models on CUDA).
GPU_SERVICES ?= face detection sentiment

.PHONY: deploy-tools
deploy-tools: ## Install helm and Prometheus (promtool) and the pip tools the deploy tests use
	bash scripts/ci.d/20-k8s-tools.sh
	$(BIN)/pip install --quiet -r requirements/deploy.txt

.PHONY: chart-lint
chart-lint: ## helm lint --strict the chart with every ci/*-values.yaml scenario
	@for values in $(CHART)/ci/*-values.yaml; do \
		echo "== $$values"; $(HELM) lint --strict $(CHART) -f $$values || exit 1; \
	done

.PHONY: chart-readme
chart-readme: ## Regenerate the chart README's values table from the @param comments
	$(BIN)/python tests/deploy/chart_readme.py --write

.PHONY: kustomize-base
kustomize-base: ## Re-render k8s/base/ml-services.yaml from the chart (kustomize overlays build on it)
	$(HELM) template $(K8S_RELEASE) $(CHART) --namespace $(K8S_NAMESPACE) \
		-f k8s/base/chart-values.yaml > k8s/base/ml-services.yaml

.PHONY: test-deploy
test-deploy: install ## Run the deployment tests (chart, overlays, rules, dashboard, Dockerfiles)
	$(BIN)/python -m pytest tests/deploy $(PYTEST_ARGS)

.PHONY: images
images: ## Build every image with docker (base, services, GPU variants, operator)
	docker build -f Dockerfile.base -t $(IMAGE_REGISTRY)/base:$(IMAGE_TAG) .
	@for service in face detection sentiment gateway; do \
		docker build -f docker/$$service.Dockerfile \
			--build-arg BASE_IMAGE=$(IMAGE_REGISTRY)/base:$(IMAGE_TAG) \
			-t $(IMAGE_REGISTRY)/$$service:$(IMAGE_TAG) . || exit 1; \
	done
	@for service in $(GPU_SERVICES); do \
		docker build -f docker/gpu.Dockerfile \
			--build-arg SERVICE_IMAGE=$(IMAGE_REGISTRY)/$$service:$(IMAGE_TAG) \
			-t $(IMAGE_REGISTRY)/$$service:$(IMAGE_TAG)-gpu . || exit 1; \
	done
	docker build -f docker/operator.Dockerfile -t $(IMAGE_REGISTRY)/operator:$(IMAGE_TAG) .
