"""Determinism, drift, layout, the YAML emitter, and the render/check/diff commands."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from manifests_py.__main__ import main
from manifests_py.render import DEFAULT_OUT, REPO_ROOT, read_tree, render, write_tree
from manifests_py.semantic_diff import semantic_diff, tree_at_revision
from manifests_py.yaml_emit import HEADER, dump

from tests.manifests.conftest import Document


def _render_in_subprocess(out: Path, hash_seed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    subprocess.run(
        [sys.executable, "-m", "manifests_py", "render", "--out", str(out)], cwd=REPO_ROOT, env=env, check=True
    )


def test_rendering_twice_in_fresh_interpreters_gives_identical_bytes(tmp_path: Path) -> None:
    _render_in_subprocess(tmp_path / "a", "1")
    _render_in_subprocess(tmp_path / "b", "4242")
    first, second = read_tree(tmp_path / "a"), read_tree(tmp_path / "b")
    assert first == second
    assert first == render()


def test_committed_tree_is_a_fresh_render(files: dict[str, str]) -> None:
    assert read_tree(DEFAULT_OUT) == files, "manifests/ is stale: run `python -m manifests_py render` and commit"


def test_one_file_per_object_named_by_kind_and_name(documents: list[Document], files: dict[str, str]) -> None:
    for path, document in zip(files, documents, strict=True):
        assert Path(path).name == f"{document['kind'].lower()}-{document['metadata']['name'].lower()}.yaml"
        assert files[path].startswith(HEADER)


def test_emitter_quotes_what_yaml_would_misread_and_round_trips() -> None:
    document = {
        "on": "on",
        "octal": "010",
        "version": "1.28",
        "yes": "yes",
        "date": "2026-11-26",
        "empty": "",
        "null": "null",
        "plain": "hello",
        "number": 3,
        "flag": True,
        "script": "line one\nline two\n",
        "items": [{"name": "b"}, {"name": "a"}],
    }
    text = dump(document)
    assert yaml.safe_load(text) == document
    for scalar in ("on", "010", "1.28", "yes", "2026-11-26", "null"):
        assert f'"{scalar}"' in text
    assert "script: |\n  line one\n  line two\n" in text
    assert "{" not in text  # block style only
    assert "[" not in text
    # Keys sorted, list order kept.
    assert text.index("date:") < text.index("empty:") < text.index("flag:")
    assert text.index("name: b") < text.index("name: a")


def test_empty_marker_objects_survive(documents: list[Document]) -> None:
    deny = [d for d in documents if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "default-deny"]
    assert deny
    assert all(d["spec"]["podSelector"] == {} for d in deny)
    deployments = [d for d in documents if d["kind"] == "Deployment"]
    assert all(d["spec"]["template"]["spec"]["volumes"][0]["emptyDir"] for d in deployments)


def test_write_tree_removes_files_of_objects_that_no_longer_exist(tmp_path: Path) -> None:
    write_tree({"a/one.yaml": "1\n", "b/two.yaml": "2\n"}, tmp_path)
    write_tree({"a/one.yaml": "1\n"}, tmp_path)
    assert read_tree(tmp_path) == {"a/one.yaml": "1\n"}
    assert not (tmp_path / "b").exists()


def test_check_passes_on_the_committed_tree_and_fails_with_a_diff_on_drift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check"]) == 0
    copy = tmp_path / "manifests"
    shutil.copytree(DEFAULT_OUT, copy)
    hpa = copy / "apps/staging/horizontalpodautoscaler-expense-tracker.yaml"
    hpa.write_text(hpa.read_text().replace("maxReplicas: 3", "maxReplicas: 30"))
    (copy / "cluster/configmap-hand-made.yaml").write_text("kind: ConfigMap\n")
    capsys.readouterr()
    assert main(["check", "--out", str(copy)]) == 1
    out = capsys.readouterr().out
    assert "-  maxReplicas: 30\n+  maxReplicas: 3" in out
    assert "--- a/manifests/cluster/configmap-hand-made.yaml" in out


def test_semantic_diff_names_objects_and_fields(files: dict[str, str]) -> None:
    changed = dict(files)
    path = "apps/production/deployment-expense-tracker.yaml"
    changed[path] = files[path].replace("sha256:" + "0" * 64, "sha256:" + "a" * 64)
    del changed["apps/staging/poddisruptionbudget-expense-tracker.yaml"]
    report = semantic_diff(files, changed)
    assert "changed  Deployment expense-tracker-production/expense-tracker" in report
    assert any(line.startswith("  ~ spec.template.spec.containers[expense-tracker].image:") for line in report)
    assert "removed  PodDisruptionBudget expense-tracker-staging/expense-tracker" in report
    assert len([line for line in report if not line.startswith("  ")]) == 2


def test_diff_command_against_head_reads_the_committed_tree(capsys: pytest.CaptureFixture[str]) -> None:
    if not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    status = subprocess.run(
        ["git", "status", "--porcelain", "--", "manifests"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout
    committed = tree_at_revision("HEAD", REPO_ROOT)
    assert main(["diff", "HEAD"]) == 0
    out = capsys.readouterr().out
    if status:  # a developer's uncommitted render: the report names what differs
        assert committed != read_tree(DEFAULT_OUT)
        assert re.search(r"^(added|removed|changed)  ", out, re.MULTILINE)
    else:
        assert committed == read_tree(DEFAULT_OUT)
        assert out.strip() == "no changes since HEAD"
