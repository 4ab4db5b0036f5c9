"""Per-object diff of two manifest trees: what an operator reviewing an ArgoCD sync wants to read.

Objects are matched by kind/namespace/name (not by file), and changes are listed per field path, with list items that
have a ``name`` matched by that name rather than by position (so inserting one env var is one change, not twenty).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ObjectKey = tuple[str, str, str]  # kind, namespace, name


def objects_of(files: dict[str, str]) -> dict[ObjectKey, dict[str, Any]]:
    found = {}
    for content in files.values():
        document = yaml.safe_load(content)
        metadata = document.get("metadata", {})
        found[(document["kind"], metadata.get("namespace", ""), metadata["name"])] = document
    return found


def _git(root: Path, *args: str) -> str:
    # Arguments are passed as a list (no shell); git is looked up on PATH like any developer's git.
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout  # noqa: S603, S607


def tree_at_revision(revision: str, root: Path, directory: str = "manifests") -> dict[str, str]:
    """The ``manifests/`` tree as committed at ``revision`` (read with git; the working tree is untouched)."""
    listing = _git(root, "ls-tree", "-r", "--name-only", revision, "--", directory).split()
    return {
        path.removeprefix(f"{directory}/"): _git(root, "show", f"{revision}:{path}")
        for path in listing
        if path.endswith(".yaml")
    }


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        if not value:
            yield prefix, {}
        for key in sorted(value):
            yield from _flatten(value[key], f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        named = all(isinstance(item, dict) and "name" in item for item in value) and value
        for index, item in enumerate(value):
            label = f"[{item['name']}]" if named else f"[{index}]"
            yield from _flatten(item, f"{prefix}{label}")
        if not value:
            yield prefix, []
    else:
        yield prefix, value


def field_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    before, after = dict(_flatten(old)), dict(_flatten(new))
    lines = []
    for path in sorted(set(before) | set(after)):
        if path not in after:
            lines.append(f"  - {path}: {before[path]!r}")
        elif path not in before:
            lines.append(f"  + {path}: {after[path]!r}")
        elif before[path] != after[path]:
            lines.append(f"  ~ {path}: {before[path]!r} -> {after[path]!r}")
    return lines


def describe(key: ObjectKey) -> str:
    kind, namespace, name = key
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def semantic_diff(old_files: dict[str, str], new_files: dict[str, str]) -> list[str]:
    old, new = objects_of(old_files), objects_of(new_files)
    report = []
    for key in sorted(set(old) | set(new)):
        if key not in old:
            report.append(f"added    {describe(key)}")
        elif key not in new:
            report.append(f"removed  {describe(key)}")
        elif old[key] != new[key]:
            report.append(f"changed  {describe(key)}")
            report += field_changes(old[key], new[key])
    return report
