"""The typed CRD classes agree with the CRD schemas of the pinned charts, field by field.

Validating rendered objects only covers the fields we happen to set today; this walks every field each class declares
(through nested classes and lists) against the schema recorded in tests/data/crd-schemas/ (see SOURCES.toml): the
field must exist there, its Python type must be the schema's type, and a property the schema requires must be a
field without a default. A class that drifts from its CRD fails here before an operator silently ignores a field.
"""

from __future__ import annotations

import dataclasses
import json
import keyword
import types
import typing
from pathlib import Path
from typing import Any

import pytest
from hikaru import HikaruBase, HikaruDocumentBase
from manifests_py import crds

SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "crd-schemas"
# Envelope fields every object has; ObjectMeta is Kubernetes' own type, not the CRD's to define.
ENVELOPE = {"apiVersion", "kind", "metadata"}
# JSON schema type of each Python scalar (a schema `integer` also admits Python's bool, which we never want).
SCALARS: dict[type, set[str]] = {str: {"string"}, int: {"integer", "number"}, bool: {"boolean"}, float: {"number"}}

Schema = dict[str, Any]


def _documents() -> list[type[HikaruDocumentBase]]:
    found = [
        value
        for value in vars(crds).values()
        if isinstance(value, type) and issubclass(value, HikaruDocumentBase) and value.__module__ == crds.__name__
    ]
    assert len(found) >= 9, "the CRD classes moved: update this test"
    return sorted(found, key=lambda cls: cls.__name__)


def _schema_of(document: type[HikaruDocumentBase]) -> Schema:
    defaults = {f.name: f.default for f in dataclasses.fields(document)}
    group, version = str(defaults["apiVersion"]).split("/")
    path = SCHEMAS / group / f"{str(defaults['kind']).lower()}_{version}.json"
    assert path.is_file(), f"{document.__name__}: no schema {path.relative_to(SCHEMAS)}"
    schema: Schema = json.loads(path.read_text())
    return schema


def _optional(annotation: Any) -> tuple[Any, bool]:
    """(the annotation without None, whether None was allowed)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        arguments = [a for a in typing.get_args(annotation) if a is not type(None)]
        assert len(arguments) == 1, f"unions other than X | None are not modelled: {annotation}"
        return arguments[0], True
    return annotation, False


def _is_open_object(schema: Schema) -> bool:
    return bool(schema.get("x-kubernetes-preserve-unknown-fields")) or "additionalProperties" in schema


def check(annotation: Any, schema: Schema, where: str) -> list[str]:  # noqa: PLR0911 - one return per shape
    """Problems between one Python annotation and the schema at the same place."""
    annotation, _ = _optional(annotation)
    origin = typing.get_origin(annotation)
    if schema.get("x-kubernetes-int-or-string"):
        return [] if annotation in (str, int) else [f"{where}: int-or-string, modelled as {annotation}"]
    if origin is list:
        if schema.get("type") != "array":
            return [f"{where}: a list here, {schema.get('type')} in the CRD"]
        return check(typing.get_args(annotation)[0], schema.get("items", {}), f"{where}[]")
    if origin is dict or annotation is Any:
        ok = annotation is Any or (schema.get("type") == "object" and _is_open_object(schema))
        return [] if ok else [f"{where}: a free-form dict here, a closed object in the CRD"]
    if isinstance(annotation, type) and issubclass(annotation, HikaruBase):
        if annotation.__module__ != crds.__name__:
            return []  # Kubernetes' own types (ObjectMeta, LabelSelector, ResourceRequirements): not the CRD's
        if schema.get("type") != "object" or "properties" not in schema:
            return [f"{where}: a class here, {schema.get('type')} without properties in the CRD"]
        return check_class(annotation, schema, where)
    expected = SCALARS.get(annotation)
    if expected is None:
        return [f"{where}: {annotation} is not modelled by this test"]
    return [] if schema.get("type") in expected else [f"{where}: {annotation.__name__} here, {schema.get('type')}"]


def check_class(cls: type[HikaruBase], schema: Schema, where: str) -> list[str]:
    hints = typing.get_type_hints(cls)
    properties: Schema = schema.get("properties", {})
    problems = []
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for attribute in fields:
        # hikaru writes a Python keyword's field with a trailing underscore (`for_` is the rule's `for`).
        name = attribute[:-1] if attribute.endswith("_") and keyword.iskeyword(attribute[:-1]) else attribute
        if name in ENVELOPE and where.count(".") == 0:
            continue
        if name not in properties:
            problems.append(f"{where}.{name}: not in the CRD (one of {sorted(properties)})")
            continue
        problems += check(hints[attribute], properties[name], f"{where}.{name}")
    for name in schema.get("required", []):
        if where.count(".") == 0 and name in ENVELOPE:
            continue
        if name not in fields:
            continue  # a required property of an object we do not model at all is caught where it is set: see below
        field = fields[name]
        if field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING:
            problems.append(f"{where}.{name}: required by the CRD, but the class lets it default")
    missing = [name for name in schema.get("required", []) if name not in fields and name not in ENVELOPE]
    problems += [f"{where}.{name}: required by the CRD, missing from the class" for name in missing]
    return problems


@pytest.mark.parametrize("document", _documents(), ids=lambda cls: cls.__name__)
def test_every_field_of_the_class_is_in_its_crd_with_the_same_type_and_required_ness(
    document: type[HikaruDocumentBase],
) -> None:
    problems = check_class(document, _schema_of(document), document.__name__)
    assert not problems, "\n".join(problems)


# The checker itself, on a literal schema: each drift it must catch.
LITERAL_SCHEMA: Schema = {
    "type": "object",
    "required": ["spec"],
    "properties": {
        "spec": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string"},
                "replicas": {"type": "integer"},
                "port": {"x-kubernetes-int-or-string": True},
                "tags": {"type": "array", "items": {"type": "string"}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}


@dataclasses.dataclass
class _GoodSpec(HikaruBase):
    name: str
    replicas: int | None = None
    port: str | None = None
    tags: list[str] | None = None
    labels: dict[str, str] | None = None


@dataclasses.dataclass
class _Good(HikaruBase):
    spec: _GoodSpec


@dataclasses.dataclass
class _TypoSpec(HikaruBase):
    name: str
    replica: int | None = None  # misspelled


@dataclasses.dataclass
class _WrongTypeSpec(HikaruBase):
    name: str
    replicas: str | None = None  # the CRD says integer


@dataclasses.dataclass
class _OptionalRequiredSpec(HikaruBase):
    name: str | None = None  # the CRD requires it


@dataclasses.dataclass
class _ListAsScalarSpec(HikaruBase):
    name: str
    tags: str | None = None  # the CRD says array


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (_GoodSpec, None),
        (_TypoSpec, "Doc.spec.replica: not in the CRD"),
        (_WrongTypeSpec, "Doc.spec.replicas: str here, integer"),
        (_OptionalRequiredSpec, "Doc.spec.name: required by the CRD, but the class lets it default"),
        (_ListAsScalarSpec, "Doc.spec.tags: str here, array"),
    ],
    ids=["good", "typo", "wrong-type", "optional-required", "list-as-scalar"],
)
def test_the_checker_catches_each_drift(spec: type[HikaruBase], message: str | None) -> None:
    # The checker only descends into classes of manifests_py.crds; pretend these are.
    original = spec.__module__
    spec.__module__ = crds.__name__
    try:
        problems = check(spec, LITERAL_SCHEMA["properties"]["spec"], "Doc.spec")
    finally:
        spec.__module__ = original
    if message is None:
        assert problems == []
    else:
        assert any(p.startswith(message) for p in problems), problems
