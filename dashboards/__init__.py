"""Grafana dashboards as Python (grafana-foundation-sdk), rendered by manifests_py into sidecar ConfigMaps."""
