from __future__ import annotations

import pytest

from service.portal.web import portal_path

CASES = [
    ("/portal", "/portal"),
    ("/portal/projects/3", "/portal/projects/3"),
    ("/portal/rate?subject=milestone&id=2", "/portal/rate?subject=milestone&id=2"),
    ("https://evil.example/portal", "/portal"),
    ("//evil.example/portal", "/portal"),
    ("/portal\\..\\x", "/portal"),
    ("/portalx", "/portal"),
    ("/v1/projects", "/portal"),
    (None, "/portal"),
    ("", "/portal"),
]


@pytest.mark.parametrize(("value", "expected"), CASES, ids=[str(value) for value, _ in CASES])
def test_safe_return_path_keeps_only_portal_paths(value: str | None, expected: str) -> None:
    assert portal_path(value) == expected
