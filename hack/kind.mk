# kind targets (need Docker, kind, kubectl and helm). Included from the Makefile.
KIND ?= kind
KIND_CLUSTER ?= hookgate
KIND_IMAGE ?= hookgate:dev
KIND_CONTEXT := kind-$(KIND_CLUSTER)
HELM ?= helm
KUBECTL ?= kubectl

.PHONY: kind-up kind-deploy kind-down

## kind-up: create a kind cluster (needs Docker and kind; hack/kind-config.yaml)
kind-up:
	$(KIND) create cluster --name $(KIND_CLUSTER) --config hack/kind-config.yaml

## kind-deploy: build and load the image, install the chart, apply the quickstart
kind-deploy:
	docker build -t $(KIND_IMAGE) .
	$(KIND) load docker-image $(KIND_IMAGE) --name $(KIND_CLUSTER)
	$(HELM) upgrade --install hookgate charts/hookgate --kube-context $(KIND_CONTEXT) \
	  --namespace hookgate-system --create-namespace --wait \
	  --set image.repository=$(word 1,$(subst :, ,$(KIND_IMAGE))) \
	  --set image.tag=$(word 2,$(subst :, ,$(KIND_IMAGE))) \
	  --set image.pullPolicy=IfNotPresent \
	  --set publicBaseURL=http://localhost:8080 \
	  --set ingress.service.type=NodePort --set ingress.service.nodePort=30080
	$(KUBECTL) --context $(KIND_CONTEXT) apply -n default -f examples/quickstart.yaml
	$(KUBECTL) --context $(KIND_CONTEXT) wait -n default --for=condition=Ready webhooktrigger/quickstart --timeout=120s
	@echo "URL:   $$($(KUBECTL) --context $(KIND_CONTEXT) get -n default webhooktrigger quickstart -o jsonpath='{.status.url}')"
	@echo "Token: kubectl --context $(KIND_CONTEXT) get -n default secret quickstart-credentials -o jsonpath='{.data.token}' | base64 -d"

## kind-down: delete the kind cluster
kind-down:
	$(KIND) delete cluster --name $(KIND_CLUSTER)
