"""`cluster up`'s secrets preflight against a stand-in AWS CLI, and the no-echo setter."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence

import pytest
from manifests_py import cluster, secrets

from tests.terraform.test_lifecycle import SETTINGS, _index

# What the rendered ExternalSecrets read, written out (the app's keys depend on each environment's providers).
EXPECTED = {
    "expense-tracker/alertmanager": {"slack-critical-url", "slack-warning-url"},
    "expense-tracker/grafana-admin": {"admin-user", "admin-password"},
}


class StandInAws:
    """Secrets Manager as the AWS CLI answers it: a stored JSON string, or an error for a secret without a value."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.calls: list[tuple[list[str], str | None]] = []

    def __call__(self, argv: Sequence[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
        self.calls.append((list(argv), stdin))
        secret = argv[argv.index("--secret-id") + 1]
        if argv[1] == "put-secret-value":
            self.values[secret] = stdin or ""
            return subprocess.CompletedProcess(list(argv), 0, "{}", "")
        if secret not in self.values:
            error = "An error occurred (ResourceNotFoundException) ... can't find the specified secret value"
            return subprocess.CompletedProcess(list(argv), 254, "", error)
        return subprocess.CompletedProcess(list(argv), 0, self.values[secret] + "\n", "")


def complete_values() -> dict[str, str]:
    return {secret: json.dumps(dict.fromkeys(keys, "value")) for secret, keys in secrets.required_secrets().items()}


def test_the_preflight_reads_its_list_from_the_rendered_external_secrets() -> None:
    required = secrets.required_secrets()
    for secret, keys in EXPECTED.items():
        assert required[secret] == keys
    assert any(secret.endswith("/production/app") and "SECRET_KEY" in keys for secret, keys in required.items())


def test_up_checks_the_secrets_after_terraform_and_before_anything_syncs() -> None:
    steps = cluster.up_plan(SETTINGS)
    check = _index(steps, "manifests_py secrets check")
    assert _index(steps, "terraform -chdir=terraform apply") < check < _index(steps, "manifests/bootstrap/")
    assert steps[check].argv[-2:] == ("--region", "eu-west-1")


def test_a_missing_value_and_a_missing_key_are_named_with_how_to_set_them() -> None:
    values = complete_values()
    del values["expense-tracker/grafana-admin"]  # created by Terraform, never given a value
    values["expense-tracker/alertmanager"] = json.dumps({"slack-critical-url": "https://hooks.example/x"})
    problems = secrets.check("eu-west-1", run=StandInAws(values))
    assert len(problems) == 2
    assert problems[0].startswith("expense-tracker/alertmanager: missing slack-warning-url; set it with: ")
    assert "python -m manifests_py secrets set expense-tracker/alertmanager --region eu-west-1" in problems[0]
    assert problems[1].startswith("expense-tracker/grafana-admin: no value yet (An error occurred")


def test_complete_values_pass() -> None:
    assert secrets.check("eu-west-1", run=StandInAws(complete_values())) == []


def test_set_prompts_for_every_key_and_never_puts_a_value_on_the_command_line() -> None:
    aws = StandInAws({})
    asked: list[str] = []

    def prompt(question: str) -> str:
        asked.append(question)
        return "https://hooks.example/" + question.split()[1]

    secrets.set_secret("expense-tracker/alertmanager", "eu-west-1", prompt=prompt, run=aws)
    assert [q.split()[1] for q in asked] == ["slack-critical-url", "slack-warning-url"]
    ((argv, stdin),) = aws.calls
    assert "https://hooks.example/slack-critical-url" not in " ".join(argv)  # other users can read argv
    assert json.loads(stdin or "") == {
        "slack-critical-url": "https://hooks.example/slack-critical-url",
        "slack-warning-url": "https://hooks.example/slack-warning-url",
    }
    assert secrets.check("eu-west-1", run=aws, tree=secrets.DEFAULT_OUT) != []  # the other secrets are still empty


def test_an_empty_answer_stores_nothing() -> None:
    aws = StandInAws({})
    with pytest.raises(SystemExit, match="must not be empty"):
        secrets.set_secret("expense-tracker/alertmanager", "eu-west-1", prompt=lambda _: " ", run=aws)
    assert aws.calls == []
