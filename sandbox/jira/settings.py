"""What a Jira site is configured with: credentials clients use and behaviour knobs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JiraCredentials:
    """What clients authenticate with: Basic email:api_token (Cloud), Bearer PAT (Data Center style),
    Bearer OAuth 2.0 access token (3LO app, allowed to register dynamic webhooks)."""

    email: str
    api_token: str
    pat: str
    oauth_token: str
    webhook_secret: str


@dataclass
class JiraSettings:
    site_url: str = "https://sandbox.atlassian.net"
    timezone: str = "UTC"
    search_lag_s: float = 0.0
    # Histories embedded by expand=changelog: GET issue returns the latest 100 (pycontribs#911); search
    # returns a smaller slice (20 per Adaptavist's notes, reference §2 — the exact cap is unverified).
    changelog_cap_issue: int = 100
    changelog_cap_search: int = 20
    comment_cap_search: int = 20
    max_comments_per_issue: int = 5000
