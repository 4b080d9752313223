"""The Jira Cloud fake: an in-memory site (state), its REST surface (routes), control API and scenarios."""
