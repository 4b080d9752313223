"""The backtest over a synced sandbox history, at once and through `pmbridge rules backtest`."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sandbox.app import Sandbox
from sandbox.jira.changes import IssueChanges
from service.cli import app
from service.domain.enums import (
    DismissReason,
    FlagState,
    FlagSubject,
    FlagTriage,
    RuleRunKind,
    RuleRunStatus,
    SourceKind,
)
from service.errors import InvalidInputError
from service.flags.backtest import backtest_stored, load_labels, queue_scheduled_backtest
from service.flags.dryrun import load_histories
from service.flags.push_queue import read_rule_precisions
from service.flags.run import evaluate_projects
from service.rules import BUILTIN_RULES
from service.rules.backtest import Label
from service.store.db import transaction
from service.store.flags import FlagLabel, acknowledge_flag, dismiss_flag, list_flag_labels, list_flags
from service.store.rule_runs import add_finished_rule_run, finish_rule_run, get_rule_run, list_rule_runs
from service.store.runtime import Store
from service.sync.runs import sync_source_now
from tests.support.jira_sandbox import JiraSandbox, first_seed_where, serve_jira_sandbox
from tests.support.rules import EVERY_BUILTIN
from tests.support.sources import add_test_source

INVALID = (
    "rules:\n  - id: x\n    applies_to: item\n    when: item.kind ==\n    severity: warning\n    message: x\n"
)


@pytest.fixture
def synced(store: Store, jira_sandbox: JiraSandbox, jira_source_id: int) -> Store:
    sync_source_now(store, source_id=jira_source_id, full=True)
    return store


def test_backtest_scores_every_rule_over_the_synced_history(synced: Store, jira_sandbox: JiraSandbox) -> None:
    now = jira_sandbox.sandbox.clock.now()

    report = backtest_stored(synced, rules=EVERY_BUILTIN, since=timedelta(days=40), until=now, workers=1)
    shipped = backtest_stored(synced, rules=None, since=timedelta(days=40), until=now, workers=1)

    assert report.instants == 41
    # The rules off by default are scored only when a rule file switches them on.
    assert {s.name for s in report.rules} >= {rule.id for rule in BUILTIN_RULES}
    assert {s.name for s in shipped.rules} == {rule.id for rule in BUILTIN_RULES if rule.enabled}
    assert report.overall.flags == sum(s.flags for s in report.rules) > 0
    assert report.promises_missed > 0, "the sandbox's histories hold missed dates"
    assert report.mean_active_items > 0
    decided = report.overall.earned + report.overall.not_earned
    assert report.overall.precision == round(report.overall.earned / decided, 3)


def test_backtest_of_an_empty_store_is_a_clear_error(store: Store, jira_sandbox: JiraSandbox) -> None:
    with pytest.raises(InvalidInputError, match="no stored history"):
        backtest_stored(
            store,
            rules=None,
            since=timedelta(days=30),
            until=jira_sandbox.sandbox.clock.now(),
        )


def _cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in ("PMBRIDGE_DATABASE_URL", "PMBRIDGE_SECRET_KEY", "PMBRIDGE_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PMBRIDGE_DATA_DIR", str(tmp_path))
    return CliRunner()


def test_rules_backtest_json_is_one_object_as_documented(
    synced: Store, jira_sandbox: JiraSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    until = jira_sandbox.sandbox.clock.now().isoformat()
    runner = _cli(tmp_path, monkeypatch)

    result = runner.invoke(
        app, ["rules", "backtest", "--since", "30d", "--step", "2d", "--until", until, "--json"]
    )

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) >= {"window", "rules", "overall", "baselines"}
    assert report["window"] == {"since": report["window"]["since"], "until": until, "step": "2d"}
    for row in report["rules"]:
        assert set(row) >= {"rule", "flags", "earned", "precision", "recall", "median_lead_days", "comments"}
    assert set(report["overall"]) >= {
        "precision",
        "recall",
        "median_lead_days",
        "open_flags_per_100_items",
        "comments_per_100_items_per_week",
        "promises_missed",
        "promises_flagged_in_time",
    }
    for row in report["baselines"]:
        assert set(row) >= {"name", "precision", "recall", "open_flags_per_100_items"}

    text = runner.invoke(app, ["rules", "backtest", "--since", "30d", "--until", until])
    assert text.exit_code == 0, text.output
    assert "overdue_commitment" in text.stdout
    assert "baselines:" in text.stdout
    # Both runs are kept, the latest being what push-back holds each rule's precision to.
    with synced.sessions() as session:
        runs = list_rule_runs(session, limit=10)
        precisions = read_rule_precisions(session)
    assert [(r.kind, r.status) for r in runs] == [(RuleRunKind.BACKTEST, RuleRunStatus.SUCCEEDED)] * 2
    assert runs[1].result == report
    assert precisions == {
        row["rule"]: row["precision"] for row in runs[0].result["rules"] if row["precision"] is not None
    }


def _due_date_moves(sandbox: Sandbox) -> list[datetime]:
    """When due dates moved, up to three days before now, oldest first."""
    latest = sandbox.clock.now() - timedelta(days=3)
    world = sandbox.jira
    with world.lock:
        moved = sorted(
            datetime.fromtimestamp(history.created_ms / 1000, UTC)
            for issue in world.issues.values()
            for history in issue.histories
            for item in history.items
            if item.field == "duedate" and item.from_ and item.to
        )
    return [at for at in moved if at < latest]


@pytest.fixture(scope="module")
def moved_sandbox() -> Iterator[JiraSandbox]:
    """The tiny scenario of the first seed from 7 whose world moved due dates in the past."""
    with serve_jira_sandbox("tiny", seed=first_seed_where(lambda s: len(_due_date_moves(s)) >= 2)) as sandbox:
        yield sandbox


def test_rules_dry_run_ends_at_until(
    store: Store, moved_sandbox: JiraSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = moved_sandbox.sandbox
    source_id = add_test_source(
        store,
        kind=SourceKind.JIRA_CLOUD,
        name="sandbox-jira",
        webhook_secret=served.jira_webhook_secret,
        base_url=moved_sandbox.base_url,
        credentials={"email": served.jira_email, "api_token": served.jira_api_token},
    )
    sync_source_now(store, source_id=source_id, full=True)
    # A day after a due-date move that has more history after it, so ending at --until cuts something off.
    moves = _due_date_moves(served)
    until = moves[len(moves) // 2] + timedelta(days=1)
    rule_file = tmp_path / "moved.yaml"
    rule_file.write_text("builtin:\n  promised_date_moved:\n    enabled: true\n    min_moves: 1\n")
    runner = _cli(tmp_path, monkeypatch)

    result = runner.invoke(
        app, ["rules", "dry-run", str(rule_file), "--since", "30d", "--until", until.isoformat(), "--json"]
    )

    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert hits
    assert all(hit["first_flagged_at"] <= until.isoformat() for hit in hits)


def test_rules_backtest_refuses_what_it_cannot_score(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = _cli(tmp_path, monkeypatch)
    bad = tmp_path / "bad.yaml"
    bad.write_text(INVALID)

    empty = runner.invoke(app, ["rules", "backtest", "--json"])
    assert empty.exit_code == 1
    assert "no stored history" in empty.stderr
    assert runner.invoke(app, ["rules", "backtest", "--until", "2999-01-01"]).exit_code == 2
    assert runner.invoke(app, ["rules", "backtest", "--step", "0d"]).exit_code == 2
    invalid = runner.invoke(app, ["rules", "backtest", str(bad)])
    assert invalid.exit_code == 1
    assert f"{bad}:4:" in invalid.stderr


def test_projects_replayed_in_parallel_score_as_one_replay(synced: Store, jira_sandbox: JiraSandbox) -> None:
    now = jira_sandbox.sandbox.clock.now()

    alone = backtest_stored(synced, rules=None, since=timedelta(days=20), until=now, workers=1)
    parallel = backtest_stored(synced, rules=None, since=timedelta(days=20), until=now, workers=2)

    assert parallel.to_json() == alone.to_json()


def test_operators_verdicts_on_real_flags_are_the_backtests_labels(
    synced: Store, jira_sandbox: JiraSandbox, tmp_path: Path
) -> None:
    now = jira_sandbox.sandbox.clock.now()
    (tmp_path / "default.yaml").write_text(EVERY_BUILTIN)
    evaluate_projects(synced, now=now, rules_dir=tmp_path)
    with synced.sessions() as session:
        flags = [f for f in list_flags(session) if f.state is FlagState.OPEN]
    assert len(flags) >= 2
    wrong, right = flags[0], flags[1]

    before = backtest_stored(synced, rules=EVERY_BUILTIN, since=timedelta(days=10), until=now, workers=1)
    with transaction(synced.sessions) as session:
        dismiss_flag(session, flag_id=wrong.id, reason=DismissReason.FALSE_POSITIVE, now=now)  # type: ignore[arg-type]
        acknowledge_flag(session, flag_id=right.id, now=now)  # type: ignore[arg-type]
    after = backtest_stored(synced, rules=EVERY_BUILTIN, since=timedelta(days=10), until=now, workers=1)

    labels = {(label.rule_id, label.triage) for label in _labels(synced)}
    assert (wrong.rule_id, FlagTriage.DISMISSED) in labels
    assert after.to_json() != before.to_json()
    was = {s.name: s for s in before.rules}[wrong.rule_id]
    now_scored = {s.name: s for s in after.rules}[wrong.rule_id]
    # Still open at the window's end, its replayed flag was undecided or earned; the dismissal
    # makes it wrong.
    assert now_scored.not_earned > was.not_earned


def test_a_verdict_on_a_project_flag_labels_each_item_it_grouped(
    store: Store, jira_sandbox: JiraSandbox, jira_source_id: int, tmp_path: Path
) -> None:
    # Three issues of one project in progress, out of every version and sprint, each a week late.
    world = jira_sandbox.sandbox.jira
    now = jira_sandbox.sandbox.clock.now()
    late = (now - timedelta(days=7)).date().isoformat()
    with world.lock:
        [(project_id, _)] = Counter(i.project_id for i in world.issues.values()).most_common(1)
        chosen = [i for i in world.issues.values() if i.project_id == project_id][:3]
        for issue in chosen:
            world.update_issue(
                issue,
                IssueChanges(status="In Progress", fix_version_ids=(), sprint_ids=(), duedate=late),
            )
    sync_source_now(store, source_id=jira_source_id, full=True)
    evaluate_projects(store, now=now, rules_dir=tmp_path)
    with store.sessions() as session:
        [flag] = [
            f
            for f in list_flags(session)
            if f.state is FlagState.OPEN
            and f.subject is FlagSubject.PROJECT
            and f.rule_id == "overdue_commitment"
        ]
    keys = flag.evidence["item_keys"]
    assert set(keys) >= {issue.key for issue in chosen}
    with transaction(store.sessions) as session:
        dismiss_flag(session, flag_id=flag.id, reason=DismissReason.FALSE_POSITIVE, now=now)  # type: ignore[arg-type]

    labels = load_labels(store, load_histories(store, now=now))

    assert {
        key: labels.get((flag.rule_id, (FlagSubject.ITEM, jira_source_id, key))) for key in keys
    } == dict.fromkeys(keys, Label.NOT_EARNED)


def _labels(store: Store) -> list[FlagLabel]:
    with store.sessions() as session:
        return list_flag_labels(session)


def test_a_scheduled_backtest_is_queued_when_none_of_the_rules_as_shipped_is_recent(store: Store) -> None:
    now = datetime(2026, 12, 7, 3, tzinfo=UTC)
    week = timedelta(days=7)

    def queued(at: datetime, *, max_waiting: int = 10) -> int | None:
        with transaction(store.sessions) as session:
            run = queue_scheduled_backtest(session, now=at, every=week, max_waiting=max_waiting)
        return None if run is None else run.id

    first = queued(now - timedelta(days=8))
    with transaction(store.sessions) as session:
        # One of a rule file does not count, nor does one that failed.
        add_finished_rule_run(
            session,
            kind=RuleRunKind.BACKTEST,
            params={"rules": "rules: []\n"},
            result={"rules": []},
            now=now - timedelta(days=1),
        )
        assert first is not None
        finish_rule_run(session, run_id=first, now=now - timedelta(days=8), result=None, error="boom")
    second = queued(now)
    not_yet = queued(now + timedelta(days=6))
    full = queued(now + week, max_waiting=1)

    assert second is not None
    assert (not_yet, full) == (None, None)
    with store.sessions() as session:
        run = get_rule_run(session, run_id=second)
    assert (run.kind, run.status, run.params["rules"]) == (RuleRunKind.BACKTEST, RuleRunStatus.QUEUED, None)
    assert (run.params["since_s"], run.params["step_s"]) == (180 * 86_400, 86_400)
