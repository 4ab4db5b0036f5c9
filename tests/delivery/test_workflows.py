"""The GitHub workflows: actionlint, the workflow JSON schema, SHA-pinned actions, least privilege, and every nox
session they call exists."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from manifests_py.render import REPO_ROOT

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))


def _tool(name: str) -> str:
    return shutil.which(name) or str(Path(sys.executable).parent / name)


def _load(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=yaml.BaseLoader)


def test_the_three_workflows_exist() -> None:
    assert {path.name for path in WORKFLOWS} == {"ci.yml", "release.yml", "promote.yml"}


def test_actionlint_is_clean() -> None:
    result = subprocess.run([_tool("actionlint")], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_match_the_github_workflow_schema() -> None:
    result = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_to_full_commit_shas(path: Path) -> None:
    uses = re.findall(r"uses:\s*(\S+)", path.read_text())
    assert uses
    for action in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", action), action


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_empty_by_default_and_granted_per_job(path: Path) -> None:
    workflow = _load(path)
    assert workflow["permissions"] == {}
    for name, job in workflow["jobs"].items():
        assert "permissions" in job, name
        assert "write-all" not in str(job["permissions"])


def test_every_nox_session_the_workflows_call_exists() -> None:
    noxfile = (REPO_ROOT / "noxfile.py").read_text()
    defined = set(re.findall(r"@nox\.session[^\n]*\ndef (\w+)\(", noxfile))
    called: set[str] = set()
    for path in WORKFLOWS:
        workflow = _load(path)
        text = path.read_text()
        called |= set(re.findall(r"nox -s \"?([\w-]+)", text)) - {"${{"}
        for job in workflow["jobs"].values():
            matrix = job.get("strategy", {}).get("matrix", {})
            called |= set(matrix.get("session", []))
    assert called
    assert called <= defined, called - defined


def test_release_cannot_trigger_itself_and_secrets_are_never_echoed() -> None:
    release = _load(REPO_ROOT / ".github" / "workflows" / "release.yml")
    ignored = release["on"]["push"]["paths-ignore"]
    assert "manifests/**" in ignored
    assert "manifests_py/environments/*/image.txt" in ignored
    for path in WORKFLOWS:
        for line in path.read_text().splitlines():
            if "secrets." in line:
                assert not re.search(r"\b(echo|printf|cat)\b", line), line
