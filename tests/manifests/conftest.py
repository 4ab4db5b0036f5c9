"""Rendered manifests as plain documents, and small lookups the consistency tests share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from manifests_py.render import render

Document = dict[str, Any]


@pytest.fixture(scope="session")
def files() -> dict[str, str]:
    return render()


@pytest.fixture(scope="session")
def documents(files: dict[str, str]) -> list[Document]:
    return [yaml.safe_load(content) for content in files.values()]


def of_kind(documents: list[Document], kind: str, namespace: str | None = None) -> list[Document]:
    return [
        d for d in documents if d["kind"] == kind and (namespace is None or d["metadata"].get("namespace") == namespace)
    ]


def one(documents: list[Document], kind: str, namespace: str, name: str) -> Document:
    found = [d for d in of_kind(documents, kind, namespace) if d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {namespace}/{name}, found {len(found)}"
    return found[0]


def pod_templates(documents: list[Document]) -> Iterator[tuple[Document, Document]]:
    """(workload, pod template) for every Deployment, Job and CronJob (the pod its Jobs run)."""
    for document in documents:
        if document["kind"] in {"Deployment", "Job"}:
            yield document, document["spec"]["template"]
        elif document["kind"] == "CronJob":
            yield document, document["spec"]["jobTemplate"]["spec"]["template"]


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())
