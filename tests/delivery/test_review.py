"""Issue #11, defect 19: the PR review text — per environment, what Argo CD will change, and the plan summary."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import manifests_py.__main__ as cli
import pytest
import yaml
from manifests_py import review
from manifests_py.__main__ import main
from manifests_py.render import DEFAULT_OUT, read_tree

HPA = "apps/production/horizontalpodautoscaler-expense-tracker.yaml"
HPA_LINE = (
    "apps/production · HorizontalPodAutoscaler expense-tracker-production/expense-tracker · spec.minReplicas `2` → `3`"
)


def _with_replicas(files: dict[str, str], path: str, replicas: int) -> dict[str, str]:
    document = yaml.safe_load(files[path])
    document["spec"]["minReplicas"] = replicas
    return {**files, path: yaml.safe_dump(document)}


def test_a_planted_min_replicas_change_is_one_line_under_production_only() -> None:
    committed = read_tree(DEFAULT_OUT)
    assert yaml.safe_load(committed[HPA])["spec"]["minReplicas"] == 2
    changed = _with_replicas(committed, HPA, 3)
    markdown = review.review_markdown(committed, changed, "origin/main")
    assert markdown.startswith("<!-- expense-tracker-review -->")
    assert "### apps/production (Application expense-tracker-production)" in markdown
    assert f"- {HPA_LINE}" in markdown.splitlines()
    assert "apps/staging" not in markdown
    assert "1 change(s)" in markdown


def test_added_and_removed_objects_and_no_change() -> None:
    committed = read_tree(DEFAULT_OUT)
    without = {path: text for path, text in committed.items() if path != "cluster/storageclass-gp3-encrypted.yaml"}
    assert "- cluster · StorageClass gp3-encrypted · removed" in review.review_markdown(committed, without, "b")
    assert "- cluster · StorageClass gp3-encrypted · added" in review.review_markdown(without, committed, "b")
    assert "Argo CD will change nothing" in review.review_markdown(committed, committed, "b")


def test_the_comment_stays_under_githubs_limit_with_a_note() -> None:
    old = {
        f"apps/staging/configmap-{i}.yaml": f"kind: ConfigMap\nmetadata: {{name: c{i}, namespace: n}}\n"
        for i in range(3000)
    }
    markdown = review.review_markdown({}, old, "main", plan="## terraform plan\n\n**No changes.**")
    assert len(markdown) <= 65_536
    assert "… truncated:" in markdown
    assert "python -m manifests_py diff main" in markdown
    assert "**No changes.**" in markdown  # the plan summary comes first and is never cut


# A `terraform show -json` plan document, trimmed to the fields the summary reads (format_version 1.2; see
# https://developer.hashicorp.com/terraform/internals/json-format "Plan Representation").
PLAN = {
    "format_version": "1.2",
    "resource_changes": [
        {"address": "aws_kms_key.main", "change": {"actions": ["no-op"]}},
        {"address": "data.aws_caller_identity.current", "change": {"actions": ["read"]}},
        {"address": "aws_iam_role_policy.github_actions", "change": {"actions": ["update"]}},
        {"address": 'aws_secretsmanager_secret.app["qa"]', "change": {"actions": ["create"]}},
        {"address": 'module.eks.aws_eks_addon.this["coredns"]', "change": {"actions": ["delete", "create"]}},
        {"address": "aws_route53_zone.main[0]", "change": {"actions": ["delete"]}},
    ],
    "resource_drift": [{"address": "module.vpc.aws_vpc.this[0]"}],
}


def test_plan_summary_counts_like_terraform_plan() -> None:
    summary = review.plan_summary(PLAN)
    # terraform counts a replacement as one add and one destroy.
    assert "**Plan: 2 to add, 1 to change, 2 to destroy.**" in summary
    assert '- `module.eks.aws_eks_addon.this["coredns"]` · replace' in summary
    assert "- `aws_route53_zone.main[0]` · destroy" in summary
    assert "aws_kms_key.main" not in summary
    assert "drift): `module.vpc.aws_vpc.this[0]`" in summary


def test_plan_summary_without_changes() -> None:
    assert "**No changes.**" in review.plan_summary(
        {"resource_changes": [{"address": "a.b", "change": {"actions": ["no-op"]}}]}
    )
    with pytest.raises(ValueError, match="unknown plan actions"):
        review.plan_summary({"resource_changes": [{"address": "a.b", "change": {"actions": ["forget"]}}]})


def test_the_cli_compares_a_git_revision_with_the_working_tree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end through git: a throwaway repository whose second state changes production's replicas."""
    git = shutil.which("git")
    assert git
    repo = tmp_path / "repo"
    shutil.copytree(DEFAULT_OUT, repo / "manifests")

    def run(*args: str) -> None:
        subprocess.run([git, *args], cwd=repo, check=True, capture_output=True)

    run("init", "-q")
    run("-c", "user.name=t", "-c", "user.email=t@example.org", "add", ".")
    run("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "base")
    target = repo / "manifests" / HPA
    document = yaml.safe_load(target.read_text())
    document["spec"]["minReplicas"] = 3
    target.write_text(yaml.safe_dump(document))
    plan = tmp_path / "plan.md"
    plan_json = tmp_path / "plan.json"
    plan_json.write_text(json.dumps(PLAN))
    assert main(["plan-summary", str(plan_json)]) == 0
    plan.write_text(capsys.readouterr().out)
    monkeypatch.setattr(cli, "REPO_ROOT", repo)
    assert main(["review", "HEAD", "--out", str(repo / "manifests"), "--plan-summary", str(plan)]) == 0
    out = capsys.readouterr().out
    assert "Plan: 2 to add, 1 to change, 2 to destroy." in out
    assert HPA_LINE in out
