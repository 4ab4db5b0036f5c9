"""Cluster lifecycle plans: what `up`, `down` and `status` run, in which order, and how waits and failures behave."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from manifests_py import cluster, names
from manifests_py.__main__ import main
from manifests_py.components.platform import ARGO_CD
from manifests_py.environments import ENVIRONMENTS_DIR, Infrastructure, load_infrastructure

SETTINGS = cluster.Settings(region="eu-west-1", state_bucket="state-bucket", var_file="prod.tfvars")


def _index(steps: list[cluster.Step], needle: str) -> int:
    matches = [i for i, step in enumerate(steps) if needle in " ".join(step.argv)]
    assert matches, f"no step runs {needle!r}"
    return matches[0]


def test_up_creates_state_applies_then_bootstraps_argocd_and_waits() -> None:
    steps = cluster.up_plan(SETTINGS)
    order = [
        _index(steps, "create-bucket"),
        _index(steps, "terraform -chdir=terraform init"),
        _index(steps, "terraform -chdir=terraform apply"),
        _index(steps, "infra-sync"),
        _index(steps, "manifests_py check"),
        _index(steps, "update-kubeconfig"),
        _index(steps, "helm upgrade --install"),
        _index(steps, "apply --server-side -f manifests/bootstrap/"),
        _index(steps, "status.sync.status"),
        _index(steps, "status.health.status"),
    ]
    assert order == sorted(order)
    helm = steps[_index(steps, "helm upgrade")].argv
    assert ("--version", ARGO_CD.version) == helm[helm.index("--version") : helm.index("--version") + 2]
    assert ARGO_CD.name in helm  # the release the self-managing Application takes over
    apply = steps[_index(steps, "terraform -chdir=terraform apply")].argv
    assert "-var-file=prod.tfvars" in apply
    init = " ".join(steps[_index(steps, "terraform -chdir=terraform init")].argv)
    assert "bucket=state-bucket" in init
    assert f"key={names.CLUSTER_NAME}/terraform.tfstate" in init


def test_up_applies_the_long_lived_backups_root_first_and_down_never_destroys_it() -> None:
    up = cluster.up_plan(SETTINGS)
    backups_init = _index(up, "terraform -chdir=terraform/backups init")
    backups_apply = _index(up, "terraform -chdir=terraform/backups apply")
    # The main root reads the bucket and key by name: they must exist before its plan.
    assert backups_init < backups_apply < _index(up, "terraform -chdir=terraform init")
    assert f"-backend-config=key={names.CLUSTER_NAME}/backups.tfstate" in up[backups_init].argv
    assert "-var-file=../prod.tfvars" in up[backups_apply].argv  # the same file, seen from terraform/backups
    down = cluster.down_plan(SETTINGS)
    assert not any("terraform/backups" in " ".join(step.argv) for step in down)


def test_down_waits_for_load_balancers_and_volumes_before_terraform_destroy() -> None:
    steps = cluster.down_plan(SETTINGS)
    reclaim = _index(steps, "persistentVolumeReclaimPolicy")
    apps = _index(steps, "delete application expense-tracker-staging")
    platform = _index(steps, "grep -v")
    claims = _index(steps, "delete persistentvolumeclaims")
    load_balancers = _index(steps, "LoadBalancer")
    volumes = [step.argv for step in steps].index(("kubectl", "get", "pv", "-o", "name"))
    destroy = _index(steps, "terraform -chdir=terraform destroy")
    assert reclaim < apps < platform < claims < load_balancers < volumes < destroy
    assert steps[load_balancers].until_empty
    assert steps[volumes].until_empty
    assert destroy == len(steps) - 1


def test_dry_run_prints_every_command_in_order_and_runs_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cluster", "down", "--dry-run", "--state-bucket", "state-bucket"]) == 0
    printed = capsys.readouterr().out
    commands = [line for line in printed.splitlines() if not line.startswith("#")]
    assert len(commands) == len(cluster.down_plan(SETTINGS))
    assert commands[-1].startswith("terraform -chdir=terraform destroy")
    assert f"--region {load_infrastructure().aws_region}" in printed


def test_every_command_has_a_dry_run(capsys: pytest.CaptureFixture[str]) -> None:
    for action in ("up", "down", "status"):
        assert main(["cluster", action, "--dry-run", "--state-bucket", "b"]) == 0
    assert main(["infra-sync", "--dry-run"]) == 0
    assert "terraform -chdir=terraform output -json" in capsys.readouterr().out


def test_waits_poll_until_empty_and_failures_stop_the_plan() -> None:
    answers = iter(["lb-1\n", "lb-1\n", ""])
    ran: list[tuple[str, ...]] = []

    def execute(argv: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
        ran.append(argv)
        if argv[0] == "wait":
            return subprocess.CompletedProcess(argv, 0, next(answers), "")
        return subprocess.CompletedProcess(argv, 1 if argv[0] == "fail" else 0, "", "boom")

    steps = [
        cluster.Step("wait", ("wait",), until_empty=True),
        cluster.Step("ok", ("ok",)),
        cluster.Step("fail", ("fail",)),
        cluster.Step("never", ("never",)),
    ]
    assert cluster.run_plan(steps, dry_run=False, execute=execute, poll_seconds=0) == 1
    assert ran == [("wait",), ("wait",), ("wait",), ("ok",), ("fail",)]


def test_infra_sync_writes_terraform_outputs_the_manifests_can_load(tmp_path: Path) -> None:
    current = json.loads((ENVIRONMENTS_DIR / "infrastructure.json").read_text())
    outputs = {key: {"value": value, "type": "string", "sensitive": False} for key, value in current.items()}
    outputs["cluster_endpoint"] = {"value": "https://example.eks.amazonaws.com", "type": "string", "sensitive": False}
    outputs["backup_bucket"]["value"] = "new-bucket"
    cluster.infra_sync(json.dumps(outputs), tmp_path)
    loaded = load_infrastructure(tmp_path)
    assert isinstance(loaded, Infrastructure)
    assert loaded.backup_bucket == "new-bucket"
    assert "cluster_endpoint" not in json.loads((tmp_path / "infrastructure.json").read_text())
    del outputs["cert_manager_role_arn"]
    with pytest.raises(KeyError, match="cert_manager_role_arn"):
        cluster.infra_sync(json.dumps(outputs), tmp_path)


def test_down_removes_every_ingress_and_waits_for_the_dns_records_before_external_dns_goes() -> None:
    """external-dns deletes the records of Ingresses it sees go: removed first, it would leave them."""
    steps = cluster.down_plan(SETTINGS)
    freeze = _index(steps, '{"spec":{"syncPolicy":null}}')
    ingresses = _index(steps, "delete ingress --all --all-namespaces")
    records = _index(steps, "list-resource-record-sets")
    platform = _index(steps, "grep -v")
    assert freeze < ingresses < records < platform
    # Every Application stops syncing first, so the self-managed Argo CD cannot put its own Ingress back.
    assert "applications --all" in " ".join(steps[freeze].argv) or "get applications" in " ".join(steps[freeze].argv)
    wait = steps[records]
    assert wait.until_empty
    assert load_infrastructure().hosted_zone_id in wait.argv
    assert "Type!='NS' && Type!='SOA'" in " ".join(wait.argv)  # the zone itself stays (force_destroy is off)


def test_every_deleting_wait_in_down_has_a_timeout() -> None:
    for step in cluster.down_plan(SETTINGS):
        command = " ".join(step.argv)
        if "delete" in command and "--wait" in command:
            assert "--timeout=" in command, step.description


def test_a_stuck_deletion_stops_down_and_names_what_is_stuck(capsys: pytest.CaptureFixture[str]) -> None:
    """A finalizer that never completes: kubectl's --timeout ends the step; the plan stops before terraform destroy."""
    ran: list[tuple[str, ...]] = []

    def execute(argv: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
        ran.append(argv)
        if "delete" in argv and "application" in argv:
            stuck = "error: timed out waiting for the condition on applications/expense-tracker-staging\n"
            return subprocess.CompletedProcess(argv, 1, "", stuck)
        return subprocess.CompletedProcess(argv, 0, "", "")

    assert cluster.run_plan(cluster.down_plan(SETTINGS), dry_run=False, execute=execute, poll_seconds=0) == 1
    printed = capsys.readouterr().out
    assert "applications/expense-tracker-staging" in printed
    assert "FAILED: Delete the app environments" in printed
    assert not any("destroy" in argv for argv in ran)


def test_up_waits_only_for_environments_that_have_an_image_and_says_what_to_do_next(tmp_path: Path) -> None:
    unreleased = cluster.unreleased_environments()
    assert sorted(unreleased) == ["production", "staging"]  # the committed placeholders (until the first release)
    steps = cluster.up_plan(SETTINGS)
    for state in ("Synced", "Healthy"):
        wait = steps[_index(steps, f"status}}={state}")].argv
        waited = {arg.removeprefix("application/") for arg in wait if arg.startswith("application/")}
        assert "--all" not in wait
        assert {"root", "argo-cd", "metrics-server", "observability"} <= waited
        assert not waited & {"expense-tracker-production", "expense-tracker-staging"}
    advice = {
        step.description.split(":")[0].removeprefix("Next for "): step.description
        for step in steps
        if step.description.startswith("Next for ")
    }
    assert sorted(advice) == ["production", "staging"]
    # Staging is released by the release workflow on a push to main; only the others are promoted from staging.
    assert "the release workflow publishes the image and commits its digest for staging" in advice["staging"]
    assert "promote" not in advice["staging"]
    assert "`nox -s release -- promote staging production`" in advice["production"]
    assert all("GHCR package public" in line for line in advice.values())

    # With a published image, an environment is waited for like everything else.
    environments = tmp_path / "environments"
    shutil.copytree(ENVIRONMENTS_DIR, environments)
    released = "ghcr.io/expense-tracker/expense-tracker@sha256:" + "ab" * 32
    (environments / "staging" / "image.txt").write_text(released + "\n")
    assert cluster.unreleased_environments(environments) == ["production"]
