"""Image bumps: a new digest changes only that environment's image lines; a bad reference changes nothing."""

from __future__ import annotations

import difflib
import re
import shutil
from pathlib import Path

import pytest
from manifests_py.__main__ import main
from manifests_py.environments import ENVIRONMENTS_DIR, read_image
from manifests_py.names import IMAGE_REPOSITORY
from manifests_py.release import promote, set_image
from manifests_py.render import DEFAULT_OUT, read_tree
from manifests_py.validate import validate_files

NEW = f"{IMAGE_REPOSITORY}@sha256:" + "c0ffee" * 10 + "abcd"


@pytest.fixture
def workspace(tmp_path: Path) -> tuple[Path, Path]:
    environments, out = tmp_path / "environments", tmp_path / "manifests"
    shutil.copytree(ENVIRONMENTS_DIR, environments)
    shutil.copytree(DEFAULT_OUT, out)
    return environments, out


def _changed_lines(before: dict[str, str], after: dict[str, str]) -> dict[str, list[str]]:
    changes = {}
    for path in sorted(set(before) | set(after)):
        diff = [
            line
            for line in difflib.unified_diff(before.get(path, "").splitlines(), after.get(path, "").splitlines(), n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]
        if diff:
            changes[path] = diff
    return changes


def test_set_image_changes_only_that_environments_image_lines(workspace: tuple[Path, Path]) -> None:
    environments, out = workspace
    before = read_tree(out)
    set_image("staging", NEW, directory=environments, out=out)
    after = read_tree(out)
    changes = _changed_lines(before, after)
    assert set(changes) == {
        "apps/staging/cronjob-expense-tracker-recurring.yaml",  # the recurring job runs the same image
        "apps/staging/deployment-expense-tracker.yaml",
        "apps/staging/job-expense-tracker-migrate.yaml",
    }
    for lines in changes.values():
        assert len(lines) == 2
        assert re.fullmatch(r"-\s+image: \S+", lines[0])
        assert re.fullmatch(rf"\+\s+image: {re.escape(NEW)}", lines[1])
    assert read_image("staging", environments) == NEW
    assert validate_files(after) == []


def test_promote_copies_staging_to_production_only(workspace: tuple[Path, Path]) -> None:
    environments, out = workspace
    set_image("staging", NEW, directory=environments, out=out)
    before = read_tree(out)
    assert promote("staging", "production", directory=environments, out=out) == NEW
    changes = _changed_lines(before, read_tree(out))
    assert set(changes) == {
        "apps/production/cronjob-expense-tracker-recurring.yaml",
        "apps/production/deployment-expense-tracker.yaml",
        "apps/production/job-expense-tracker-migrate.yaml",
    }
    assert read_image("production", environments) == NEW


@pytest.mark.parametrize(
    ("environment", "image", "message"),
    [
        ("staging", f"{IMAGE_REPOSITORY}:latest", "sha256 digest"),
        ("staging", f"{IMAGE_REPOSITORY}@sha256:1234", "sha256 digest"),
        ("staging", "docker.io/someone/else@sha256:" + "a" * 64, "is not an image of"),
        ("qa", NEW, "unknown environment"),
    ],
)
def test_invalid_references_are_refused_and_change_nothing(
    workspace: tuple[Path, Path], environment: str, image: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    environments, out = workspace
    before_tree, before_env = read_tree(out), read_tree(environments)
    before_images = {p.name: p.read_text() for p in environments.rglob("image.txt")}
    with pytest.raises(ValueError, match=message):
        set_image(environment, image, directory=environments, out=out)
    assert read_tree(out) == before_tree
    assert read_tree(environments) == before_env
    assert {p.name: p.read_text() for p in environments.rglob("image.txt")} == before_images


def test_cli_reports_a_bad_reference_clearly_and_exits_non_zero(capsys: pytest.CaptureFixture[str]) -> None:
    before = read_tree(DEFAULT_OUT)
    assert main(["release", "set-image", "staging", "ghcr.io/expense-tracker/expense-tracker:v1"]) == 2
    assert "sha256 digest" in capsys.readouterr().err
    assert read_tree(DEFAULT_OUT) == before
