"""Generator of every Kubernetes object expense-tracker runs on, written to the committed ``manifests/`` tree."""
