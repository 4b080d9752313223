"""What applying one delivery did: the inbox row's new status and the projects it changed."""

from __future__ import annotations

from dataclasses import dataclass

from service.domain.enums import InboxStatus

NOTHING_CHANGED: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Applied:
    """`project_ids` are the stored ids of the projects whose items or milestones changed; None
    when they are not known (a Trello delivery, a delete without its project)."""

    status: InboxStatus
    project_ids: frozenset[int] | None = NOTHING_CHANGED
