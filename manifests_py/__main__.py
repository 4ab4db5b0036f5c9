"""``python -m manifests_py render|check|diff`` — see ``--help``."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from manifests_py import cluster, crd_schemas, release, review, secrets
from manifests_py.environments import InvalidEnvironmentError, load_infrastructure
from manifests_py.render import DEFAULT_OUT, REPO_ROOT, read_tree, render, tree_diff, write_tree
from manifests_py.semantic_diff import semantic_diff, tree_at_revision
from manifests_py.validate import validate_files


def _render(args: argparse.Namespace) -> int:
    files = render()
    write_tree(files, args.out)
    print(f"wrote {len(files)} objects to {args.out}")
    return 0


def _check(args: argparse.Namespace) -> int:
    """Render into a temporary directory, validate, and compare with the committed tree."""
    files = render()
    with tempfile.TemporaryDirectory() as temporary:
        write_tree(files, Path(temporary))
        fresh = read_tree(Path(temporary))
    failures = validate_files(fresh)
    for line in failures:
        print(f"invalid: {line}", file=sys.stderr)
    drift = list(tree_diff(fresh, read_tree(args.out)))
    if drift:
        sys.stdout.writelines(drift)
        print(
            f"\n{args.out} differs from a fresh render: run `python -m manifests_py render` and commit.",
            file=sys.stderr,
        )
    if failures or drift:
        return 1
    print(f"{len(fresh)} objects valid and identical to {args.out}")
    return 0


def _diff(args: argparse.Namespace) -> int:
    report = semantic_diff(tree_at_revision(args.revision, REPO_ROOT), read_tree(args.out))
    print("\n".join(report) if report else f"no changes since {args.revision}")
    return 0


def _review(args: argparse.Namespace) -> int:
    plan = args.plan_summary.read_text() if args.plan_summary and args.plan_summary.exists() else None
    markdown = review.review_markdown(
        tree_at_revision(args.base, REPO_ROOT), read_tree(args.out), args.base, plan=plan, footer=args.footer
    )
    print(markdown)
    return 0


def _plan_summary(args: argparse.Namespace) -> int:
    print(review.plan_summary(json.loads(args.plan_json.read_text())))
    return 0


def _cluster(args: argparse.Namespace) -> int:
    settings = cluster.Settings(region=args.region, state_bucket=args.state_bucket, var_file=args.var_file)
    plans = {"up": cluster.up_plan, "down": cluster.down_plan, "status": cluster.status_plan}
    return cluster.run_plan(plans[args.action](settings), dry_run=args.dry_run)


def _infra_sync(args: argparse.Namespace) -> int:
    if args.dry_run:
        print(f"terraform -chdir={cluster.TERRAFORM_DIR} output -json > manifests_py/environments/infrastructure.json")
        return 0
    if args.outputs:
        outputs = args.outputs.read_text()
    else:
        outputs = subprocess.run(  # noqa: S603 - fixed argv
            ["terraform", f"-chdir={cluster.TERRAFORM_DIR}", "output", "-json"],  # noqa: S607
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    path = cluster.infra_sync(outputs, out=DEFAULT_OUT)
    print(f"wrote {path} and re-rendered {DEFAULT_OUT}; commit both")
    return 0


def _secrets(args: argparse.Namespace) -> int:
    if args.action == "set":
        if not args.secret:
            print("usage: python -m manifests_py secrets set SECRET_ID [--region R]")
            return 2
        secrets.set_secret(args.secret, args.region)
        print(f"stored a new value of {args.secret}")
        return 0
    problems = secrets.check(args.region)
    for problem in problems:
        print(problem)
    if not problems:
        print("every secret the cluster reads has a value with its keys")
    return 1 if problems else 0


def _argocd_values(args: argparse.Namespace) -> int:
    path = cluster.write_argocd_values(REPO_ROOT / args.path)
    print(f"wrote {path}")
    return 0


def _crd_schemas(args: argparse.Namespace) -> int:
    written = crd_schemas.refresh(args.files)
    for path in written:
        print(f"wrote {path.relative_to(REPO_ROOT)}")
    if not written:
        print("error: none of the schemas in tests/data/crd-schemas is defined in those files", file=sys.stderr)
        return 1
    print("now record the chart version, tag, commit and file in tests/data/crd-schemas/SOURCES.toml")
    return 0


def _release(args: argparse.Namespace) -> int:
    if args.action == "set-image":
        release.set_image(args.environment, args.image)
        print(f"{args.environment} now runs {args.image}; manifests/ re-rendered")
    else:
        image = release.promote(args.source, args.target)
        print(f"{args.target} now runs {image} (from {args.source}); manifests/ re-rendered")
    return 0


def _add_review_commands(commands: Any) -> None:
    review_cmd = commands.add_parser("review", help="PR review markdown: per-environment object changes since BASE")
    review_cmd.add_argument("base", help="git revision the pull request merges into")
    review_cmd.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the tree to compare (default manifests/)")
    review_cmd.add_argument("--plan-summary", type=Path, default=None, help="markdown from `plan-summary` (optional)")
    review_cmd.add_argument("--footer", default="", help="a last line (e.g. the link to the run)")
    review_cmd.set_defaults(run=_review)
    plan_cmd = commands.add_parser("plan-summary", help="markdown summary of `terraform show -json PLANFILE` output")
    plan_cmd.add_argument("plan_json", type=Path)
    plan_cmd.set_defaults(run=_plan_summary)


def build_parser() -> argparse.ArgumentParser:
    """Every subcommand and its arguments (docs/operations.md's commands are checked against this parser)."""
    parser = argparse.ArgumentParser(prog="python -m manifests_py", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    render_cmd = commands.add_parser("render", help="write every object to manifests/ (one file each)")
    render_cmd.add_argument("--out", type=Path, default=DEFAULT_OUT)
    render_cmd.set_defaults(run=_render)
    check_cmd = commands.add_parser("check", help="validate a fresh render and fail with a diff if manifests/ differs")
    check_cmd.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the committed tree to compare with")
    check_cmd.set_defaults(run=_check)
    diff_cmd = commands.add_parser("diff", help="per-object, per-field changes of manifests/ since a git revision")
    diff_cmd.add_argument("revision", nargs="?", default="HEAD")
    diff_cmd.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the tree to compare (default manifests/)")
    diff_cmd.set_defaults(run=_diff)
    _add_review_commands(commands)
    cluster_cmd = commands.add_parser("cluster", help="bring the AWS cluster up, down, or show its status")
    cluster_cmd.add_argument("action", choices=["up", "down", "status"])
    cluster_cmd.add_argument(
        "--dry-run", action="store_true", help="print the commands, in order, without running them"
    )
    cluster_cmd.add_argument("--region", default=None, help="AWS region (default: infrastructure.json aws_region)")
    cluster_cmd.add_argument(
        "--state-bucket",
        required=True,
        help="S3 bucket for the Terraform state (created, versioned and encrypted if missing)",
    )
    cluster_cmd.add_argument("--var-file", default=None, help="Terraform variables file, relative to terraform/")
    cluster_cmd.set_defaults(run=_cluster)
    sync_cmd = commands.add_parser("infra-sync", help="copy `terraform output -json` into the environments' data")
    sync_cmd.add_argument("--outputs", type=Path, default=None, help="a saved `terraform output -json` file")
    sync_cmd.add_argument("--dry-run", action="store_true")
    sync_cmd.set_defaults(run=_infra_sync)
    values_cmd = commands.add_parser("argocd-values", help="write the Argo CD Application's Helm values to PATH")
    values_cmd.add_argument("path", type=Path)
    values_cmd.set_defaults(run=_argocd_values)
    secrets_cmd = commands.add_parser("secrets", help="check or set the Secrets Manager values the cluster reads")
    secrets_cmd.add_argument("action", choices=["check", "set"])
    secrets_cmd.add_argument(
        "secret", nargs="?", help="with `set`: the Secrets Manager id, e.g. expense-tracker/alertmanager"
    )
    secrets_cmd.add_argument("--region", default=None, help="AWS region (default: infrastructure.json aws_region)")
    secrets_cmd.set_defaults(run=_secrets)
    release_cmd = commands.add_parser("release", help="image bumps: set-image ENV IMAGE, promote SOURCE TARGET")
    release_actions = release_cmd.add_subparsers(dest="action", required=True)
    set_image = release_actions.add_parser("set-image", help="point an environment at an image by digest")
    set_image.add_argument("environment")
    set_image.add_argument("image", help="ghcr.io/…/expense-tracker@sha256:<64 hex>")
    promote = release_actions.add_parser("promote", help="copy one environment's image to another")
    promote.add_argument("source")
    promote.add_argument("target")
    release_cmd.set_defaults(run=_release)
    schemas_cmd = commands.add_parser(
        "crd-schemas", help="rewrite tests/data/crd-schemas from the CRD YAML of a pinned chart version"
    )
    schemas_cmd.add_argument("files", nargs="+", type=Path, help="CRD YAML files (a chart's CRD templates)")
    schemas_cmd.set_defaults(run=_crd_schemas)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command in {"cluster", "secrets"} and args.region is None:
            args.region = load_infrastructure().aws_region
        return int(args.run(args))
    except InvalidEnvironmentError as error:  # names the file, the key and the reason: no traceback needed
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
