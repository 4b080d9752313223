"""A client's scope and data freshness, read once and reused for a few seconds.

Every client request needs both; caching them keeps the hot reads (the feed) at one query. An
admin change to a client's scope invalidates its entry at once in this process; other processes
see it within the time to live.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from service.caching import ExpiringCache
from service.errors import DatabaseUnavailableError
from service.store.client_views import ClientGrants, list_source_ids_of_projects, read_grants
from service.store.db import OperationalError
from service.store.feed_queries import SourceFreshness, list_source_freshness
from service.store.runtime import Store


@dataclass(frozen=True, slots=True)
class ClientSnapshot:
    grants: ClientGrants
    freshness: tuple[SourceFreshness, ...]
    # The freshness as served (`FreshnessOut`), serialized once per snapshot for the hot path.
    freshness_json: bytes


def freshness_document(freshness: tuple[SourceFreshness, ...]) -> bytes:
    return orjson.dumps(
        {
            "sources": [
                {
                    "source_id": f.source_id,
                    "name": f.name,
                    "kind": f.kind.value,
                    "last_synced_at": f.last_synced_at,
                    "last_census_at": f.last_census_at,
                    "census_complete": f.census_complete,
                }
                for f in freshness
            ],
            "census_complete": all(f.census_complete for f in freshness),
        }
    )


class ClientSnapshots:
    def __init__(self, store: Store, *, ttl_seconds: float) -> None:
        self._store = store
        self._entries: ExpiringCache[int, ClientSnapshot] = ExpiringCache(self._load, ttl_s=ttl_seconds)

    def get(self, client_id: int) -> ClientSnapshot:
        return self._entries.get(client_id)

    def invalidate(self, client_id: int | None = None) -> None:
        """Forget one client's entry, or every entry (a source or project changed)."""
        self._entries.invalidate(client_id)

    def _load(self, client_id: int) -> ClientSnapshot:
        try:
            with self._store.sessions() as session:
                grants = read_grants(session, client_id=client_id)
                source_ids = list_source_ids_of_projects(session, project_ids=grants.project_ids)
                freshness = list_source_freshness(session, source_ids=source_ids)
        except OperationalError as exc:
            raise DatabaseUnavailableError("the database is unavailable") from exc
        fresh = tuple(freshness)
        return ClientSnapshot(grants=grants, freshness=fresh, freshness_json=freshness_document(fresh))
