"""A small IAM evaluator for the policy documents we generate in terraform/, shared by the static checks
(tests/terraform/test_day_one.py) and the restore drill (tests/backup/), which feeds it the S3 calls barman-cloud made.

It models what our statements use and refuses anything else: Allow statements with `actions`, `resources` and
`StringLike` / `StringLikeIfExists` conditions. Semantics from the IAM User Guide, "IAM JSON policy elements: Condition
operators" (…IfExists: "If the policy key is present in the context of the request, process the key as specified in
the policy. If the key is not present, evaluate the condition element as true") and "Resource" / "Action" (wildcards
`*` and `?`; action names are case-insensitive, resource ARNs case-sensitive)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tests.terraform.test_terraform import _all


def _wildcard(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """IAM's multi-character `*` and single-character `?`; nothing else is special (unlike fnmatch's `[...]`)."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _matches(value: str, patterns: list[str], *, ignore_case: bool = False) -> bool:
    return any(_wildcard(p, ignore_case=ignore_case).fullmatch(value) for p in patterns)


@dataclass(frozen=True)
class Bindings:
    """Values for the Terraform references in a policy document: the ones `terraform apply` would fill in."""

    values: dict[str, str] = field(default_factory=dict)

    def apply(self, text: str) -> str:
        for reference, value in self.values.items():
            text = text.replace(reference, value)
        assert "${" not in text, f"unbound Terraform reference in {text!r}"
        return text


def database_backup_bindings(environment: str, bucket_arn: str, key_arn: str) -> Bindings:
    """terraform/irsa.tf `data.aws_iam_policy_document.database_backup[environment]` after apply."""
    return Bindings(
        {
            "${each.key}": environment,
            "${data.aws_s3_bucket.backups.arn}": bucket_arn,
            "${data.aws_kms_alias.backups.target_key_arn}": key_arn,
        }
    )


def database_backup_statements() -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = _all("data")["aws_iam_policy_document"]["database_backup"]["statement"]
    return statements


def allowed(
    statements: list[dict[str, Any]], bindings: Bindings, action: str, resource: str, context: dict[str, str]
) -> bool:
    """Allow-only evaluation (our documents have no Deny, NotAction or NotResource): some statement must match the
    action, the resource and every condition. A condition on a key the request does not carry fails, except for the
    `…IfExists` operators: that is why HeadBucket, which carries no s3:prefix, was once denied (issue #11, defect 5)."""
    for statement in statements:
        assert not {"not_actions", "not_resources", "not_principals"} & set(statement), "not modelled"
        if statement.get("effect", "Allow") != "Allow":
            continue
        if not _matches(action, statement["actions"], ignore_case=True):
            continue
        if not _matches(resource, [bindings.apply(r) for r in statement["resources"]]):
            continue
        matched = True
        for condition in statement.get("condition", []):
            operator, key = condition["test"], condition["variable"]
            assert operator in {"StringLike", "StringLikeIfExists"}, f"the evaluator does not model {operator}"
            if key not in context:
                matched = matched and operator.endswith("IfExists")
            else:
                matched = matched and _matches(context[key], [bindings.apply(v) for v in condition["values"]])
        if matched:
            return True
    return False
