"""Limits per client: how often one network address may create workspaces, start runs, upload and join classes.

Every other cap is per workspace, and a workspace costs nothing: about 60 browser contexts made 59 of them,
and 200 fresh workspaces queued 200 CIFAR-10 runs in 3.2 s. These limits count per client address instead,
with the `limits` library's moving window: in this process's memory for one server, or on the job queue's
Redis when `CNNLAB_BROKER_URL` is set, so that several servers share the counts.

A school behind one NAT address is one client: the defaults let a class of 30 each open two workspaces,
start four runs and join once an hour, and a teacher raises them with `CNNLAB_RATE_<ACTION>` (e.g.
`CNNLAB_RATE_START="300/hour"`, in the `limits` notation).
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from limits import RateLimitItem, parse, storage, strategies

RATES: dict[str, tuple[str, str]] = {  # action → (default, what a visitor is told they did too often)
    "workspace": ("60/hour", "new workspaces"),
    "start": ("120/hour", "training runs started"),
    "upload": ("120/hour", "uploads read (zips and models)"),
    "join": ("60/hour", "class joins"),
    "create_class": ("10/hour", "classes created"),
}


class RateLimitError(ValueError):
    """A client did something too often; the message says how often it may and when it can again."""


@dataclass(frozen=True)
class Rate:
    action: str
    item: RateLimitItem
    variable: str


def rates(environ: Mapping[str, str] | None = None) -> dict[str, Rate]:
    """The limits in force: each action's `CNNLAB_RATE_<ACTION>`, or its default (also for a value `limits` cannot
    read)."""
    environ = os.environ if environ is None else environ
    found = {}
    for action, (default, _) in RATES.items():
        variable = f"CNNLAB_RATE_{action.upper()}"
        try:
            item = parse(environ.get(variable, "").strip() or default)
        except ValueError:
            item = parse(default)
        found[action] = Rate(action, item, variable)
    return found


def client_id(address: str) -> str:
    """A client's key in the counts: a hash of its address, so no address is stored or logged."""
    return hashlib.sha256(address.encode()).hexdigest()[:16]


_limiters: dict[str, strategies.MovingWindowRateLimiter] = {}
_guard = threading.Lock()


def _limiter(uri: str) -> strategies.MovingWindowRateLimiter:
    with _guard:
        if uri not in _limiters:
            _limiters[uri] = strategies.MovingWindowRateLimiter(storage.storage_from_string(uri))
        return _limiters[uri]


def storage_uri(environ: Mapping[str, str] | None = None) -> str:
    """Where the counts live: the job queue's Redis if there is one (shared by every server), else memory."""
    environ = os.environ if environ is None else environ
    broker = environ.get("CNNLAB_BROKER_URL", "").strip()
    return broker if broker.startswith(("redis://", "rediss://")) else "memory://"


def hit(action: str, client: str, environ: Mapping[str, str] | None = None) -> None:
    """Counts one `action` by `client`, or refuses it.

    Args:
        action: One of `RATES`.
        client: `client_id` of the address; "" (unknown, e.g. under a test harness) is never limited.
        environ: Where the rates and the storage are read; `os.environ` by default.

    Raises:
        RateLimitError: If the client has done this as often as the limit allows in its window. Nothing is counted.
    """
    if not client:
        return
    rate = rates(environ)[action]
    limiter = _limiter(storage_uri(environ))
    try:
        allowed = limiter.hit(rate.item, "cnnlab", action, client)
    except Exception:
        return
    if allowed:
        return
    reset = limiter.get_window_stats(rate.item, "cnnlab", action, client).reset_time
    minutes = max(1, math.ceil((reset - time.time()) / 60))
    raise RateLimitError(
        f"Too many {RATES[action][1]} from your network: this server allows {rate.item.amount} "
        f"per {_window(rate.item)}. Try again in {minutes} minute{'s' if minutes != 1 else ''}. (A class that "
        f"shares one internet address shares this limit; its teacher can ask for a higher {rate.variable}.)"
    )


def _window(item: RateLimitItem) -> str:
    seconds = item.get_expiry()
    units = {86_400: "day", 3_600: "hour", 60: "minute", 1: "second"}
    for size, name in units.items():
        if seconds % size == 0:
            count = seconds // size
            return name if count == 1 else f"{count} {name}s"
    return f"{seconds} seconds"
