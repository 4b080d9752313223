"""Atlassian Document Format: plain text in (for v3 writes), plain text out (for reading bodies).

ADF spec: developer.atlassian.com/cloud/jira/platform/apis/document/structure/. Text nodes must be
non-empty, so blank lines become paragraph breaks and single newlines become `hardBreak` nodes.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, JsonValue

_BLOCK_TYPES = frozenset(
    {"paragraph", "heading", "blockquote", "codeBlock", "listItem", "rule", "panel", "tableRow"}
)


class AdfNode(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    type: str
    text: str | None = None
    content: list[AdfNode] = Field(default_factory=list)
    attrs: dict[str, JsonValue] = Field(default_factory=dict)

    def plain_text(self) -> str:
        return _render(self).strip("\n")


def adf_from_text(text: str) -> dict[str, JsonValue]:
    paragraphs: list[JsonValue] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        inline: list[JsonValue] = []
        for index, line in enumerate(block.split("\n")):
            if index > 0:
                inline.append({"type": "hardBreak"})
            if line:
                inline.append({"type": "text", "text": line})
        if any(isinstance(node, dict) and node.get("type") == "text" for node in inline):
            paragraphs.append({"type": "paragraph", "content": inline})
    return {"type": "doc", "version": 1, "content": paragraphs}


def _render(node: AdfNode) -> str:
    if node.type == "text":
        return node.text or ""
    if node.type == "hardBreak":
        return "\n"
    if node.type in ("mention", "emoji", "status"):
        label = node.attrs.get("text") or node.attrs.get("shortName")
        return label if isinstance(label, str) else ""
    if node.type == "inlineCard":
        url = node.attrs.get("url")
        return url if isinstance(url, str) else ""
    inner = "".join(_render(child) for child in node.content)
    if node.type in _BLOCK_TYPES:
        return inner + "\n"
    return inner
