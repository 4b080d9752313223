"""The client feed: where its events come from (`derive`, pure: an evaluation's state -> drafts) and
what clients read: paging, progress, freshness and KPIs, over the store."""
