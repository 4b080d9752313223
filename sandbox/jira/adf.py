"""Atlassian Document Format: v3 bodies are ADF documents, v2 bodies plain/wiki strings."""

from __future__ import annotations

import html
from typing import Any

_BLOCK_TYPES = {
    "paragraph",
    "heading",
    "bulletList",
    "orderedList",
    "listItem",
    "codeBlock",
    "blockquote",
    "rule",
    "panel",
}


def text_to_adf(text: str) -> dict[str, Any]:
    paragraphs = [p for p in text.split("\n\n")] if text else []
    content = [
        {"type": "paragraph", "content": [{"type": "text", "text": p}]}
        if p
        else {"type": "paragraph", "content": []}
        for p in paragraphs
    ]
    return {"type": "doc", "version": 1, "content": content}


def adf_to_text(node: Any) -> str:
    """Plain text of an ADF node: what v2 and webhook payloads carry for ADF bodies."""
    if not isinstance(node, dict):
        return ""
    if node.get("type") == "text":
        return str(node.get("text", ""))
    if node.get("type") == "hardBreak":
        return "\n"
    children = node.get("content") or []
    if node.get("type") == "doc":
        return "\n\n".join(adf_to_text(child) for child in children)
    separator = "\n" if node.get("type") in ("bulletList", "orderedList") else ""
    return separator.join(adf_to_text(child) for child in children)


def adf_to_html(node: dict[str, Any]) -> str:
    return "".join(f"<p>{html.escape(p)}</p>" for p in adf_to_text(node).split("\n\n"))


def is_valid_adf(value: Any) -> bool:
    """A document with version 1 whose blocks are known node types: what v3 accepts as a body."""
    if not isinstance(value, dict) or value.get("type") != "doc" or value.get("version") != 1:
        return False
    content = value.get("content")
    if not isinstance(content, list):
        return False
    return all(isinstance(block, dict) and block.get("type") in _BLOCK_TYPES for block in content)
