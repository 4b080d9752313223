"""Word lists for the Trello scenario: people, projects, card titles, comments."""

from __future__ import annotations

PEOPLE = (
    ("amira.haddad", "Amira Haddad"),
    ("ben.okafor", "Ben Okafor"),
    ("chloe.martin", "Chloé Martin"),
    ("dmitri.volkov", "Dmitri Volkov"),
    ("elena.garcia", "Elena García"),
    ("farid.rahimi", "Farid Rahimi"),
    ("grace.lee", "Grace Lee"),
    ("hugo.schmidt", "Hugo Schmidt"),
    ("isabel.costa", "Isabel Costa"),
    ("jonas.berg", "Jonas Berg"),
    ("kenji.sato", "Kenji Sato"),
    ("lina.novak", "Lina Novak"),
)

PROJECTS = (
    "Website Relaunch",
    "Mobile App",
    "Brand Refresh",
    "E-commerce Platform",
    "Marketing Campaign",
    "Customer Portal",
    "Data Migration",
    "Analytics Dashboard",
)

OPEN_LISTS = ("Backlog", "To Do", "Doing", "Review", "Done")
ARCHIVED_LISTS = ("Sprint 1 (old)", "Parking Lot")

# (name, color); "Blocked" and "Milestone" carry meaning for pmbridge's rules.
LABELS = (
    ("Blocked", "red"),
    ("Milestone", "purple"),
    ("Bug", "orange"),
    ("Feature", "green"),
    ("Client Request", "blue"),
    ("Design", "sky"),
    ("Content", "yellow"),
)

VERBS = ("Design", "Implement", "Review", "Write", "Set up", "Fix", "Test", "Migrate", "Polish", "Document")
OBJECTS = (
    "homepage hero",
    "checkout flow",
    "login redirect",
    "pricing page",
    "newsletter signup",
    "product search",
    "account settings",
    "order history export",
    "onboarding emails",
    "analytics events",
    "image pipeline",
    "accessibility audit fixes",
    "payment webhook handler",
    "press kit",
    "FAQ section",
    "admin reports",
    "push notifications",
    "CMS content model",
    "staging environment",
    "SEO metadata",
)
MILESTONES = (
    "Design sign-off",
    "Beta release",
    "Content freeze",
    "Go-live",
    "UAT complete",
    "Launch campaign",
)
PRIORITIES = (("High", "red"), ("Medium", "yellow"), ("Low", "green"))
CHECKLIST_ITEMS = (
    "Draft",
    "Internal review",
    "Client feedback",
    "Revisions",
    "QA pass",
    "Deploy to staging",
    "Sign-off",
)
COMMENTS = (
    "Waiting on assets from the client.",
    "First draft is up, feedback welcome.",
    "Pushed a fix, please re-test.",
    "Client asked for a small change to the copy.",
    "Blocked by the API credentials, chasing.",
    "Looks good to me.",
    "Moved the date: the client needs another week for review.",
    "Deployed to staging.",
    "Can we split this into two cards?",
    "Discussed in the weekly, priority confirmed.",
)
# What people write, by what just happened on the card.
TOPIC_COMMENTS: dict[str, tuple[str, ...]] = {
    "blocked": ("Blocked by the API credentials, chasing.", "Waiting on the card before this one."),
    "progress": ("First draft is up, feedback welcome.", "Deployed to staging."),
    "review": ("Pushed a fix, please re-test.", "Reopening: the client found an issue on mobile."),
    "date": ("Moved the date: the client needs another week for review.",),
    "client": (
        "Waiting on assets from the client.",
        "Client asked for a small change to the copy.",
        "Discussed in the weekly, priority confirmed.",
    ),
    "handover": ("Taking this one over.", "Can someone pick this up while I am away?"),
}
DESCRIPTIONS = (
    "",
    "See the brief in the shared drive.",
    "Acceptance: works on mobile and desktop, reviewed by the client.",
    "Scope agreed in the kickoff call.",
)
