"""A visitor's page without a browser: Streamlit's own websocket protocol, spoken as its frontend speaks it.

Used by `bench/classroom.py` for a class of 30, where 30 Chromium tabs would take more CPU than the
server they measure (about 0.1 s of the browser's CPU per poll, against 7-10 ms of the server's).
What matters for the server is kept exactly as the frontend (Streamlit 1.67, `App.tsx`) does it:

- A page opens with a `rerun_script` naming the page by its path (`page_name`), and later reruns
  name it by the `page_script_hash` of the last `navigation` message (what `st.navigation` ran).
  The address's query string (`?ws=…`, which the app writes through `page_info_changed`) goes with
  every rerun.
- A live panel is an `st.fragment(run_every=…)`: the server sends `auto_rerun` with the fragment id
  and its interval, and the client then asks for that fragment's rerun on a fixed timer
  (`setInterval`), whether or not the last one has been answered. The same id with a new interval
  restarts the timer; `stop_auto_rerun` and a full run of the page clear timers.
- Widgets are set the way the frontend reports them: a rerun carries the widget states, and a
  button press is a trigger value that holds for that rerun only.

Each session notes what its page *shows* when it shows it: the text of every alert, markdown and
caption element as it arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

FINISHED_RUN = re.compile(r"Run \*\*(\S+)\*\* (finished|stopped by you) after")
FAILED_RUN = re.compile(r"Training failed|stopped answering|Stalled|was lost \d+ times")
_TEXT_FIELDS = ("body",)  # alert, markdown, text and caption elements all carry their text as `body`


@dataclass
class Shown:
    """The first time the page showed a run's end: when, which run, and whether it was stored."""

    at: float
    run_id: str
    outcome: str  # "stored" or "failed"


