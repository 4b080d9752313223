"""The client feed and what clients read: paging, progress, freshness and KPIs, over the store."""
