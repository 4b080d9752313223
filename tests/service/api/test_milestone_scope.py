"""A milestone none of whose items a client sees shows nothing to it: not in its projects, milestones,
commitments, risks, feedback, digest or portal data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.domain.enums import ItemKind, MilestoneKind, StatusCategory
from service.domain.work import Milestone, WorkItem
from service.store.db import transaction
from service.store.items import upsert_milestones, upsert_work_items
from service.store.orm import CommitmentRow, FlagRow, MilestoneRow
from tests.support.api import T0, World, bearer, store_of

INTERNAL = "SHARED internal 2.0"


@pytest.fixture
def internal_milestone(api: TestClient, world: World) -> int:
    """A milestone of SHARED whose one item is labelled `internal`, promised and with a published
    risk: globex sees all of SHARED, acme only its `client` items."""
    with transaction(store_of(api).sessions) as session:
        upsert_milestones(
            session,
            source_id=world.source_id,
            milestones=[
                Milestone(
                    source_id=world.source_id,
                    project_external_id="SHARED",
                    external_id="m-internal",
                    name=INTERNAL,
                    kind=MilestoneKind.VERSION,
                    due_date=date(2026, 9, 15),
                )
            ],
        )
        upsert_work_items(
            session,
            source_id=world.source_id,
            items=[
                WorkItem(
                    source_id=world.source_id,
                    project_external_id="SHARED",
                    external_id="x-SHARED-7",
                    key="SHARED-7",
                    title="Internal tooling",
                    kind=ItemKind.TASK,
                    status="done",
                    status_category=StatusCategory.DONE,
                    labels=("internal",),
                    milestone_external_ids=("m-internal",),
                    created_at=T0,
                    updated_at=T0 + timedelta(days=1),
                    resolved_at=T0 + timedelta(days=1),
                )
            ],
        )
        milestone_id = session.scalars(select(MilestoneRow.id).where(MilestoneRow.name == INTERNAL)).one()
        session.add(
            CommitmentRow(
                subject="milestone",
                subject_id=milestone_id,
                baseline_date=date(2026, 9, 15),
                current_date=date(2026, 9, 15),
                promised_at=T0,
            )
        )
        session.add(
            FlagRow(
                rule_id="rule-internal-milestone",
                subject="milestone",
                subject_id=milestone_id,
                severity="warning",
                state="open",
                message="internal",
                evidence={},
                fingerprint="internal-milestone",
                first_seen_at=T0,
                last_seen_at=T0,
                client_text="Internal release at risk",
                published=True,
            )
        )
    return int(milestone_id)


@pytest.mark.parametrize(("caller", "shown"), [("acme", False), ("globex", True)], ids=["label", "all"])
def test_milestone_without_a_visible_item_shows_nowhere(
    api: TestClient, world: World, internal_milestone: int, caller: str, shown: bool
) -> None:
    headers = bearer(world.tokens[caller])
    texts = [
        api.get(route, headers=headers).text
        for route in (
            "/v1/projects",
            "/v1/milestones",
            "/v1/commitments",
            "/v1/risks",
            "/v1/digest?ending=2026-09-14&period=fortnight",
        )
    ]

    one = api.get(f"/v1/milestones/{internal_milestone}", headers=headers)
    rated = api.post(
        "/v1/feedback",
        json={"subject": "milestone", "subject_id": internal_milestone, "rating": 3},
        headers=headers,
    )

    assert [INTERNAL in text or "Internal release at risk" in text for text in texts] == [shown] * len(texts)
    assert (one.status_code, rated.status_code) == ((200, 201) if shown else (404, 404))


def test_milestone_progress_counts_only_the_visible_items(api: TestClient, world: World) -> None:
    milestones = api.get(
        "/v1/milestones",
        params={"project_id": world.projects["SHARED"]},
        headers=bearer(world.tokens["acme"]),
    ).json()["milestones"]

    assert [(m["name"], m["progress"]["done"], m["progress"]["total"]) for m in milestones] == [
        ("SHARED 1.0", 1, 2)
    ]