@dataclass
class Session:
    """One visitor's page on a Streamlit server, over one websocket.

    Args:
        url: The server, e.g. "http://127.0.0.1:8501".
        page: The page's path, e.g. "train".
    """

    url: str
    page: str
    query_string: str = ""
    page_hash: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # e.g. X-Forwarded-For, as a proxy would add it
    widgets: dict[str, str] = field(default_factory=dict)  # label → widget id, as last rendered
    values: dict[str, WidgetState] = field(default_factory=dict)  # widget id → the value this visitor set
    shown: Shown | None = None
    responses: list[float] = field(default_factory=list)  # seconds from a rerun request to its run's end
    polls: int = 0
    alerts: list[str] = field(default_factory=list)  # the last alerts the page showed, for a bench's report
    _socket: object = None
    _timers: dict[str, tuple[float, asyncio.Task]] = field(default_factory=dict)
    _pending: list[float] = field(default_factory=list)  # when each unanswered rerun was asked for
    _finished: asyncio.Event | None = None
    _reader: asyncio.Task | None = None

    async def open(self, timeout: float = 120) -> None:
        """Connects and runs the page once, as a browser opening its address."""
        import websockets

        address = self.url.replace("http://", "ws://", 1) + "/_stcore/stream"
        self._socket = await websockets.connect(address, subprotocols=["streamlit"], max_size=None,
                                                open_timeout=timeout, ping_interval=None,
                                                additional_headers=self.headers or None)
        self._finished = asyncio.Event()
        self._reader = asyncio.create_task(self._read())
        await self.rerun(timeout=timeout)

    async def close(self) -> None:
        for _, timer in self._timers.values():
            timer.cancel()
        if self._reader is not None:
            self._reader.cancel()
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close()

    async def type_text(self, label: str, text: str, timeout: float = 120) -> None:
        """Types into a text input and presses Enter: a rerun with its new value."""
        state = WidgetState(id=self.widgets[label], string_value=text)
        self.values[state.id] = state
        await self.rerun(timeout=timeout)

    async def slide(self, label: str, value: float, timeout: float = 120) -> None:
        """Moves a slider: a rerun with its new value."""
        state = WidgetState(id=self.widgets[label])
        state.double_array_value.data.append(value)
        self.values[state.id] = state
        await self.rerun(timeout=timeout)

    async def click(self, label: str, timeout: float = 120) -> None:
        """Presses a button: a rerun whose widget states carry its trigger."""
        await self.rerun([WidgetState(id=self.widgets[label], trigger_value=True)], timeout=timeout)

    async def rerun(self, extra: list[WidgetState] = (), fragment_id: str = "", auto: bool = False,
                    timeout: float | None = 120) -> None:
        """Asks for a rerun (of the page, or of one fragment); waits for its end unless `timeout` is None."""
        message = BackMsg()
        client = message.rerun_script
        client.query_string = self.query_string
        if self.page_hash:
            client.page_script_hash = self.page_hash
        else:
            client.page_name = self.page
        client.widget_states.widgets.extend([*self.values.values(), *extra])
        if fragment_id:
            client.fragment_id = fragment_id
        client.is_auto_rerun = auto
        client.context_info.url = f"{self.url}/{self.page}" + (f"?{self.query_string}" if self.query_string else "")
        client.context_info.timezone = "UTC"
        client.context_info.locale = "en-GB"
        self._pending.append(time.perf_counter())
        if timeout is not None:
            self._finished.clear()
        await self._socket.send(message.SerializeToString())
        if timeout is not None:
            await asyncio.wait_for(self._finished.wait(), timeout)

    async def _tick(self, fragment_id: str, interval: float) -> None:
        while True:  # the frontend's setInterval: on time, answered or not
            await asyncio.sleep(interval)
            self.polls += 1
            await self.rerun(fragment_id=fragment_id, auto=True, timeout=None)

    def _stop_timer(self, fragment_id: str) -> None:
        if fragment_id in self._timers:
            self._timers.pop(fragment_id)[1].cancel()

    async def _read(self) -> None:
        async for raw in self._socket:
            message = ForwardMsg()
            message.ParseFromString(raw)
            kind = message.WhichOneof("type")
            if kind == "new_session":
                self.page_hash = message.new_session.page_script_hash
                if not message.metadata.run.fragment_ids:  # a full run of the page: the frontend's cleanupAutoReruns
                    for fragment_id in list(self._timers):
                        self._stop_timer(fragment_id)
            elif kind == "navigation" and message.navigation.page_script_hash:
                self.page_hash = message.navigation.page_script_hash  # the page st.navigation ran: it wins
            elif kind == "page_info_changed":
                self.query_string = message.page_info_changed.query_string
            elif kind == "auto_rerun":
                fragment_id, interval = message.auto_rerun.fragment_id, message.auto_rerun.interval
                if fragment_id and self._timers.get(fragment_id, (None,))[0] != interval:
                    self._stop_timer(fragment_id)
                    self._timers[fragment_id] = (interval, asyncio.create_task(self._tick(fragment_id, interval)))
            elif kind == "stop_auto_rerun":
                for fragment_id in message.stop_auto_rerun.fragment_ids:
                    self._stop_timer(fragment_id)
            elif kind == "delta":
                self._note(message.delta)
            elif kind == "script_finished":
                if message.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # the script asked for another run of itself: that one is the answer
                if self._pending:
                    self.responses.append(time.perf_counter() - self._pending[0])
                    self._pending.clear()
                self._finished.set()

    def _note(self, delta) -> None:
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        if kind is None:
            return
        inner = getattr(element, kind)
        label = getattr(inner, "label", None)
        widget_id = getattr(inner, "id", None)
        if isinstance(label, str) and isinstance(widget_id, str) and widget_id:
            self.widgets[label] = widget_id
        text = next((getattr(inner, name) for name in _TEXT_FIELDS if isinstance(getattr(inner, name, None), str)), "")
        if kind == "alert":
            self.alerts = [*self.alerts[-4:], text]
        if self.shown is None and text:
            found = FINISHED_RUN.search(text)
            if found:
                self.shown = Shown(time.time(), found.group(1), "stored")
            elif kind == "alert" and FAILED_RUN.search(text):
                self.shown = Shown(time.time(), "", "failed")
