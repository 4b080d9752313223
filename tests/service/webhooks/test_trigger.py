"""The delivery trigger hands accepted ids to the job queue off the request path, in batches."""

from __future__ import annotations

from service.webhooks.trigger import DeliveryTrigger
from tests.support.fakes import RecordingEnqueuer


class BatchRecorder(RecordingEnqueuer):
    def __init__(self, *, fail_first: bool = False) -> None:
        super().__init__()
        self.batches: list[list[int]] = []
        self._fail_next = fail_first

    def process_deliveries(self, inbox_ids: list[int]) -> None:
        if self._fail_next:
            self._fail_next = False
            raise ConnectionError("queue unreachable")
        self.batches.append(list(inbox_ids))
        super().process_deliveries(inbox_ids)


def test_a_burst_becomes_few_jobs_with_every_id_once_in_order() -> None:
    enqueuer = BatchRecorder()
    trigger = DeliveryTrigger(enqueuer, linger_s=0.05)

    for inbox_id in range(1, 101):
        trigger.submit(inbox_id)

    assert trigger.flush()
    assert enqueuer.deliveries == list(range(1, 101))
    assert len(enqueuer.batches) < 10
    trigger.close()


def test_a_batch_never_exceeds_the_cap() -> None:
    enqueuer = BatchRecorder()
    trigger = DeliveryTrigger(enqueuer, max_batch=7, linger_s=0.05)

    for inbox_id in range(30):
        trigger.submit(inbox_id)

    assert trigger.flush()
    assert max(len(batch) for batch in enqueuer.batches) <= 7
    assert enqueuer.deliveries == list(range(30))
    trigger.close()


def test_close_hands_over_what_is_queued_and_stops_the_thread() -> None:
    enqueuer = BatchRecorder()
    trigger = DeliveryTrigger(enqueuer, linger_s=0.2)

    trigger.submit(1)
    trigger.submit(2)
    trigger.close()

    assert enqueuer.deliveries == [1, 2]
    assert not trigger._thread.is_alive()


def test_a_failed_enqueue_loses_only_that_batch_and_the_trigger_keeps_working() -> None:
    # The failed batch's rows stay pending in the inbox; the sweep re-triggers them.
    enqueuer = BatchRecorder(fail_first=True)
    trigger = DeliveryTrigger(enqueuer, linger_s=0.0)

    trigger.submit(1)
    assert trigger.flush()
    trigger.submit(2)
    assert trigger.flush()

    assert enqueuer.deliveries == [2]
    trigger.close()
