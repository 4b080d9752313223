"""Event subscriptions: what clients and operators send and read. The signing secret comes out
once, when the subscription is created."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from service.api.schemas.common import RequestBody


class SubscriptionIn(RequestBody):
    url: str = Field(
        min_length=1,
        max_length=2000,
        pattern=r"^https?://\S+$",
        description="An https URL on a public host; every client-visible feed event is POSTed to it.",
    )


class SubscriptionOut(BaseModel):
    id: int
    client_id: int
    url: str
    created_by: Literal["client", "operator"]
    created_at: datetime
    delivered_cursor: str | None = Field(
        description="The feed cursor of the last event delivered; `GET /v1/feed?after=` it to catch up."
    )
    attempts: int = Field(description="Failed attempts at the pending event since the last success.")
    next_attempt_at: datetime | None
    parked_at: datetime | None = Field(
        description="Set when deliveries failed for a day; nothing is sent until an operator retries."
    )
    last_status: int | None = Field(description="The receiver's last HTTP status, if it answered.")
    last_error: str | None


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(
        description=(
            "Signs every delivery: X-Pmbridge-Signature is `v1=` and the hex HMAC-SHA256 of "
            "`{X-Pmbridge-Timestamp}.{raw body}` under this secret. Shown this once."
        )
    )
