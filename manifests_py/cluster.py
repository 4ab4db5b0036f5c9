"""Cluster lifecycle: `up` from nothing to a synced cluster, `down` back to nothing, `status`, and `infra-sync`.

Each command is a plan — an ordered list of steps — so `--dry-run` prints exactly what would run, and the tests assert
the order (above all: `down` waits until load balancers and volumes are gone before `terraform destroy`). Every step
is idempotent, so an interrupted `up` is resumed by running it again.
"""

from __future__ import annotations

import json
import posixpath
import shlex
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from manifests_py import names
from manifests_py.components.platform import ARGO_CD
from manifests_py.environments import (
    ENVIRONMENT_NAMES,
    ENVIRONMENTS_DIR,
    INFRASTRUCTURE_FILE,
    Infrastructure,
    load_environment,
    load_infrastructure,
)
from manifests_py.render import render, write_tree

REPO_ROOT = Path(__file__).resolve().parent.parent
UNRELEASED_DIGEST = "@sha256:" + "0" * 64
# The environment the release workflow bumps on every push to main; the others get its image by promotion.
RELEASED_FIRST = "staging"
TERRAFORM_DIR = "terraform"
STATE_KEY = f"{names.CLUSTER_NAME}/terraform.tfstate"
# Long-lived root (issue #11): the backup bucket and its key. `up` applies it first (the main root looks both up by
# name); `down` never destroys it, so backups survive a teardown.
BACKUPS_DIR = f"{TERRAFORM_DIR}/backups"
BACKUPS_STATE_KEY = f"{names.CLUSTER_NAME}/backups.tfstate"
WAIT_TIMEOUT_SECONDS = 1800
ARGOCD_VALUES_FILE = "build/argocd-values.yaml"  # relative to the repository root; build/ is git-ignored
ARGOCD_APPLICATION_FILE = f"{names.MANIFESTS_DIR}/argocd/application-{ARGO_CD.name}.yaml"


def write_argocd_values(path: Path) -> Path:
    """Write the Helm values of the committed Argo CD Application, so `up` installs exactly what Argo CD then keeps."""
    application = yaml.safe_load((REPO_ROOT / ARGOCD_APPLICATION_FILE).read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(application["spec"]["source"]["helm"]["valuesObject"], sort_keys=True))
    return path


@dataclass(frozen=True)
class Step:
    """A command to run; with ``until_empty`` it is polled until it prints nothing (a wait)."""

    description: str
    argv: tuple[str, ...]
    until_empty: bool = False
    allow_failure: bool = False

    def render(self) -> str:
        prefix = "wait until empty: " if self.until_empty else ""
        return f"# {self.description}\n{prefix}{shlex.join(self.argv)}"


@dataclass(frozen=True)
class Settings:
    region: str
    state_bucket: str
    var_file: str | None = None

    @property
    def backend_args(self) -> tuple[str, ...]:
        return self.backend_args_for(STATE_KEY)

    def backend_args_for(self, key: str) -> tuple[str, ...]:
        return (
            f"-backend-config=bucket={self.state_bucket}",
            f"-backend-config=key={key}",
            f"-backend-config=region={self.region}",
        )

    @property
    def state_bucket_var(self) -> tuple[str, ...]:
        """The main root's `state_bucket` variable (the CI plan role may read that bucket's state object)."""
        return (f"-var=state_bucket={self.state_bucket}",)


def _terraform(*args: str, root: str = TERRAFORM_DIR) -> tuple[str, ...]:
    return ("terraform", f"-chdir={root}", *args)


def _var_file(settings: Settings, root: str = TERRAFORM_DIR) -> tuple[str, ...]:
    """The variables file (given relative to terraform/, like the main root runs) as seen from ``root``."""
    if not settings.var_file:
        return ()
    path = settings.var_file
    if not posixpath.isabs(path):
        path = posixpath.relpath(posixpath.join(TERRAFORM_DIR, path), root)
    return (f"-var-file={path}",)


def _kubectl(*args: str) -> tuple[str, ...]:
    return ("kubectl", *args)


