"""Every table, imported in one place so the metadata is complete for Alembic and create_all."""

from service.store.base import Base
from service.store.orm_ops import InboxRow, OutboxRow, SyncCursorRow, SyncLeaseRow, SyncRunRow
from service.store.orm_signals import CommitmentMoveRow, CommitmentRow, FeedEventRow, FlagRow
from service.store.orm_tenancy import (
    ApiTokenRow,
    ClientRow,
    ClientScopeRow,
    EventSubscriptionRow,
    FeedbackRow,
)
from service.store.orm_work import (
    ChangeRow,
    ItemMilestoneRow,
    MilestoneRow,
    PersonRow,
    ProjectRow,
    SourceRow,
    WorkItemRow,
)

__all__ = [
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
    "FlagRow",
    "InboxRow",
    "ItemMilestoneRow",
    "MilestoneRow",
    "OutboxRow",
    "PersonRow",
    "ProjectRow",
    "SourceRow",
    "SyncCursorRow",
    "SyncLeaseRow",
    "SyncRunRow",
    "WorkItemRow",
]
