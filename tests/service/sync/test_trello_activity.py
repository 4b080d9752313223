"""Trello card actions as activity, end to end against the sandbox over loopback: every action that
shows work (comments, checklists, members, creation) ends a card's staleness, through an
incremental sync and through a webhook delivery; pmbridge's own flag comment never does."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from connectors.http import RetryPolicy
from sandbox.trello.models import Webhook
from service.domain.enums import ActivityKind, InboxStatus
from service.flags.push import drain_pushes
from service.flags.run import evaluate_projects
from service.store.activity import list_item_activity
from service.store.db import transaction
from service.store.orm import FlagRow, InboxRow, WorkItemRow
from service.store.projects import update_project_push_settings
from service.store.runtime import Store
from service.sync.deliveries import process_delivery_now
from service.sync.runs import sync_source_now
from tests.support.rules import STALE_ON, rules_dir_with
from tests.support.trello_sandbox import TrelloSandbox, serve_trello_sandbox

STALE = "stale_in_progress"
MONTH_S = 30 * 86_400
BODY = "Invoice numbers are in the shared sheet, do not forward"
PUBLIC_URL = "http://pmbridge.invalid"
# Does the work on a card through the control API; returns the kind of activity it is.
Work = Callable[[TrelloSandbox, str], ActivityKind]


@pytest.fixture
def trello_sandbox() -> Iterator[TrelloSandbox]:
    with serve_trello_sandbox("tiny", seed=7) as sandbox:
        yield sandbox


@pytest.fixture
def source_id(store: Store, trello_sandbox: TrelloSandbox) -> int:
    return trello_sandbox.add_source(store)


def pick_in_progress(store: Store, source_id: int) -> tuple[int, str, int]:
    """An in-progress, unblocked card: store id, card id, project id."""
    with store.sessions() as session:
        row = session.scalars(
            select(WorkItemRow)
            .where(
                WorkItemRow.source_id == source_id,
                WorkItemRow.status_category == "in_progress",
                WorkItemRow.blocked.is_(False),
                WorkItemRow.visibility == "visible",
            )
            .order_by(WorkItemRow.id)
        ).first()
        assert row is not None
        return row.id, row.external_id, row.project_id


def stale(store: Store, item_id: int) -> bool:
    """Whether the card is flagged stale: on its own, or named by its milestone's or board's flag
    (cards of one board going stale together make one flag)."""
    with store.sessions() as session:
        key = session.scalar(select(WorkItemRow.key).where(WorkItemRow.id == item_id))
        for subject, subject_id, evidence in session.execute(
            select(FlagRow.subject, FlagRow.subject_id, FlagRow.evidence).where(
                FlagRow.rule_id == STALE, FlagRow.state == "open"
            )
        ):
            if subject == "item" and subject_id == item_id:
                return True
            if subject != "item" and key in (evidence or {}).get("item_keys", ()):
                return True
        return False


def evaluate(store: Store, trello_sandbox: TrelloSandbox, source_id: int) -> None:
    """Evaluate with `stale_in_progress` on (it is off as shipped)."""
    now = trello_sandbox.sandbox.clock.now()
    evaluate_projects(store, now=now, rules_dir=rules_dir_with(STALE_ON), source_id=source_id)


def went_stale(store: Store, trello_sandbox: TrelloSandbox, source_id: int, item_id: int) -> None:
    """A month passes with no work on anything; the card is flagged stale."""
    trello_sandbox.control("POST", "/clock/advance", {"seconds": MONTH_S})
    evaluate(store, trello_sandbox, source_id)
    assert stale(store, item_id)


def kinds_of(store: Store, source_id: int, card_id: str) -> list[ActivityKind]:
    with store.sessions() as session:
        return [a.kind for a in list_item_activity(session, source_id=source_id, item_external_id=card_id)]


def commented(trello_sandbox: TrelloSandbox, card_id: str) -> ActivityKind:
    trello_sandbox.control("POST", f"/trello/cards/{card_id}/comments", {"text": BODY})
    return ActivityKind.COMMENT


def checklist_added(trello_sandbox: TrelloSandbox, card_id: str) -> ActivityKind:
    trello_sandbox.control("POST", f"/trello/cards/{card_id}/checklists", {"name": "Launch"})
    return ActivityKind.CHECKLIST


def check_item_added(trello_sandbox: TrelloSandbox, card_id: str) -> ActivityKind:
    checklist = _new_checklist(trello_sandbox, card_id)
    trello_sandbox.control("POST", "/clock/advance", {"seconds": MONTH_S})
    trello_sandbox.control("POST", f"/trello/checklists/{checklist}/items", {"name": "Check links"})
    return ActivityKind.CHECKLIST


def check_item_ticked(trello_sandbox: TrelloSandbox, card_id: str) -> ActivityKind:
    checklist = _new_checklist(trello_sandbox, card_id)
    added = trello_sandbox.control("POST", f"/trello/checklists/{checklist}/items", {"name": "Check links"})
    item = added.json()["actions"][0]["data"]["checkItem"]["id"]
    trello_sandbox.control("POST", "/clock/advance", {"seconds": MONTH_S})
    trello_sandbox.control(
        "POST", f"/trello/cards/{card_id}/check-item-state", {"idCheckItem": item, "state": "complete"}
    )
    return ActivityKind.CHECKLIST


def member_added(trello_sandbox: TrelloSandbox, card_id: str) -> ActivityKind:
    world = trello_sandbox.world
    with world.lock:
        card = world.cards[card_id]
        member = next(m for m in world.boards[card.id_board].member_ids if m not in card.id_members)
    trello_sandbox.control("POST", f"/trello/cards/{card_id}/members", {"add": [member]})
    return ActivityKind.MEMBERS


def _new_checklist(trello_sandbox: TrelloSandbox, card_id: str) -> str:
    added = trello_sandbox.control("POST", f"/trello/cards/{card_id}/checklists", {"name": "Launch"})
    return str(added.json()["actions"][0]["data"]["checklist"]["id"])


WORK: list[Work] = [commented, checklist_added, check_item_added, check_item_ticked, member_added]


@pytest.mark.parametrize("work", WORK, ids=[w.__name__ for w in WORK])
def test_work_after_last_activity_ends_staleness_after_an_incremental_sync(
    store: Store, trello_sandbox: TrelloSandbox, source_id: int, work: Work
) -> None:
    sync_source_now(store, source_id=source_id, full=True)
    item_id, card_id, _ = pick_in_progress(store, source_id)
    went_stale(store, trello_sandbox, source_id, item_id)
    trello_sandbox.control("POST", "/clock/advance", {"seconds": 60})
    kind = work(trello_sandbox, card_id)

    summary = sync_source_now(store, source_id=source_id, full=False)
    evaluate(store, trello_sandbox, source_id)

    assert not stale(store, item_id)
    assert kind in kinds_of(store, source_id, card_id)
    assert summary.activity_changed == 1


def test_full_sync_reads_the_activity_in_the_boards_history(
    store: Store, trello_sandbox: TrelloSandbox, source_id: int
) -> None:
    sync_source_now(store, source_id=source_id, full=True)
    item_id, card_id, _ = pick_in_progress(store, source_id)
    trello_sandbox.control("POST", "/clock/advance", {"seconds": MONTH_S})
    check_item_ticked(trello_sandbox, card_id)
    commented(trello_sandbox, card_id)

    sync_source_now(store, source_id=source_id, full=True)
    evaluate(store, trello_sandbox, source_id)

    assert not stale(store, item_id)
    assert kinds_of(store, source_id, card_id).count(ActivityKind.CHECKLIST) == 3
    assert ActivityKind.COMMENT in kinds_of(store, source_id, card_id)


def test_copied_card_counts_from_its_copy(
    store: Store, trello_sandbox: TrelloSandbox, source_id: int
) -> None:
    sync_source_now(store, source_id=source_id, full=True)
    _, card_id, _ = pick_in_progress(store, source_id)
    world = trello_sandbox.world
    with world.lock:
        list_id = world.cards[card_id].id_list
    copied = trello_sandbox.control("POST", f"/trello/cards/{card_id}/copy", {"idList": list_id})
    copy_id = copied.json()["actions"][0]["data"]["card"]["id"]

    sync_source_now(store, source_id=source_id, full=False)

    assert kinds_of(store, source_id, copy_id) == [ActivityKind.CREATED]


def test_pmbridges_own_flag_comment_is_not_activity(
    store: Store, trello_sandbox: TrelloSandbox, source_id: int
) -> None:
    sync_source_now(store, source_id=source_id, full=True)
    item_id, card_id, project_id = pick_in_progress(store, source_id)
    # The card alone in progress on its board, so its flag is its own (cards flagged together make
    # one flag on the board, and push-back comments on item flags only).
    with store.sessions() as session:
        others = session.scalars(
            select(WorkItemRow.external_id).where(
                WorkItemRow.project_id == project_id,
                WorkItemRow.status_category == "in_progress",
                WorkItemRow.id != item_id,
            )
        ).all()
    for other in others:
        trello_sandbox.control("POST", f"/trello/cards/{other}/archive", {})
    sync_source_now(store, source_id=source_id, full=False)
    with transaction(store.sessions) as session:
        update_project_push_settings(
            session,
            project_id=project_id,
            settings={"enabled": True, "dry_run": False, "max_per_day": 1000, "min_severity": "info"},
        )
    went_stale(store, trello_sandbox, source_id, item_id)
    drain_pushes(
        store, now=trello_sandbox.sandbox.clock.now(), retry=RetryPolicy.without_waiting(max_retry_after=0.0)
    )

    sync_source_now(store, source_id=source_id, full=False)
    evaluate(store, trello_sandbox, source_id)

    assert ActivityKind.COMMENT in kinds_of(store, source_id, card_id)
    assert stale(store, item_id)


# -- webhooks ---------------------------------------------------------------------------------------


@pytest.fixture
def app_public_url() -> str | None:
    return PUBLIC_URL


@pytest.fixture
def hooked_source(app_store: Store, trello_sandbox: TrelloSandbox) -> int:
    source_id = trello_sandbox.add_source(app_store)
    sync_source_now(app_store, source_id=source_id, full=True)
    world = trello_sandbox.world
    with world.lock:
        for board_id in world.boards:
            hook = Webhook(
                world.new_id(),
                trello_sandbox.sandbox.trello_token,
                board_id,
                f"{PUBLIC_URL}/webhooks/trello/{source_id}",
            )
            world.webhooks[hook.id] = hook
    return source_id


def deliver_all(client: TestClient, trello_sandbox: TrelloSandbox, store: Store) -> list[InboxStatus]:
    for delivery in trello_sandbox.sink.deliveries:
        path = "/" + delivery.url.split("/", 3)[3]
        response = client.post(path, content=delivery.body, headers=delivery.headers)
        assert response.status_code in (200, 202), response.text
    trello_sandbox.sink.deliveries.clear()
    with store.sessions() as session:
        ids = list(
            session.scalars(select(InboxRow.id).where(InboxRow.status == "pending").order_by(InboxRow.id))
        )
    return [process_delivery_now(store, inbox_id=inbox_id) for inbox_id in ids]


@pytest.mark.parametrize("work", [commented, check_item_ticked], ids=["comment", "check-item-ticked"])
def test_work_delivered_by_webhook_ends_staleness_without_a_sync(
    app_client: TestClient, app_store: Store, trello_sandbox: TrelloSandbox, hooked_source: int, work: Work
) -> None:
    item_id, card_id, _ = pick_in_progress(app_store, hooked_source)
    went_stale(app_store, trello_sandbox, hooked_source, item_id)
    trello_sandbox.control("POST", "/clock/advance", {"seconds": 60})
    trello_sandbox.sink.deliveries.clear()
    kind = work(trello_sandbox, card_id)

    statuses = deliver_all(app_client, trello_sandbox, app_store)
    evaluate(app_store, trello_sandbox, hooked_source)

    assert statuses and set(statuses) == {InboxStatus.PROCESSED}
    assert not stale(app_store, item_id)
    assert kind in kinds_of(app_store, hooked_source, card_id)


def test_comment_delivery_text_is_not_kept_in_the_inbox(
    app_client: TestClient, app_store: Store, trello_sandbox: TrelloSandbox, hooked_source: int
) -> None:
    _, card_id, _ = pick_in_progress(app_store, hooked_source)
    trello_sandbox.sink.deliveries.clear()
    commented(trello_sandbox, card_id)

    deliver_all(app_client, trello_sandbox, app_store)

    with app_store.sessions() as session:
        bodies = list(session.scalars(select(InboxRow.body)))
    assert bodies and not any(BODY.encode() in body for body in bodies)