def state_bucket_steps(settings: Settings) -> list[Step]:
    bucket, region = settings.state_bucket, settings.region
    create = (
        f"aws s3api head-bucket --bucket {bucket} 2>/dev/null || ("
        f"aws s3api create-bucket --bucket {bucket} --region {region} "
        f"--create-bucket-configuration LocationConstraint={region} && "
        f"aws s3api put-bucket-versioning --bucket {bucket} --versioning-configuration Status=Enabled && "
        f"aws s3api put-bucket-encryption --bucket {bucket} --server-side-encryption-configuration "
        '\'{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms"}}]}\' && '
        f"aws s3api put-public-access-block --bucket {bucket} --public-access-block-configuration "
        "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true)"
    )
    return [Step("Terraform state bucket (versioned, encrypted, private), created once", ("sh", "-c", create))]


def kubeconfig_step(settings: Settings) -> Step:
    return Step(
        "Point kubectl at the cluster",
        ("aws", "eks", "update-kubeconfig", "--name", names.CLUSTER_NAME, "--region", settings.region),
    )


def unreleased_environments(directory: Path = ENVIRONMENTS_DIR) -> list[str]:
    """Environments whose image.txt still holds the all-zero placeholder digest (nothing published yet)."""
    return [name for name in ENVIRONMENT_NAMES if load_environment(name, directory).image.endswith(UNRELEASED_DIGEST)]


def application_names(tree: Path = REPO_ROOT / "manifests") -> list[str]:
    """Every Argo CD Application the bootstrap brings, by name, from the committed tree."""
    return sorted(
        document["metadata"]["name"]
        for path in sorted(tree.rglob("application-*.yaml"))
        for document in yaml.safe_load_all(path.read_text())
        if document["kind"] == "Application"
    )


def up_plan(settings: Settings) -> list[Step]:
    unreleased = unreleased_environments()
    waiting_for = {names.app_namespace(environment) for environment in unreleased}
    expected = [name for name in application_names() if name not in waiting_for]
    return [
        *state_bucket_steps(settings),
        Step(
            "Initialise the long-lived backups root (its own state key; `down` never destroys it)",
            _terraform("init", "-input=false", *settings.backend_args_for(BACKUPS_STATE_KEY), root=BACKUPS_DIR),
        ),
        Step(
            "Create or keep the backup bucket and its KMS key",
            _terraform("apply", "-input=false", "-auto-approve", *_var_file(settings, BACKUPS_DIR), root=BACKUPS_DIR),
        ),
        Step(
            "Initialise Terraform with the S3 backend (lock file in S3)",
            _terraform("init", "-input=false", *settings.backend_args),
        ),
        Step(
            "Create or update the AWS infrastructure",
            _terraform("apply", "-input=false", "-auto-approve", *_var_file(settings), *settings.state_bucket_var),
        ),
        Step(
            "Copy Terraform outputs into the manifests' environment data and re-render manifests/",
            ("python", "-m", "manifests_py", "infra-sync"),
        ),
        Step(
            "Stop if the manifests changed: ArgoCD syncs from git, so commit and push them, then run `up` again",
            ("python", "-m", "manifests_py", "check"),
        ),
        Step(
            "Stop unless every secret the cluster reads has a value with its keys (an empty one leaves its "
            "ExternalSecret Degraded and the sync stuck); the output says how to set each",
            ("python", "-m", "manifests_py", "secrets", "check", "--region", settings.region),
        ),
        kubeconfig_step(settings),
        Step(
            "Write Argo CD's Helm values from its committed Application (health checks, RBAC)",
            ("python", "-m", "manifests_py", "argocd-values", ARGOCD_VALUES_FILE),
        ),
        Step(
            f"Install ArgoCD once, chart {ARGO_CD.version} (the {ARGO_CD.name} Application then manages it from git)",
            (
                "helm",
                "upgrade",
                "--install",
                ARGO_CD.name,
                ARGO_CD.chart,
                "--repo",
                ARGO_CD.repository,
                "--version",
                ARGO_CD.version,
                "--namespace",
                names.ARGOCD_NAMESPACE,
                "--create-namespace",
                "--values",
                ARGOCD_VALUES_FILE,
                "--wait",
            ),
        ),
        Step(
            "Apply the bootstrap: project and root app-of-apps",
            _kubectl("apply", "--server-side", "-f", "manifests/bootstrap/"),
        ),
        *[
            Step(
                f"Wait for every Application to be {state.lower()}"
                + (f" (not {', '.join(unreleased)}: no image yet)" if unreleased else ""),
                _kubectl(
                    "wait",
                    f"--for=jsonpath={{.status.{field}.status}}={state}",
                    *(f"application/{name}" for name in expected),
                    "-n",
                    names.ARGOCD_NAMESPACE,
                    f"--timeout={WAIT_TIMEOUT_SECONDS}s",
                ),
            )
            for field, state in (("sync", "Synced"), ("health", "Healthy"))
        ],
        *[Step(_next_for_unreleased(environment), ("true",)) for environment in unreleased],
    ]


