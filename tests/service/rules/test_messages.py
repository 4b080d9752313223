from __future__ import annotations

import pytest

from service.rules.messages import TemplateError, render, template_fields


def test_render_names_and_namespace_fields() -> None:
    values = {"subject": "P-1", "item": {"key": "P-1", "percent": 41.6}, "days": 3}

    assert render("{subject}: {item.key} {days}d {item.percent:.0f}%", values) == "P-1: P-1 3d 42%"


def test_render_value_that_does_not_fit_keeps_template() -> None:
    assert render("{days:.0f}", {"days": "soon"}) == "{days:.0f}"


@pytest.mark.parametrize(
    "template",
    ["{item[key]}", "{0}", "{item.key!r}", "{item.__class__}", "{a.b.c}", "{x:{y}}", "{unclosed"],
    ids=["index", "positional", "conversion", "dunder", "deep", "nested-spec", "unbalanced"],
)
def test_template_fields_unsafe_or_malformed_refused(template: str) -> None:
    with pytest.raises(TemplateError):
        template_fields(template)


def test_template_fields_lists_named_fields() -> None:
    assert template_fields("{{literal}} {item.key} and {days:>3}") == ["item.key", "days"]
