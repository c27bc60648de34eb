"""Who is asking, for the per-client limits (`core.store.ratelimits`) and the queue's fair share.

The client is its network address: `st.context.ip_address`, the peer of the browser's connection. Behind
a reverse proxy that is the proxy's own address for everyone, so set `CNNLAB_CLIENT_HEADER` to the header
the proxy adds (e.g. `X-Forwarded-For`): its last address is the one the proxy saw, the only one it vouches
for. Limits apply in hosted mode only; an unknown address (a test harness) is never limited.
"""

from __future__ import annotations

import os

import streamlit as st

from core.store.hosting import current_limits
from core.store.ratelimits import RateLimitError, client_id, hit

CLIENT_HEADER_ENV = "CNNLAB_CLIENT_HEADER"


def client_address() -> str:
    """The client's address as this server can know it, or "" if unknown."""
    header = os.environ.get(CLIENT_HEADER_ENV, "").strip()
    if header:
        value = (st.context.headers or {}).get(header)
        forwarded = [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else []
        if forwarded:
            return forwarded[-1][:64]
    address = st.context.ip_address  # under AppTest not a string at all
    return address[:64] if isinstance(address, str) else ""


def client() -> str:
    """This client's key for counts and fair share ("" when unknown)."""
    address = client_address()
    return client_id(address) if address else ""


def refused(action: str) -> str | None:
    """Counts one `action` by this client; a sentence if it has done it too often (hosted mode only), else None."""
    if not current_limits().hosted:
        return None
    try:
        hit(action, client())
    except RateLimitError as error:
        return str(error)
    return None
