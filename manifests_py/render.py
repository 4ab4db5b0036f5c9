"""Build every object, lay them out one file each, write or compare the tree."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

from hikaru import get_clean_dict

from manifests_py.components import app, cluster, gitops, observability, platform
from manifests_py.environments import ENVIRONMENTS_DIR, load_all, load_infrastructure, load_ops
from manifests_py.objects import Manifest
from manifests_py.yaml_emit import dump

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "manifests"


def build_all(environments_dir: Path = ENVIRONMENTS_DIR) -> list[Manifest]:
    environments = load_all(environments_dir)
    infrastructure = load_infrastructure(environments_dir)
    manifests = [
        *gitops.bootstrap(),
        *gitops.projects(environments, sorted({chart.repository for chart in platform.CHARTS})),
        *platform.build(infrastructure, load_ops(environments_dir)),
        *gitops.app_applications(environments),
        *cluster.build(infrastructure),
        *observability.build(),
    ]
    for environment in environments:
        manifests += app.build(environment)
    return manifests


def render(environments_dir: Path = ENVIRONMENTS_DIR) -> dict[str, str]:
    """Relative path → file content for the whole tree."""
    files: dict[str, str] = {}
    for manifest in build_all(environments_dir):
        if manifest.path in files:
            raise ValueError(f"two objects would be written to {manifest.path}")
        files[manifest.path] = dump(get_clean_dict(manifest.obj))
    return dict(sorted(files.items()))


def read_tree(root: Path) -> dict[str, str]:
    if not root.exists():
        return {}
    return {str(path.relative_to(root)): path.read_text() for path in sorted(root.rglob("*.yaml"))}


def write_tree(files: dict[str, str], out: Path) -> None:
    """Make ``out`` hold exactly ``files``: stale files of removed objects are deleted, not left to linger."""
    for stale in set(read_tree(out)) - set(files):
        (out / stale).unlink()
    for relative, content in files.items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_text() != content:
            target.write_text(content)
    for directory in sorted((p for p in out.rglob("*") if p.is_dir()), reverse=True):
        if not any(directory.iterdir()):
            directory.rmdir()


def tree_diff(expected: dict[str, str], actual: dict[str, str]) -> Iterable[str]:
    """Unified diff lines from the committed tree (``actual``) to a fresh render (``expected``)."""
    for path in sorted(set(expected) | set(actual)):
        old, new = actual.get(path), expected.get(path)
        if old == new:
            continue
        yield from difflib.unified_diff(
            (old or "").splitlines(keepends=True),
            (new or "").splitlines(keepends=True),
            fromfile=f"a/manifests/{path}" if old is not None else "/dev/null",
            tofile=f"b/manifests/{path}" if new is not None else "/dev/null",
        )
