from __future__ import annotations

import re

import pytest

from service.domain.enums import FlagSubject
from service.rules import context
from service.rules.context import GLOBAL_FIELDS, NAMESPACES


@pytest.mark.parametrize("subject", list(FlagSubject), ids=[s.value for s in FlagSubject])
def test_context_docstring_documents_every_field(subject: FlagSubject) -> None:
    doc = context.__doc__ or ""
    missing = [
        f"{name}.{field}"
        for name, namespace in NAMESPACES[subject].items()
        for field in namespace.fields
        if not re.search(rf"\b{name}\.{field}\b", doc)
    ]
    missing += [name for name in GLOBAL_FIELDS if not re.search(rf"^\s+{name}\b", doc, re.MULTILINE)]

    assert missing == []


def test_context_documented_fields_exist() -> None:
    doc = context.__doc__ or ""
    known = {f"{name}.{field}" for ns in NAMESPACES.values() for name, n in ns.items() for field in n.fields}
    mentioned = set(re.findall(r"\b((?:item|commitment|milestone|project)\.[a-z_]+)\b", doc))

    assert mentioned - known == set()
