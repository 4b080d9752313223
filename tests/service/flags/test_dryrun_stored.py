from __future__ import annotations

from datetime import timedelta

from service.flags.dryrun import dry_run_stored
from service.rules import default_rule_set, load_rule_set
from service.store.runtime import Store
from service.sync.runs import sync_source_now
from tests.support.jira_sandbox import JiraSandbox

MOVED_ONCE = """\
builtin:
  promised_date_moved:
    enabled: true
    min_moves: 1
"""


def test_dry_run_over_synced_history_reports_first_flag_dates(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int
) -> None:
    sync_source_now(store, source_id=jira_source_id, full=True)
    now = jira_sandbox.sandbox.clock.now()
    layer = load_rule_set(MOVED_ONCE, source_name="test")

    hits = dry_run_stored(
        store,
        rule_set=default_rule_set().override(layer),
        rule_ids=frozenset({"promised_date_moved"}),
        since=timedelta(days=60),
        now=now,
    )

    assert hits, "the sandbox's histories move promised dates"
    assert {hit.rule_id for hit in hits} == {"promised_date_moved"}
    assert all(now - timedelta(days=60) <= hit.first_flagged_at <= now for hit in hits)
