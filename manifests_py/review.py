"""The pull-request review text: per environment, the objects Argo CD will change and how (field by field), and the
`terraform plan` summary when the plan job ran. Markdown for the job summary and the one PR comment CI keeps updated.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

from manifests_py.semantic_diff import ObjectKey, _flatten, describe, objects_of

MARKER = "<!-- expense-tracker-review -->"
# GitHub refuses comment bodies over 65,536 characters; leave room for the truncation note.
COMMENT_LIMIT = 65_536
_BUDGET = COMMENT_LIMIT - 1_000
_VALUE_WIDTH = 80

# The directories of manifests/ and which Argo CD Application syncs each (manifests_py/components/gitops.py).
GROUP_TITLES = {
    "bootstrap": "bootstrap (applied by `cluster up`)",
    "argocd": "argocd (Application root)",
    "cluster": "cluster (Application cluster-config)",
    "observability": "observability (Application observability)",
}


def group_of(path: str) -> str:
    """`apps/production/deployment-x.yaml` -> `apps/production`; `argocd/x.yaml` -> `argocd`."""
    parts = PurePosixPath(path).parts
    return "/".join(parts[:2]) if parts[0] == "apps" and len(parts) > 2 else parts[0]


def _title(group: str) -> str:
    if group.startswith("apps/"):
        environment = group.removeprefix("apps/")
        return f"{group} (Application expense-tracker-{environment})"
    return GROUP_TITLES.get(group, group)


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    text = text.replace("\n", "⏎").replace("`", "'")
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 1] + "…"


def field_changes(old: dict[str, Any], new: dict[str, Any]) -> Iterator[str]:
    before, after = dict(_flatten(old)), dict(_flatten(new))
    for path in sorted(set(before) | set(after)):
        if path not in after:
            yield f"{path} `{_show(before[path])}` → (removed)"
        elif path not in before:
            yield f"{path} (new) → `{_show(after[path])}`"
        elif before[path] != after[path]:
            yield f"{path} `{_show(before[path])}` → `{_show(after[path])}`"


def _by_group(files: dict[str, str]) -> dict[str, dict[str, str]]:
    groups: dict[str, dict[str, str]] = {}
    for path, content in files.items():
        groups.setdefault(group_of(path), {})[path] = content
    return groups


def group_changes(group: str, old_files: dict[str, str], new_files: dict[str, str]) -> list[str]:
    """One line per object added/removed and per field changed: `group · Kind ns/name · field old → new`."""
    old, new = objects_of(old_files), objects_of(new_files)
    lines = []
    key: ObjectKey
    for key in sorted(set(old) | set(new)):
        where = f"{group} · {describe(key)}"
        if key not in old:
            lines.append(f"{where} · added")
        elif key not in new:
            lines.append(f"{where} · removed")
        elif old[key] != new[key]:
            lines += [f"{where} · {change}" for change in field_changes(old[key], new[key])]
    return lines


def manifests_section(old_files: dict[str, str], new_files: dict[str, str], base: str) -> str:
    old_groups, new_groups = _by_group(old_files), _by_group(new_files)
    sections = []
    for group in sorted(set(old_groups) | set(new_groups)):
        lines = group_changes(group, old_groups.get(group, {}), new_groups.get(group, {}))
        if lines:
            body = "\n".join(f"- {line}" for line in lines)
            sections.append(f"### {_title(group)}\n\n{len(lines)} change(s)\n\n{body}")
    if not sections:
        return f"## manifests/\n\nNo object changes against `{base}`: Argo CD will change nothing."
    return f"## manifests/ — what Argo CD will change (against `{base}`)\n\n" + "\n\n".join(sections)


def plan_summary(plan: dict[str, Any]) -> str:
    """Markdown from `terraform show -json PLANFILE`: counts as `terraform plan` prints them, then one line per
    resource that changes. Replacements (delete+create either order) count as one add and one destroy, like the CLI."""
    counts: Counter[str] = Counter()
    lines = []
    for change in plan.get("resource_changes", []):
        actions = change["change"]["actions"]
        if actions in (["no-op"], ["read"]):
            continue
        if sorted(actions) == ["create", "delete"]:
            counts["add"] += 1
            counts["destroy"] += 1
            label = "replace"
        elif actions == ["create"]:
            counts["add"] += 1
            label = "create"
        elif actions == ["update"]:
            counts["change"] += 1
            label = "update"
        elif actions == ["delete"]:
            counts["destroy"] += 1
            label = "destroy"
        else:
            raise ValueError(f"unknown plan actions {actions} for {change['address']}")
        lines.append(f"- `{change['address']}` · {label}")
    headline = f"Plan: {counts['add']} to add, {counts['change']} to change, {counts['destroy']} to destroy."
    drift = [d["address"] for d in plan.get("resource_drift", [])]
    parts = [f"## terraform plan\n\n**{headline}**" if lines else "## terraform plan\n\n**No changes.**"]
    if lines:
        parts.append("\n".join(lines))
    if drift:
        parts.append("Changed outside Terraform (drift): " + ", ".join(f"`{address}`" for address in drift))
    return "\n\n".join(parts)


def truncate(text: str, limit: int = _BUDGET, hint: str = "") -> str:
    if len(text) <= limit:
        return text
    kept = text[:limit].rsplit("\n", 1)[0]
    dropped = text[len(kept) :].count("\n")
    return f"{kept}\n\n… truncated: {dropped} more line(s) not shown (GitHub's comment limit). {hint}".rstrip()


def review_markdown(
    old_files: dict[str, str], new_files: dict[str, str], base: str, plan: str | None = None, footer: str = ""
) -> str:
    """The whole comment: the marker (so CI finds and updates its own comment), the plan summary first (it is short),
    then the manifests section, truncated to fit GitHub's comment limit."""
    head = [MARKER, "# Review: infrastructure and manifests"]
    if plan:
        head.append(plan.strip())
    prefix = "\n\n".join(head) + "\n\n"
    hint = f"Run `python -m manifests_py diff {base}` for the full list."
    tail = f"\n\n{footer}" if footer else ""
    manifests = truncate(manifests_section(old_files, new_files, base), _BUDGET - len(prefix) - len(tail), hint)
    return prefix + manifests + tail
