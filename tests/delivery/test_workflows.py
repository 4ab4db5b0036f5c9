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


def test_the_workflows_exist() -> None:
    assert {path.name for path in WORKFLOWS} == {"ci.yml", "release.yml", "promote.yml", "review.yml"}


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


# --- review.yml: the terraform plan job and the PR review diff (issue #11, defects 18 and 19) ---

REVIEW = REPO_ROOT / ".github" / "workflows" / "review.yml"


def _steps_text(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in job["steps"])


def test_review_runs_on_pull_requests_touching_what_operators_review_never_pull_request_target() -> None:
    workflow = _load(REVIEW)
    assert set(workflow["on"]) == {"pull_request", "push"}
    paths = set(workflow["on"]["pull_request"]["paths"])
    assert {"manifests_py/**", "dashboards/**", "terraform/**", "manifests/**"} <= paths
    assert workflow["on"]["push"] == {"branches": ["main"], "paths": ["terraform/**"]}
    for path in WORKFLOWS:
        assert "pull_request_target" not in _load(path)["on"], path.name


def test_plan_job_assumes_the_role_from_variables_and_only_for_this_repository() -> None:
    plan = _load(REVIEW)["jobs"]["plan"]
    assert plan["permissions"] == {"contents": "read", "id-token": "write"}
    condition = " ".join(plan["if"].split())
    for variable in ("AWS_PLAN_ROLE_ARN", "TF_STATE_BUCKET", "AWS_REGION", "TF_VARS"):
        assert f"vars.{variable} != ''" in condition, variable  # unset: the job is skipped, not failed
    assert "github.event.pull_request.head.repo.full_name == github.repository" in condition
    credentials = next(
        s for s in plan["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
    )
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_PLAN_ROLE_ARN }}"
    assert credentials["with"]["aws-region"] == "${{ vars.AWS_REGION }}"
    assert plan["env"]["TF_STATE_BUCKET"] == "${{ vars.TF_STATE_BUCKET }}"


def test_plan_job_reads_and_never_writes_the_state() -> None:
    from manifests_py import cluster

    text = _steps_text(_load(REVIEW)["jobs"]["plan"])
    assert "terraform init -input=false -lockfile=readonly" in text
    assert '-backend-config="bucket=${TF_STATE_BUCKET}"' in text
    assert f'-backend-config="key={cluster.STATE_KEY}"' in text
    assert "terraform plan -lock=false -refresh=true -input=false -no-color" in text
    assert '-var="state_bucket=${TF_STATE_BUCKET}"' in text
    assert "terraform show -json" in text
    for verb in ("apply", "destroy", "import", "state rm", "state push", "force-unlock"):
        assert f"terraform {verb}" not in text, verb


def test_no_state_bucket_name_is_written_into_any_workflow() -> None:
    for path in WORKFLOWS:
        text = path.read_text()
        assert not re.search(r"bucket=(?!\$\{)", text), path.name
        assert "terraform-state" not in text, path.name
        assert not re.search(r"arn:aws:iam::\d{12}", text), path.name


def test_review_job_comments_only_with_a_writable_token_and_one_marker() -> None:
    review = _load(REVIEW)["jobs"]["review"]
    assert review["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert review["needs"] == "plan"
    assert "!cancelled()" in review["if"]  # runs when the plan job is skipped
    comment = next(step for step in review["steps"] if "gh api" in step.get("run", ""))
    assert comment["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert comment["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert "<!-- expense-tracker-review -->" in comment["run"]
    assert "--method PATCH" in comment["run"]
    from manifests_py.review import MARKER

    assert MARKER == "<!-- expense-tracker-review -->"
    render = _steps_text(review)
    assert "nox -s review" in render
    assert "GITHUB_STEP_SUMMARY" in render


def test_only_the_plan_job_holds_an_oidc_token_and_only_the_review_job_writes_comments() -> None:
    for path in WORKFLOWS:
        for name, job in _load(path)["jobs"].items():
            permissions = job["permissions"]
            if permissions.get("id-token") == "write":
                assert (path.name, name) in {("review.yml", "plan"), ("release.yml", "image")}, (path.name, name)
            if permissions.get("pull-requests") == "write":
                assert (path.name, name) in {("review.yml", "review"), ("promote.yml", "promote")}, (path.name, name)
