"""Persistence: SQLAlchemy ORM, repositories, the inbox/outbox/cursor rows, schema management.

Only this package imports SQLAlchemy or the ORM tables (`base`, `orm`, `orm_*`); the rest of the
service calls the functions here and gets domain types (`service.domain`) or the small frozen read
models the store modules define, never ORM rows. The session, connection and database errors
callers need are re-exported by `db`. Both rules are import-linter contracts in `pyproject.toml`.

Each entity has one home: projects in `projects`; work items, their milestones and changes in
`items`; worklogs (time logged on items) in `worklogs`; the signs of work that change no field
(comments, Trello card actions) in `activity`; flags in `flags`; the outbox in `outbox`; sources in
`sources`, and the removal of one with everything that hangs off it in `source_removal`; sync
cursors and runs in
`sync_state`; sync leases in `leases`; clients, scopes, tokens and feedback in `tenancy` (feedback
as the operator reads and handles it in `feedback_admin`); portal
sessions in `portal_sessions`; rule dry runs in `rule_runs`; subscriptions in `subscriptions`; the
promise ledger in `ledger`; feed events in `feed_writes`; the webhook inbox in `inbox` (the
intake's fast path) and `inbox_admin` (dead letters, counts). What a client may read, filtered by
its scope in SQL, is in `client_views` (with `scope_filter`), `report_queries` and `kpi_queries`.
The rest is machinery: engines and sessions (`db`, `runtime`, `thread_connections`), the schema
(`schema`, `migrate`), credentials (`crypto`), and the driver-level fast paths (`dialect`,
`driver_dialect`, `driver_rows`, `driver_sql`, `item_statements`, `work_scan`, `mapping`,
`feed_queries`).

Function names follow one convention:

- `get_X` returns X or raises `service.errors.NotFoundError`;
- `find_X` returns X or None;
- `list_X` returns a collection (a list, a set of ids, or a mapping keyed by id or external id),
  empty when nothing matches;
- `count_X` returns counts;
- `read_X` reads what is not one entity by its key: a client's grants, a decrypted secret, or a
  fast-path read on the driver's cursor (`work_scan`, `feed_queries`);
- `add_X`, `update_X`, `delete_X` write, and `save_X` writes X whatever was stored before; a write
  that is a step of the entity's own lifecycle is named for that step (`reconcile_flags`, `publish_flag`,
  `claim_outbox`, `upsert_work_items`, `issue_token`);
- a predicate reads as one (`milestone_in_scope`, `source_has_webhook_secret`).
"""
