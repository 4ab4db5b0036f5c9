"""Secrets Manager values the cluster reads: `cluster up`'s preflight, and a way to set them that never echoes.

Terraform creates the secrets empty; an ExternalSecret whose entry has no value (or lacks a key) is Degraded, which
stops Argo CD's sync before the database exists (issue #11, defect 3). What is required is read from the rendered
ExternalSecrets, so a new key in the manifests is checked without a second list to keep in step.
"""

from __future__ import annotations

import getpass
import json
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

from manifests_py.render import DEFAULT_OUT

Run = Callable[[Sequence[str], str | None], "subprocess.CompletedProcess[str]"]
Prompt = Callable[[str], str]


def aws(argv: Sequence[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["aws", *argv], input=stdin, capture_output=True, text=True, check=False)  # noqa: S603,S607


def required_secrets(tree: Path = DEFAULT_OUT) -> dict[str, set[str]]:
    """Secrets Manager id -> the JSON keys the rendered ExternalSecrets read from it."""
    required: dict[str, set[str]] = {}
    for path in sorted(tree.rglob("externalsecret-*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            for item in document["spec"].get("data", []):
                required.setdefault(item["remoteRef"]["key"], set()).add(item["remoteRef"]["property"])
    return required


def set_command(secret: str, region: str) -> str:
    return f"python -m manifests_py secrets set {secret} --region {region}"


def check(region: str, run: Run = aws, tree: Path = DEFAULT_OUT) -> list[str]:
    """One line per secret that has no current value or lacks a required key (empty: all set)."""
    problems = []
    for secret, keys in sorted(required_secrets(tree).items()):
        query = ["--query", "SecretString", "--output", "text"]
        result = run(["secretsmanager", "get-secret-value", "--secret-id", secret, "--region", region, *query], None)
        if result.returncode != 0:
            reason = (result.stderr.strip().splitlines() or ["no value"])[-1]
            problems.append(f"{secret}: no value yet ({reason}); set it with: {set_command(secret, region)}")
            continue
        try:
            value = json.loads(result.stdout)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            problems.append(f"{secret}: the value is not a JSON object; set it with: {set_command(secret, region)}")
            continue
        missing = sorted(key for key in keys if not str(value.get(key, "")).strip())
        if missing:
            problems.append(f"{secret}: missing {', '.join(missing)}; set it with: {set_command(secret, region)}")
    return problems


def set_secret(
    secret: str, region: str, prompt: Prompt = getpass.getpass, run: Run = aws, tree: Path = DEFAULT_OUT
) -> None:
    """Prompt (without echo) for every key the manifests read from ``secret`` and store them as its new value.

    The value goes to the AWS CLI on standard input, never on its command line (other users could read that)."""
    keys = required_secrets(tree).get(secret)
    if not keys:
        raise SystemExit(f"no ExternalSecret reads {secret!r}; known: {', '.join(sorted(required_secrets(tree)))}")
    values: dict[str, str] = {}
    for key in sorted(keys):
        value = prompt(f"{secret} {key} (not shown): ").strip()
        if not value:
            raise SystemExit(f"{key} must not be empty; nothing was stored")
        values[key] = value
    argv = ["secretsmanager", "put-secret-value", "--secret-id", secret, "--region", region]
    result = run([*argv, "--secret-string", "file:///dev/stdin"], json.dumps(values))
    if result.returncode != 0:
        raise SystemExit(f"storing {secret} failed: {result.stderr.strip()}")
