"""Environments are data: a change to one value changes only the objects that depend on it; bad data fails early."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from manifests_py.environments import (
    ENVIRONMENTS_DIR,
    InvalidEnvironmentError,
    load_environment,
    read_image,
    write_image,
)
from manifests_py.render import render
from manifests_py.semantic_diff import semantic_diff

DIGEST = "ghcr.io/expense-tracker/expense-tracker@sha256:" + "b" * 64


@pytest.fixture
def environments(tmp_path: Path) -> Path:
    copy = tmp_path / "environments"
    shutil.copytree(ENVIRONMENTS_DIR, copy)
    return copy


def _changed_objects(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {line.split(None, 1)[1] for line in semantic_diff(before, after) if not line.startswith("  ")}


def test_staging_scaling_bound_changes_only_the_staging_hpa(environments: Path, files: dict[str, str]) -> None:
    settings = environments / "staging" / "settings.toml"
    settings.write_text(settings.read_text().replace("max_replicas = 3", "max_replicas = 4"))
    assert _changed_objects(files, render(environments)) == {
        "HorizontalPodAutoscaler expense-tracker-staging/expense-tracker"
    }


def test_production_image_changes_only_the_production_workloads(environments: Path, files: dict[str, str]) -> None:
    write_image("production", DIGEST, environments)
    assert read_image("production", environments) == DIGEST
    assert _changed_objects(files, render(environments)) == {
        "Deployment expense-tracker-production/expense-tracker",
        "Job expense-tracker-production/expense-tracker-migrate",
        "CronJob expense-tracker-production/expense-tracker-recurring",
    }


def test_staging_log_level_rolls_only_staging_pods(environments: Path, files: dict[str, str]) -> None:
    settings = environments / "staging" / "settings.toml"
    settings.write_text(settings.read_text().replace('log_level = "INFO"', 'log_level = "DEBUG"'))
    report = semantic_diff(files, render(environments))
    assert _changed_objects(files, render(environments)) == {
        "ConfigMap expense-tracker-staging/expense-tracker-config",
        "Deployment expense-tracker-staging/expense-tracker",  # the config checksum annotation rolls the pods
    }
    assert any("checksum/config" in line for line in report)


def test_backup_role_from_terraform_changes_only_that_database(environments: Path, files: dict[str, str]) -> None:
    infrastructure = environments / "infrastructure.json"
    data = json.loads(infrastructure.read_text())
    data["database_backup_role_arns"]["staging"] = "arn:aws:iam::999999999999:role/new-backup-role"
    infrastructure.write_text(json.dumps(data))
    assert _changed_objects(files, render(environments)) == {"Cluster expense-tracker-staging/expense-tracker-db"}


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("staging/settings.toml", 'cpu_limit = "1"', 'cpu_limit = "one"', "not a Kubernetes quantity"),
        ("staging/settings.toml", "min_replicas = 1", "min_replicas = 9", "min_replicas <= max_replicas"),
        ("staging/settings.toml", "instances = 1", 'instances = "1"', "database.instances: expected int, got '1'"),
        ("staging/image.txt", "@sha256:", ":latest#", "not an image reference by sha256 digest"),
        ("infrastructure.json", "arn:aws:iam::111122223333:role/gitops-delivery-cluster-external-dns", "admin", "IAM"),
    ],
)
def test_bad_environment_data_is_refused_with_the_reason(
    environments: Path, file: str, old: str, new: str, message: str
) -> None:
    path = environments / file
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    with pytest.raises(InvalidEnvironmentError, match=message):
        load_environment("staging", environments)


def test_write_image_refuses_a_tag() -> None:
    with pytest.raises(InvalidEnvironmentError, match="digest"):
        write_image("staging", "ghcr.io/expense-tracker/expense-tracker:latest", ENVIRONMENTS_DIR)
