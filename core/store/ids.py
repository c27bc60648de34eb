"""Ids of runs and jobs: one format, one clock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


def new_id(now: datetime | None = None) -> str:
    """A sortable, unique folder name in UTC: "20261121-140512-a1b2c3".

    UTC, so ids made on machines (or in seasons) with different clocks still sort by time.

    Args:
        now: The time to stamp; the current time by default.
    """
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{uuid.uuid4().hex[:6]}"
