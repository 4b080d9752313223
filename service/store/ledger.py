"""The promise ledger as stored: one commitment per item or milestone, its moves rewritten from the
changelog on every rebuild (so a re-sync rebuilds the same ledger)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.domain.commitments import Commitment
from service.store.dialect import table_of, upsert_insert
from service.store.orm import ChangeRow, CommitmentMoveRow, CommitmentRow


def save_commitments(
    session: Session, *, source_id: int, commitments: Sequence[Commitment]
) -> dict[int, int]:
    """Store commitments (keyed by subject); returns commitment ids by subject id."""
    if not commitments:
        return {}
    stmt = upsert_insert(session, CommitmentRow)
    stmt = stmt.on_conflict_do_update(
        index_elements=["subject", "subject_id"],
        set_={
            "baseline_date": stmt.excluded.baseline_date,
            "current_date": stmt.excluded.current_date,
            "promised_at": stmt.excluded.promised_at,
            "delivered_at": stmt.excluded.delivered_at,
        },
    )
    session.execute(
        stmt,
        [
            {
                "subject": c.subject.value,
                "subject_id": c.subject_id,
                "baseline_date": c.baseline_date,
                "current_date": c.current_date,
                "promised_at": c.promised_at,
                "delivered_at": c.delivered_at,
            }
            for c in commitments
        ],
    )
    subjects = {(c.subject.value, c.subject_id) for c in commitments}
    ids = {
        subject_id: commitment_id
        for commitment_id, subject, subject_id in session.execute(
            select(CommitmentRow.id, CommitmentRow.subject, CommitmentRow.subject_id).where(
                CommitmentRow.subject_id.in_([s for _, s in subjects])
            )
        )
        if (subject, subject_id) in subjects
    }
    session.execute(delete(CommitmentMoveRow).where(CommitmentMoveRow.commitment_id.in_(list(ids.values()))))
    wanted = {m.change_external_id for c in commitments for m in c.moves if m.change_external_id}
    change_ids = (
        {
            external_id: change_id
            for external_id, change_id in session.execute(
                select(ChangeRow.external_id, ChangeRow.id).where(
                    ChangeRow.source_id == source_id, ChangeRow.external_id.in_(list(wanted))
                )
            )
        }
        if wanted
        else {}
    )
    moves = [
        {
            "commitment_id": ids[c.subject_id],
            "moved_at": m.moved_at,
            "moved_by": m.moved_by,
            "from_date": m.from_date,
            "to_date": m.to_date,
            "change_id": change_ids.get(m.change_external_id or ""),
        }
        for c in commitments
        for m in c.moves
    ]
    if moves:
        session.execute(table_of(CommitmentMoveRow).insert(), moves)
    return ids


def delete_commitments(session: Session, *, subject: str, subject_ids: Sequence[int]) -> None:
    """Forget commitments whose subject no longer carries a promised date."""
    if subject_ids:
        session.execute(
            delete(CommitmentRow).where(
                CommitmentRow.subject == subject, CommitmentRow.subject_id.in_(subject_ids)
            )
        )
