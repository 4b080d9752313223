"""Persistence: SQLAlchemy ORM, repositories, the inbox/outbox/cursor rows, schema management.

Only this package imports SQLAlchemy or the ORM tables (`orm`, `orm_*`); the rest of the service
calls the functions here and gets domain types (`service.domain`) or the small frozen read models
the store modules define, never ORM rows. The session, connection and database errors callers
need are re-exported by `db`.

Each entity has one home: projects in `projects`, work items, milestones and changes in `items`,
flags in `flags`, the outbox in `outbox`, sources in `sources`, sync cursors and runs in
`sync_state`, clients, scopes and tokens in `tenancy`, subscriptions in `subscriptions`.

Function names follow one convention:

- `get_X` returns X or raises `service.errors.NotFoundError`;
- `find_X` returns X or None;
- `list_X` returns a list (or a mapping keyed by id or external id), empty when nothing matches;
- `count_X` returns counts;
- `add_X`, `update_X`, `delete_X` write; a write that is a step of the entity's own lifecycle is
  named for that step (`open_flag`, `resolve_flag`, `claim_outbox`, `upsert_work_items`);
- `read_X` reads what is not an entity by its key: a decrypted secret, or a fast-path read on the
  driver's cursor (`work_scan`, `feed_queries`).
"""