def _next_for_unreleased(environment: str) -> str:
    """What to do for an environment that has no image yet (docs/operations.md, "First release and promotion")."""
    if environment == RELEASED_FIRST:
        how = (
            "push to main: the release workflow publishes the image and commits its digest for "
            f"{environment} (or `nox -s release -- set-image {environment} IMAGE@sha256:…`, commit, push)"
        )
    else:
        how = f"once {RELEASED_FIRST} runs it, `nox -s release -- promote {RELEASED_FIRST} {environment}`, commit, push"
    return (
        f"Next for {environment}: it has no image yet (all-zero digest), so its migration hook can only fail. "
        "Make the GHCR package public once it exists (the cluster has no imagePullSecret), then "
        f"{how}; Argo CD syncs it."
    )


APP_APPLICATIONS = tuple(names.app_namespace(environment) for environment in ENVIRONMENT_NAMES)


def down_plan(settings: Settings) -> list[Step]:
    argocd = names.ARGOCD_NAMESPACE
    zone = load_infrastructure().hosted_zone_id
    # Every deletion that waits gives up after this, so a stuck finalizer ends `down` with kubectl naming the object.
    timeout = f"--timeout={WAIT_TIMEOUT_SECONDS}s"
    load_balancers = _kubectl(
        "get",
        "services",
        "--all-namespaces",
        "-o",
        'jsonpath={range .items[?(@.spec.type=="LoadBalancer")]}{.metadata.namespace}/{.metadata.name}{"\\n"}{end}',
    )
    return [
        kubeconfig_step(settings),
        Step(
            "Stop every Application's auto-sync (the root app, and Argo CD managing itself), so nothing deleted next "
            "is re-created",
            (
                "sh",
                "-c",
                f"kubectl -n {argocd} get applications -o name | xargs -r -I{{}} kubectl -n {argocd} patch {{}} "
                """--type=merge -p '{"spec":{"syncPolicy":null}}'""",
            ),
            allow_failure=True,
        ),
        Step(
            "Switch any PV still on Retain (made before the class became Delete) to Delete so removing claims "
            "removes the EBS volumes",
            (
                "sh",
                "-c",
                "kubectl get pv -o name | xargs -r -I{} kubectl patch {} --type=merge "
                '-p \'{"spec":{"persistentVolumeReclaimPolicy":"Delete"}}\'',
            ),
        ),
        Step(
            "Delete the app environments through ArgoCD (their finalizer deletes databases and claims)",
            _kubectl("-n", argocd, "delete", "application", *APP_APPLICATIONS, "--ignore-not-found", "--wait", timeout),
        ),
        Step(
            "Delete every remaining Ingress (Argo CD's and Grafana's on the ops host): external-dns, still running, "
            "deletes their DNS records",
            _kubectl("delete", "ingress", "--all", "--all-namespaces", "--wait", timeout),
        ),
        Step(
            f"Wait until the zone {zone} holds only its NS and SOA records (the zone itself stays)",
            (
                "aws",
                "route53",
                "list-resource-record-sets",
                "--hosted-zone-id",
                zone,
                "--query",
                "ResourceRecordSets[?Type!='NS' && Type!='SOA'].[Type,Name]",
                "--output",
                "text",
            ),
            until_empty=True,
        ),
        Step(
            "Delete the platform and cluster config (ingress-nginx's LoadBalancer Service goes with it)",
            (
                "sh",
                "-c",
                f"kubectl -n {argocd} get applications -o name | grep -v '/{ARGO_CD.name}$' | "
                f"xargs -r kubectl -n {argocd} delete --wait {timeout}",
            ),
        ),
        Step(
            "Delete claims that outlive their StatefulSets (Prometheus, Alertmanager)",
            _kubectl("delete", "persistentvolumeclaims", "--all", "--all-namespaces", "--wait", timeout),
        ),
        Step("Wait until no LoadBalancer Service is left (AWS deletes the NLB)", load_balancers, until_empty=True),
        Step(
            "Wait until no PersistentVolume is left (AWS deletes the EBS volumes)",
            _kubectl("get", "pv", "-o", "name"),
            until_empty=True,
        ),
        Step("Initialise Terraform with the S3 backend", _terraform("init", "-input=false", *settings.backend_args)),
        Step(
            "Destroy the AWS infrastructure",
            _terraform("destroy", "-input=false", "-auto-approve", *_var_file(settings), *settings.state_bucket_var),
        ),
    ]


