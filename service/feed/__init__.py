"""The client feed: where its events come from (`derive`, pure: an evaluation's state, or an
operator's publish of a risk -> drafts) and what clients read: paging, progress, freshness and
KPIs, over the store."""
