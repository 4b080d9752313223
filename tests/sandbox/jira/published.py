"""Atlassian's published OpenAPI descriptions of Jira Cloud, read as operations and JSON Schema validators.

The descriptions are vendored gzipped in `openapi/` beside this module (see its README). They are
OpenAPI 3.0: schemas are JSON Schema draft 4 plus `nullable`, which `to_json_schema` rewrites into a
`null` type; every `$ref` points into the description's own `components`, so each validator is compiled
against a document holding them.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

SPEC_DIR = Path(__file__).with_name("openapi")
PLATFORM = "jira-cloud-platform.v3.json.gz"
AGILE = "jira-software-agile.v3.json.gz"
_PARAM = re.compile(r"\{[^}]+\}")
# Jira's datetimes: `2024-09-12T19:21:32.992+0000`, an offset without a colon (reference §3), which
# RFC 3339's `date-time` rejects; sprint dates are UTC with `Z`. Both pass, nothing looser does.
_JIRA_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?(Z|[+-]\d{2}:?\d{2})$")
_FORMATS = {"date-time": lambda value: bool(_JIRA_DATETIME.match(value))}
# Atlassian publishes v2 and v3 as one collection of operations; they differ in rich-text fields
# (ADF on v3, strings on v2), which the response schemas leave untyped. `latest` is v2.
_VERSIONED = re.compile(r"^/rest/api/(?:2|latest)/")


@dataclass(frozen=True, slots=True)
class Operation:
    spec: str
    path: str
    method: str
    responses: Mapping[str, Any]
    deprecated: bool

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"

    def response_schema(self, status: int) -> dict[str, Any] | None:
        """The JSON schema the description gives the response with `status`, if any."""
        response = self.responses.get(str(status)) or {}
        for media_type, content in (response.get("content") or {}).items():
            # An empty schema (`{}`) says nothing: Jira may answer such a response with no body.
            if "json" in media_type and content.get("schema"):
                schema: dict[str, Any] = content["schema"]
                return schema
        return None

    def documents(self, status: int) -> bool:
        return str(status) in self.responses or "default" in self.responses


def to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` as JSON Schema: a `null` type beside the declared one."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: to_json_schema(value) for key, value in node.items()}
    if converted.pop("nullable", False):
        declared = converted.get("type")
        if declared is None:
            return {"anyOf": [converted, {"type": "null"}]}
        converted["type"] = [*([declared] if isinstance(declared, str) else declared), "null"]
    return converted


@dataclass(frozen=True, slots=True)
class Erratum:
    """Where real Jira contradicts a description: every object schema that declares all of `shape`'s
    properties (wherever the description defines it, inline or in `components`) gets `nullable` ones."""

    shape: frozenset[str]
    nullable: tuple[str, ...]
    why: str


def _apply(errata: Sequence[Erratum], node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _apply(errata, item)
        return
    if not isinstance(node, dict):
        return
    properties = node.get("properties")
    if isinstance(properties, dict):
        for erratum in errata:
            if erratum.shape <= properties.keys():
                for name in erratum.nullable:
                    properties[name] = {**properties[name], "nullable": True}
    for value in node.values():
        _apply(errata, value)


def normalized(path: str) -> str:
    """The published path a served route template answers for: v2/latest as v3, parameters unnamed."""
    return _PARAM.sub("{}", _VERSIONED.sub("/rest/api/3/", path))


class Published:
    """Both descriptions: find the operation behind a served route, validate a response body."""

    def __init__(self, errata: Sequence[Erratum] = ()) -> None:
        self._documents: dict[str, dict[str, Any]] = {}
        self._operations: dict[tuple[str, str], Operation] = {}
        self._validators: dict[tuple[str, str, int], jsonschema_rs.Validator | None] = {}
        for name in (PLATFORM, AGILE):
            spec = json.loads(json.dumps(_load(name)))
            _apply(errata, spec)
            self._documents[name] = {"components": to_json_schema(spec.get("components", {}))}
            for path, item in spec["paths"].items():
                for method, operation in item.items():
                    if not isinstance(operation, dict) or "responses" not in operation:
                        continue
                    self._operations[(method.upper(), _PARAM.sub("{}", path))] = Operation(
                        name, path, method.upper(), operation["responses"], bool(operation.get("deprecated"))
                    )

    def operation(self, method: str, served_template: str) -> Operation | None:
        return self._operations.get((method, normalized(served_template)))

    def has_schema(self, name: str, schema: str) -> bool:
        return schema in self._documents[name]["components"].get("schemas", {})

    def validator(self, operation: Operation, status: int) -> jsonschema_rs.Validator | None:
        key = (operation.spec, operation.name, status)
        if key not in self._validators:
            schema = operation.response_schema(status)
            self._validators[key] = None if schema is None else self.compile(operation.spec, schema)
        return self._validators[key]

    def compile(self, spec: str, schema: dict[str, Any]) -> jsonschema_rs.Validator:
        # `$ref` siblings are ignored by draft 4, so the components ride along as plain data.
        return jsonschema_rs.Draft4Validator(
            {**to_json_schema(schema), **self._documents[spec]}, formats=_FORMATS, validate_formats=True
        )


@cache
def _load(name: str) -> dict[str, Any]:
    with gzip.open(SPEC_DIR / name, "rb") as handle:
        document: dict[str, Any] = json.load(handle)
    return document
