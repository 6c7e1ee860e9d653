.PHONY: cluster

# The local control plane in the foreground; prints the KUBECONFIG to use. Ctrl-C stops it.
cluster:
	npx tsx test/cluster/main.ts
