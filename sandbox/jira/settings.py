"""What a Jira site is configured with: credentials clients use and behaviour knobs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JiraCredentials:
    """What clients authenticate with: Basic email:api_token (Cloud), Bearer PAT (Data Center: its bearer
    sees the site as Jira Data Center), Bearer OAuth 2.0 access token (3LO app, allowed to register dynamic
    webhooks)."""

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
    # Histories embedded by expand=changelog: GET issue returns the latest 100 (pycontribs#911). Enhanced
    # search returns at most 40, the rest only through GET …/changelog: Atlassian's own tracker states it
    # (jira.atlassian.com/browse/JRACLOUD-96459, quoting the enhanced-search FAQ), reference §2.
    changelog_cap_issue: int = 100
    changelog_cap_search: int = 40
    # Comments embedded in search (20 per Adaptavist's migration notes, reference §2; unverified).
    comment_cap_search: int = 20
    max_comments_per_issue: int = 5000
