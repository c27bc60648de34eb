"""Live panels that never take the server: a poll interval that grows under load, and a full collection on a timer.

A live panel is an `st.fragment` with `run_every`. The browser asks for a rerun at every tick whether
or not the last one was served, so a server that cannot keep up always has a rerun waiting for every
panel; with 8 panels at 0.5 s and a full garbage collection after each run, one server stopped showing
anything at all. Two measures, both here:

- `live_fragment` runs a panel at an interval that adapts to the server's load: when a poll arrives
  much later than asked for (the server was busy), or takes more than a quarter of its interval, the
  interval doubles, up to `SLOWEST`; when polls are served on time again it halves back towards the
  panel's own. A saturated server shows updates later rather than never. The new interval reaches
  the browser the way Streamlit itself sends it when a fragment is declared (an `auto_rerun`
  message), since a fragment's own reruns do not send it again.
- Streamlit 1.67 runs `gc.collect(2)` after every script and fragment run (`runner.postScriptGC`),
  which measured 64% of a busy server's CPU. `.streamlit/config.toml` turns that off, and
  `start_collector` runs the same full collection once every `COLLECT_SECONDS` in one thread per
  process instead (Python's own generational collections run as usual meanwhile).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

SLOWEST = 8.0  # seconds: the longest interval a live panel stretches to
COLLECT_SECONDS = 30.0
LATE = 1.8  # a poll this many intervals after the last one was served late
BUSY = 0.25  # a poll that takes this share of its interval is too costly at that pace


@dataclass
class Pace:
    """One live panel's pace in one session.

    Args:
        interval: Seconds between polls now.
        last: `time.monotonic()` when the last poll started (0 before the first).
        base: The interval the panel asked for last (what it returns to when the server keeps up).
    """

    interval: float
    last: float = 0.0
    base: float = 0.0


def next_interval(pace: Pace, base: float, gap: float | None, took: float) -> float:
    """The interval after a poll that came `gap` seconds after the one before (None for the first) and took
    `took` seconds of the server's time.

    Doubles when the server is behind (the poll was late, or costly for its pace), halves back towards
    `base` when polls come on time and cheaply; never below `base` nor above `SLOWEST`.
    """
    behind = took > BUSY * pace.interval or (gap is not None and gap > LATE * pace.interval)
    if behind:
        wanted = pace.interval * 2
    elif gap is not None and gap < 1.3 * pace.interval and took < BUSY * pace.interval / 2:
        wanted = pace.interval / 2
    else:
        wanted = pace.interval
    return min(SLOWEST, max(base, wanted))


def _send_interval(seconds: float) -> None:
    """Tells the browser the running fragment's new interval (Streamlit sends this when a fragment is declared;
    during a fragment's own rerun it does not, so we do, with the same message)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState, get_script_run_ctx

    ctx, fragment_id = get_script_run_ctx(), ThreadState.get().fragment_id
    if ctx is None or not fragment_id:
        return
    message = ForwardMsg()
    message.auto_rerun.interval = seconds
    message.auto_rerun.fragment_id = fragment_id
    ctx.enqueue(message)


def live_fragment(render: Callable[..., float | None], state_key: str, base: float, active: bool,
                  *args: object) -> None:
    """Runs `render(*args)` as a fragment that reruns itself while `active`, at an interval that adapts to load.

    Args:
        render: The panel; it draws itself on every run, and may return the interval it wants as its base from
            now on (a waiting run needs looking at less often than a training one), or None.
        state_key: Where this panel's `Pace` lives in session state (its page's state module owns the key).
        base: The interval when the server keeps up, in seconds.
        active: Whether there is anything to follow (a finished run's panel polls no more).
    """
    pace = st.session_state.get(state_key)
    if not isinstance(pace, Pace):
        pace = st.session_state[state_key] = Pace(base)
    pace.base = pace.base or base

    def polled(*inner: object) -> None:
        started = time.monotonic()
        gap = started - pace.last if pace.last else None
        pace.last = started
        pace.base = render(*inner) or base
        wanted = next_interval(pace, pace.base, gap, time.monotonic() - started)
        if wanted != pace.interval:
            pace.interval = wanted
            _send_interval(wanted)

    polled.__qualname__ = f"live_fragment.{getattr(render, '__qualname__', 'render')}"  # one fragment id per panel
    polled.__module__ = getattr(render, "__module__", __name__)
    st.fragment(run_every=pace.interval if active else None)(polled)(*args)


_collector_guard = threading.Lock()
_collector: threading.Thread | None = None


def _collect_forever(every: float) -> None:
    while True:
        time.sleep(every)
        gc.collect(2)


def start_collector(every: float = COLLECT_SECONDS) -> None:
    """Starts the process's one timed full collection (once; later calls do nothing)."""
    global _collector
    with _collector_guard:
        if _collector is None:
            _collector = threading.Thread(target=_collect_forever, args=(every,), name="cnnlab-gc", daemon=True)
            _collector.start()
