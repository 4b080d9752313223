"""Plain-language wording shared by the portal, the digest and the feed: promise status, data age,
ratings, what each kind of feed event is called, and the sentences of the events that correct or
take back what the feed said before (an item or a promise reopened, a risk withdrawn)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from service.domain.commitments import Commitment
from service.domain.enums import CommitmentOutcome, FeedbackSubject, FeedEventKind

# Where the portal asks for a rating; the digest links there so a client rates in one click.
PORTAL_RATE_PATH = "/portal/rate"
RATING_LABELS = {1: "Very unhappy", 2: "Unhappy", 3: "Neutral", 4: "Happy", 5: "Very happy"}
# Data older than this is shown as stale: a sync runs every few minutes when all is well.
STALE_AFTER = timedelta(hours=2)

# What each kind of feed event is, in the client's words (Atom categories, the digest).
EVENT_KIND_LABELS: dict[FeedEventKind, str] = {
    FeedEventKind.ITEM_DONE: "Done",
    FeedEventKind.ITEM_REOPENED: "Reopened",
    FeedEventKind.MILESTONE_PROGRESS: "Milestone progress",
    FeedEventKind.COMMITMENT_MOVED: "Promised date moved",
    FeedEventKind.COMMITMENT_MET: "Promise kept",
    FeedEventKind.COMMITMENT_REOPENED: "Promise open again",
    FeedEventKind.COMMITMENT_MISSED: "Promise missed",
    FeedEventKind.RISK_RAISED: "Risk",
    FeedEventKind.RISK_WITHDRAWN: "Risk withdrawn",
    FeedEventKind.RISK_RESOLVED: "Risk resolved",
    FeedEventKind.DIGEST: "Digest",
}


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def promise_status(commitment: Commitment, *, today: date) -> str:
    """One sentence a client reads without knowing the ledger: where the promise stands."""
    outcome = commitment.outcome(today)
    deadline = commitment.current_date or commitment.baseline_date
    slips = commitment.slip_count
    moved = f", after moving {_days(commitment.slip_days)} later" if commitment.slip_days else ""
    if outcome is CommitmentOutcome.MET:
        return f"Delivered on time{moved}."
    if outcome is CommitmentOutcome.MISSED:
        if commitment.delivered_at is not None:
            late = (commitment.delivered_at.date() - deadline).days
            return f"Delivered {_days(late)} late{moved}."
        return f"Overdue by {_days((today - deadline).days)}; not delivered yet."
    if slips:
        times = "once" if slips == 1 else f"{slips} times"
        return f"On its way; the date moved {times}, {_days(commitment.slip_days)} in all."
    return "On track for the date we first promised."


def outcome_label(commitment: Commitment, *, today: date) -> str:
    return {
        CommitmentOutcome.MET: "Kept",
        CommitmentOutcome.MISSED: "Missed",
        CommitmentOutcome.OPEN: "Open",
    }[commitment.outcome(today)]


def data_age(last_synced_at: datetime | None, *, now: datetime) -> str:
    """How old the data is, in words ("updated 5 minutes ago")."""
    if last_synced_at is None:
        return "not synced yet"
    seconds = max(0, int((now - last_synced_at).total_seconds()))
    if seconds < 60:
        return "updated just now"
    if seconds < 3600:
        minutes = seconds // 60
        return f"updated {minutes} minute{'s' if minutes != 1 else ''} ago"
    if seconds < 86_400:
        hours = seconds // 3600
        return f"updated {hours} hour{'s' if hours != 1 else ''} ago"
    days = seconds // 86_400
    return f"updated {_days(days)} ago"


def rate_link(base_url: str, *, subject: FeedbackSubject, subject_id: int) -> str:
    return f"{base_url.rstrip('/')}{PORTAL_RATE_PATH}?subject={subject.value}&id={subject_id}"


def event_kind_label(kind: str) -> str:
    """The client's name of a stored event's kind; a kind this version does not know reads as itself."""
    try:
        return EVENT_KIND_LABELS[FeedEventKind(kind)]
    except ValueError:
        return kind


def item_reopened_summary(key: str, title: str) -> str:
    return f"{key} reopened: {title} is no longer done"


def commitment_reopened_summary(key: str, promised: date) -> str:
    return f"{key}: the promise of {promised} is open again, as the delivered work was reopened"


def risk_raised_summary(client_text: str) -> str:
    return f"Risk: {client_text}"


def risk_withdrawn_summary(client_text: str) -> str:
    return f"Withdrawn: {client_text}"


def risk_resolved_summary(client_text: str) -> str:
    return f"Resolved: {client_text}"
