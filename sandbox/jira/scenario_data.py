"""Word lists for the Jira scenario: people, issue summaries, comments."""

from __future__ import annotations

from sandbox.process.model import Kind

FIRST = (
    "Ada",
    "Bruno",
    "Chen",
    "Dana",
    "Elif",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kaia",
    "Luis",
    "Mira",
    "Nils",
)
LAST = (
    "Lovelace",
    "Costa",
    "Wei",
    "Okafor",
    "Yilmaz",
    "Haddad",
    "Hopper",
    "Martin",
    "Silva",
    "Berg",
    "Tamm",
    "Ortiz",
)
VERBS = (
    "Implement",
    "Design",
    "Refactor",
    "Add",
    "Migrate",
    "Document",
    "Review",
    "Automate",
    "Polish",
    "Integrate",
)
THINGS = (
    "checkout flow", "login page", "invoice export", "search filters", "mobile navigation",
    "payment webhook", "reporting dashboard", "email templates", "user onboarding", "API rate limiting",
    "CSV import", "audit log", "notification settings", "product catalog", "order history",
    "password reset", "admin roles", "image upload",
)  # fmt: skip
BUG_SYMPTOMS = ("crashes on", "is slow on", "shows wrong totals in", "times out in", "breaks layout of")
LABELS = ("frontend", "backend", "client-request", "tech-debt", "ux", "infra", "quick-win")
# What people write, by what just happened; "{other}" names the issue it waits on.
COMMENTS: dict[str, tuple[str, ...]] = {
    "blocked": (
        "Blocked by {other}, picking this up once it is done.",
        "Waiting on {other} before this can go on.",
    ),
    "progress": (
        "Deployed to staging for acceptance testing.",
        "First part is in review, the rest is underway.",
    ),
    "review": ("QA found two edge cases, fixing now.", "Reopened: the fix does not cover the mobile layout."),
    "date": ("Moved the date: the design review slipped a week.", "New date agreed with the client."),
    "client": (
        "Client confirmed the scope on today's call.",
        "This needs a decision from the client's product owner.",
        "Client asked about the status of this one.",
    ),
    "handover": ("Taking this over for now.", "Handing this over, I am away next week."),
}  # fmt: skip
KINDS: tuple[tuple[Kind, int], ...] = (("story", 48), ("task", 16), ("bug", 16), ("subtask", 20))
