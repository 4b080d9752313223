"""Every table, imported in one place so the metadata is complete for Alembic and create_all."""

from typing import Any

from service.store.base import Base
from service.store.orm_ops import InboxRow, OutboxRow, RuleRunRow, SyncCursorRow, SyncLeaseRow, SyncRunRow
from service.store.orm_signals import (
    DIALECT_ONLY_INDEXES,
    CommitmentMoveRow,
    CommitmentRow,
    FeedEventRow,
    FlagHistoryRow,
    FlagRow,
)
from service.store.orm_tenancy import (
    ApiTokenRow,
    ClientRow,
    ClientScopeRow,
    EventSubscriptionRow,
    FeedbackRow,
    PortalSessionRow,
)
from service.store.orm_work import (
    ActivityRow,
    ChangeRow,
    ItemMilestoneRow,
    MilestoneChangeRow,
    MilestoneRow,
    PersonRow,
    ProjectRow,
    SourceRow,
    WorkItemRow,
    WorklogRow,
)


def applies_to(dialect_name: str) -> Any:
    """An Alembic `include_object` hook: compare only the schema objects this dialect has."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        return not (type_ == "index" and DIALECT_ONLY_INDEXES.get(name or "", dialect_name) != dialect_name)

    return include


__all__ = [
    "ActivityRow",
    "ApiTokenRow",
    "Base",
    "ChangeRow",
    "ClientRow",
    "ClientScopeRow",
    "CommitmentMoveRow",
    "CommitmentRow",
    "EventSubscriptionRow",
    "FeedEventRow",
    "FeedbackRow",
    "FlagHistoryRow",
    "FlagRow",
    "InboxRow",
    "ItemMilestoneRow",
    "MilestoneChangeRow",
    "MilestoneRow",
    "OutboxRow",
    "PersonRow",
    "PortalSessionRow",
    "ProjectRow",
    "RuleRunRow",
    "SourceRow",
    "SyncCursorRow",
    "SyncLeaseRow",
    "SyncRunRow",
    "WorkItemRow",
    "WorklogRow",
    "applies_to",
]
