"""A digest as Markdown, and as HTML ready for email (inline styles, tables, no external assets)."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from service.domain.enums import Severity
from service.feed.digest import Digest, MoveLine, PromiseLine, RiskLine
from service.feed.pulses import Pulse, RatingGroup
from service.feed.wording import rate_link

MARKDOWN_MEDIA_TYPE = "text/markdown; charset=utf-8"
HTML_MEDIA_TYPE = "text/html; charset=utf-8"
_SEVERITY_WORDS = {Severity.INFO: "Note", Severity.WARNING: "Watch", Severity.CRITICAL: "Serious"}
# Characters that start emphasis, code, links or HTML inside a line; escaped so titles from Jira
# render as written. Line-start syntax (#, -, 1.) cannot occur: every line starts with our own text.
_MARKDOWN_SPECIAL = "\\`*_[]<>"


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("service.feed", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def escape_markdown(text: str) -> str:
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in " ".join(text.split()))


def render_risk_markdown(risk: RiskLine) -> str:
    """A risk as the Markdown digest lists it."""
    return f"{_SEVERITY_WORDS[risk.severity]} ({escape_markdown(risk.project)}): {escape_markdown(risk.text)}"


def render_risk_html(risk: RiskLine) -> Markup:
    """A risk as the HTML digest lists it (one `<li>`), from the digest's own macro."""
    macro = _environment().get_template("digest_risk.html").module.risk_item  # type: ignore[attr-defined]
    rendered: Markup = macro(risk, _SEVERITY_WORDS)  # escaped by the environment's autoescape
    return rendered


def _move(line: MoveLine) -> str:
    direction = "later" if line.days > 0 else "earlier"
    return f"from {line.from_date} to {line.to_date} ({abs(line.days)} days {direction})"


def _promise(line: PromiseLine) -> str:
    due = line.current or line.baseline
    delivered = f", delivered {line.delivered_on}" if line.delivered_on else ""
    return f"promised for {due}{delivered}"


def _group(group: RatingGroup) -> str:
    if group.average is None:
        return "no ratings yet"
    return f"{group.average} of 5 ({group.responses} rating{'s' if group.responses != 1 else ''})"


def _pulse_target(pulse: Pulse, base_url: str | None) -> str:
    if base_url is None:
        return "rate it from 1 to 5 in your portal"
    link = rate_link(base_url, subject=pulse.subject, subject_id=pulse.subject_id)
    return f"[rate it from 1 to 5]({link})"


def render_markdown(digest: Digest, *, base_url: str | None) -> str:
    """The digest as Markdown; `base_url` is where the portal is served, for rating links."""
    out = [
        f"# Your {digest.period.value}ly update, {escape_markdown(digest.client_name)}",
        "",
        f"{digest.start} to {digest.end}",
        "",
    ]

    def section(title: str, lines: list[str], empty: str) -> None:
        out.extend([f"## {title}", ""])
        if lines:
            out.extend(f"- {line}" for line in lines)
        else:
            out.append(empty)
        out.append("")

    e = escape_markdown
    section(
        "Done",
        [f"{e(d.project)}: {e(d.key)} {e(d.title)} ({d.done_on})" for d in digest.done],
        "Nothing was completed in this period.",
    )
    if digest.corrections:
        section(
            "Corrections",
            [f"{e(c.project)}: {e(c.text)} ({c.on})" for c in digest.corrections],
            "",
        )
    section(
        "Coming next",
        [
            f"{e(n.project)}: {e(n.title)}, {'promised' if n.promised else 'planned'} for {n.due}"
            for n in digest.next
        ],
        "Nothing is due in the coming period.",
    )
    section(
        "Promises kept",
        [f"{e(p.project)}: {e(p.title)}, {_promise(p)}" for p in digest.kept],
        "No promise fell due in this period.",
    )
    if digest.missed:
        section(
            "Promises missed", [f"{e(p.project)}: {e(p.title)}, {_promise(p)}" for p in digest.missed], ""
        )
    section(
        "Promises moved",
        [f"{e(m.project)}: {e(m.title)}, {_move(m)} on {m.moved_on}" for m in digest.moved],
        "No promised date moved.",
    )
    section(
        "Risks",
        [render_risk_markdown(r) for r in digest.risks],
        "No open risks.",
    )
    if digest.pulses:
        section(
            "Tell us how we did",
            [f"{e(p.question)} {_pulse_target(p, base_url)}" for p in digest.pulses],
            "",
        )
    section(
        "Your ratings and our delivery",
        [
            f"Delivered on time: {_group(digest.satisfaction.on_time)}",
            f"Delivered late: {_group(digest.satisfaction.late)}",
        ],
        "",
    )
    return "\n".join(out).rstrip() + "\n"


def render_html(digest: Digest, *, base_url: str | None) -> str:
    """The digest as one self-contained HTML document for an email body."""
    return (
        _environment()
        .get_template("digest.html")
        .render(
            digest=digest,
            severity_words=_SEVERITY_WORDS,
            pulse_links=[
                rate_link(base_url, subject=p.subject, subject_id=p.subject_id) if base_url else None
                for p in digest.pulses
            ],
            promise_text=_promise,
            move_text=_move,
            group_text=_group,
        )
    )