def status_plan(settings: Settings) -> list[Step]:
    return [
        Step("Terraform outputs", _terraform("output")),
        kubeconfig_step(settings),
        Step("ArgoCD applications", _kubectl("-n", names.ARGOCD_NAMESPACE, "get", "applications")),
        Step(
            "Load balancers", _kubectl("get", "services", "--all-namespaces", "--field-selector=spec.type=LoadBalancer")
        ),
        Step("Volumes", _kubectl("get", "pv")),
    ]


def run_plan(
    steps: list[Step],
    *,
    dry_run: bool,
    execute: Callable[[tuple[str, ...]], subprocess.CompletedProcess[str]] | None = None,
    poll_seconds: float = 10,
) -> int:
    """Print (dry run) or run the steps in order; stop at the first failure."""

    def default_execute(argv: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, check=False)  # noqa: S603

    execute = execute or default_execute
    for step in steps:
        print(step.render(), flush=True)
        if dry_run:
            continue
        deadline = time.monotonic() + WAIT_TIMEOUT_SECONDS
        while True:
            result = execute(step.argv)
            if result.returncode != 0 and not step.allow_failure:
                print(f"FAILED: {step.description}\n{result.stdout}{result.stderr}", flush=True)
                return result.returncode
            if not step.until_empty or not result.stdout.strip():
                break
            if time.monotonic() > deadline:
                print(f"STUCK after {WAIT_TIMEOUT_SECONDS}s: {step.description}; still there:\n{result.stdout}")
                return 1
            time.sleep(poll_seconds)
    return 0


def infrastructure_from_outputs(outputs: dict[str, dict[str, object]]) -> dict[str, object]:
    """`terraform output -json` → the manifests' infrastructure.json (exactly the fields Infrastructure has)."""
    missing = [key for key in Infrastructure.__struct_fields__ if key not in outputs]
    if missing:
        raise KeyError(f"terraform outputs lack {missing}")
    return {key: outputs[key]["value"] for key in sorted(Infrastructure.__struct_fields__)}


def infra_sync(outputs_json: str, directory: Path = ENVIRONMENTS_DIR, *, out: Path | None = None) -> Path:
    """Write the outputs into the environments' data and, with ``out``, re-render the manifests there.

    Outputs the manifests refuse leave both the data and the manifests as they were.
    """
    data = infrastructure_from_outputs(json.loads(outputs_json))
    path = directory / INFRASTRUCTURE_FILE
    previous = path.read_text() if path.exists() else None
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    if out is not None:
        try:
            write_tree(render(directory), out)
        except Exception:
            if previous is None:
                path.unlink()
            else:
                path.write_text(previous)
            raise
    return path
