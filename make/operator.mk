# MLModel operator (issue 7): the CRD, the kopf operator and the services' model loader.
OPERATOR_CRD := charts/ml-services/crds/mlmodels.attendance-ml.io.yaml

.PHONY: test-operator
test-operator: install ## Run the operator tests (kopf against kmock) and the model-loader tests
	$(BIN)/python -m pytest tests/operator tests/core/test_model_loader.py $(PYTEST_ARGS)

.PHONY: run-operator
run-operator: install ## Run the operator here against the current kubeconfig (MLMODEL_OPERATOR_NAMESPACE to scope it)
	$(BIN)/python -m mlmodel_operator

.PHONY: operator-crd
operator-crd: ## Apply the MLModel CRD to the current cluster with kubectl
	kubectl apply --server-side -f $(OPERATOR_CRD)
