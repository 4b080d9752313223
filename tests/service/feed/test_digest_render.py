from __future__ import annotations

from datetime import UTC, date, datetime

from service.domain.enums import DigestPeriod, FeedbackSubject, Severity
from service.feed.digest import CorrectionLine, Digest, DoneLine, MoveLine, NextLine, PromiseLine, RiskLine
from service.feed.digest_render import escape_markdown, render_html, render_markdown
from service.feed.pulses import Pulse, PulseReason, RatingGroup, SatisfactionByDelivery


def _digest(**overrides: object) -> Digest:
    values: dict[str, object] = {
        "client_name": "acme",
        "period": DigestPeriod.WEEK,
        "start": date(2026, 9, 8),
        "end": date(2026, 9, 14),
        "done": [DoneLine(project="Web", key="WEB-1", title="Checkout *fast*", done_on=date(2026, 9, 9))],
        "next": [NextLine(project="Web", title="Launch", due=date(2026, 9, 20), promised=True)],
        "kept": [
            PromiseLine(
                project="Web",
                title="Beta",
                baseline=date(2026, 9, 10),
                current=date(2026, 9, 10),
                slip_days=0,
                delivered_on=date(2026, 9, 10),
            )
        ],
        "missed": [],
        "moved": [
            MoveLine(
                project="Web",
                title="Launch",
                from_date=date(2026, 9, 13),
                to_date=date(2026, 9, 20),
                days=7,
                moved_on=date(2026, 9, 11),
            )
        ],
        "corrections": [],
        "risks": [RiskLine(project="Web", severity=Severity.WARNING, text="Payment provider <late>")],
        "pulses": [
            Pulse(
                subject=FeedbackSubject.MILESTONE,
                subject_id=7,
                project_id=1,
                title="Beta",
                reason=PulseReason.MILESTONE_COMPLETED,
                occurred_at=datetime(2026, 9, 10, tzinfo=UTC),
            )
        ],
        "satisfaction": SatisfactionByDelivery(
            on_time=RatingGroup(responses=2, average=4.5), late=RatingGroup(responses=0, average=None)
        ),
    }
    values.update(overrides)
    return Digest(**values)  # type: ignore[arg-type]


def test_render_markdown_has_every_section() -> None:
    text = render_markdown(_digest(), base_url="https://pm.example")

    for heading in ("## Done", "## Coming next", "## Promises kept", "## Promises moved", "## Risks"):
        assert heading in text
    assert "# Your weekly update, acme" in text
    assert "Launch, from 2026-09-13 to 2026-09-20 (7 days later) on 2026-09-11" in text
    assert "Delivered on time: 4.5 of 5 (2 ratings)" in text


def test_render_markdown_escapes_titles() -> None:
    text = render_markdown(_digest(), base_url=None)

    assert "Checkout \\*fast\\*" in text
    assert "Payment provider \\<late\\>" in text


def test_render_markdown_links_pulses_to_the_portal() -> None:
    text = render_markdown(_digest(), base_url="https://pm.example/")

    assert "[rate it from 1 to 5](https://pm.example/portal/rate?subject=milestone&id=7)" in text


def test_render_markdown_without_base_url_asks_in_portal() -> None:
    text = render_markdown(_digest(), base_url=None)

    assert "rate it from 1 to 5 in your portal" in text
    assert "](" not in text


def test_render_markdown_empty_sections_say_so() -> None:
    text = render_markdown(_digest(done=[], kept=[], moved=[], risks=[], pulses=[]), base_url=None)

    assert "Nothing was completed in this period." in text
    assert "No open risks." in text
    assert "Tell us how we did" not in text
    assert "Corrections" not in text


def test_render_lists_corrections_after_what_was_done() -> None:
    reopened = CorrectionLine(
        project="Web", text="WEB-1 reopened: Checkout is no longer done", on=date(2026, 9, 12)
    )
    digest = _digest(corrections=[reopened])

    text = render_markdown(digest, base_url=None)
    html = render_html(digest, base_url=None)

    assert "## Corrections\n\n- Web: WEB-1 reopened: Checkout is no longer done (2026-09-12)" in text
    assert text.index("## Done") < text.index("## Corrections") < text.index("## Coming next")
    assert "Web: WEB-1 reopened: Checkout is no longer done (2026-09-12)</li>" in html
    assert html.index(">Done<") < html.index(">Corrections<") < html.index(">Coming next<")


def test_render_html_is_self_contained_and_escaped() -> None:
    html = render_html(_digest(), base_url="https://pm.example")

    assert html.startswith("<!DOCTYPE html>")
    assert "Payment provider &lt;late&gt;" in html
    assert '<a href="https://pm.example/portal/rate?subject=milestone&amp;id=7"' in html
    assert "<link" not in html
    assert "<script" not in html
    assert "src=" not in html


def test_escape_markdown_collapses_whitespace() -> None:
    assert escape_markdown("a\n  b_c") == "a b\\_c"
