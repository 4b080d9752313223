from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.trello import boundary_id_at, created_at_from_id, is_trello_id


def test_created_at_from_id_reads_the_leading_epoch_seconds() -> None:
    assert created_at_from_id("65a7d90e0000000000000001") == datetime(2024, 1, 17, 13, 41, 34, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    ["65a7d90e", "65a7d90e00000000000000zz", "", "aBcD1234"],
    ids=["short", "non-hex", "empty", "short-link"],
)
def test_created_at_from_id_not_an_id_raises(value: str) -> None:
    assert not is_trello_id(value)
    with pytest.raises(ValueError, match="not a Trello id"):
        created_at_from_id(value)


def test_boundary_id_at_sorts_before_every_id_of_that_second() -> None:
    moment = datetime(2024, 1, 17, 13, 41, 34, 900000, tzinfo=UTC)

    bound = boundary_id_at(moment)

    assert bound == "65a7d90e0000000000000000"
    assert bound <= "65a7d90e0000000000000001" < boundary_id_at(datetime(2024, 1, 17, 13, 41, 35, tzinfo=UTC))
    assert created_at_from_id(bound) == moment.replace(microsecond=0)


def test_boundary_id_at_naive_datetime_raises() -> None:
    with pytest.raises(ValueError, match="aware"):
        boundary_id_at(datetime(2024, 1, 17))
