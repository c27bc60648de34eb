"""The drawing canvas: a small Streamlit components-v2 component, defined inline, behind one function. Predict and
the Convolution Playground each show one, under their own session-state keys (`CanvasKeys`).

It replaced streamlit-drawable-canvas for speed. That component waits 200 ms after every change
before it sends the drawing (a debounce fixed in its frontend, with no option), which alone was two
thirds of the 0.3 s we allow from lifting the pen to the answer. This one sends the moment the pen
lifts. It draws white strokes with round ends and joins on black, as the old one did, so a drawing
reaches `core.predict.preprocessing.prepare_drawing` as the same (280, 280, 4) RGBA image.

Pointer events cover mouse, touch and pen alike. Undo takes back the last stroke, from the Undo button
next to Clear or with Ctrl+Z (⌘Z): the browser keeps the canvas as it was before each of the last
`UNDO_STEPS` strokes. Under AppTest the component has no frontend and returns nothing; tests put an
(H, W, 4) drawing, or a list of them (the canvas after each stroke), into
`st.session_state[keys.injected]` instead.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass

import numpy as np
import streamlit as st
from PIL import Image, UnidentifiedImageError

from ui import palette

SIDE = 280  # canvas pixels: ten per MNIST pixel


@dataclass(frozen=True)
class CanvasKeys:
    """The session-state keys of one page's canvas (its page's state module declares them).

    Args:
        canvas: Prefix of the component's key, one per generation.
        generation: Bumped by Clear: a new component key is an empty canvas.
        injected: Where tests put an (H, W, 4) drawing (the component has no frontend under AppTest).
        undo: Counts the Undo button's clicks: the canvas takes back one stroke for each new click.
        clear_button, undo_button: The two buttons' widget keys.
    """

    canvas: str
    generation: str
    injected: str
    undo: str
    clear_button: str
    undo_button: str


PNG_PREFIX = "data:image/png;base64,"
MAX_DATA_URL = 2_000_000  # characters: a 280×280 PNG is far smaller; anything larger is not our canvas's
UNDO_STEPS = 30  # strokes the canvas can take back (a 280×280 snapshot is 306 kB in the browser)
UNDO_SHORTCUT = "Ctrl+Z (⌘Z on a Mac)"

_CSS = """
canvas { touch-action: none; cursor: crosshair; border-radius: 0.5rem; display: block; }
"""

# Called on every rerun with new data; the canvas, its strokes and its undo history persist on the element between
# calls. Undo comes two ways: the page's Undo button (a click counter in `data.undo`: each new count takes back one
# stroke) and Ctrl+Z / ⌘Z anywhere on the page outside a text field, handled here with no round trip to the server.
_JS = """
export default function (component) {
  const { data, setStateValue, parentElement } = component;
  let canvas = parentElement.querySelector("canvas");
  if (!canvas) {
    canvas = document.createElement("canvas");
    canvas.className = "cnnlab-drawing";
    canvas.width = data.side;
    canvas.height = data.side;
    canvas.tabIndex = 0;  // reachable by keyboard, so Ctrl+Z has a home even with nothing else focused
    canvas.setAttribute("role", "img");
    let strokes = 0;  // what the canvas holds, for its accessible name
    const describe = () => canvas.setAttribute("aria-label", `Drawing canvas: draw ${data.what} with the mouse, a `
      + "finger or a pen; Ctrl+Z takes back the last stroke. "
      + (strokes ? `It holds ${strokes} stroke${strokes === 1 ? "" : "s"}.` : "It is empty."));
    describe();
    parentElement.appendChild(canvas);
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.fillStyle = data.paper;
    context.fillRect(0, 0, canvas.width, canvas.height);
    const history = [];  // the canvas before each stroke, newest last
    canvas.dataset.undo = String(data.undo);  // clicks made before this canvas existed are not its to undo
    let last = null;
    const at = (event) => {
      const box = canvas.getBoundingClientRect();
      return [(event.clientX - box.left) * canvas.width / box.width,
              (event.clientY - box.top) * canvas.height / box.height];
    };
    const pen = () => {
      context.strokeStyle = context.fillStyle = canvas.dataset.ink;
      context.lineWidth = Number(canvas.dataset.width);
      context.lineCap = context.lineJoin = "round";
    };
    const send = () => canvas.send("drawing", canvas.toDataURL("image/png"));
    canvas.undoStroke = () => {
      if (!history.length || last !== null) return;  // nothing to take back, or a stroke still being drawn
      context.putImageData(history.pop(), 0, 0);
      strokes = Math.max(0, strokes - 1);
      describe();
      send();
    };
    canvas.addEventListener("pointerdown", (event) => {
      canvas.setPointerCapture(event.pointerId);
      history.push(context.getImageData(0, 0, canvas.width, canvas.height));
      if (history.length > data.undo_steps) history.shift();
      last = at(event);
      pen();
      context.beginPath();  // a dot where the pen lands, as a tap draws one
      context.arc(last[0], last[1], context.lineWidth / 2, 0, 2 * Math.PI);
      context.fill();
    });
    canvas.addEventListener("pointermove", (event) => {
      if (last === null) return;
      pen();
      const moves = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
      context.beginPath();
      context.moveTo(last[0], last[1]);
      for (const move of (moves.length ? moves : [event])) {
        last = at(move);
        context.lineTo(last[0], last[1]);
      }
      context.stroke();
    });
    const lift = () => {
      if (last === null) return;
      last = null;
      strokes += 1;
      describe();
      send();  // at once: no debounce
    };
    canvas.addEventListener("pointerup", lift);
    canvas.addEventListener("pointercancel", lift);
    canvas.onKey = (event) => {
      const target = event.target;
      const typing = target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
      if (!canvas.isConnected || typing || event.shiftKey || event.altKey) return;
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") {
        event.preventDefault();
        canvas.undoStroke();
      }
    };
  }
  canvas.send = setStateValue;
  canvas.dataset.ink = data.ink;
  canvas.dataset.width = String(data.width);
  if (Number(data.undo) > Number(canvas.dataset.undo)) {  // the Undo button was clicked since the last call
    canvas.dataset.undo = String(data.undo);
    canvas.undoStroke();
  }
  document.removeEventListener("keydown", canvas.onKey);  // once, whichever way Streamlit calls the cleanup
  document.addEventListener("keydown", canvas.onKey);
  return () => document.removeEventListener("keydown", canvas.onKey);
}
"""


@st.cache_resource
def _component():
    """The component, registered once per server process (a name registered twice logs a warning)."""
    return st.components.v2.component("cnnlab_drawing_canvas", css=_CSS, js=_JS)


def clear(keys: CanvasKeys) -> None:
    """Empties the canvas for real: a new key mounts a new, blank component (an on_click callback)."""
    st.session_state[keys.generation] = st.session_state.get(keys.generation, 0) + 1
    st.session_state.pop(keys.injected, None)


def undo(keys: CanvasKeys) -> None:
    """Takes back the last stroke (an on_click callback): the canvas sees the new count and undoes one.

    Under AppTest, where tests inject whole drawings, an injected list of drawings (one per stroke, the
    canvas after each) loses its last one, as the browser's canvas would.
    """
    st.session_state[keys.undo] = st.session_state.get(keys.undo, 0) + 1
    injected = st.session_state.get(keys.injected)
    if isinstance(injected, list):
        st.session_state[keys.injected] = injected[:-1]


def buttons(keys: CanvasKeys, container=None) -> None:
    """Clear and Undo, side by side, in `container` (default: where the page is writing)."""
    row = (container or st).container(horizontal=True, gap="small", width="content")
    row.button("Clear", icon=":material/delete:", on_click=clear, args=(keys,), key=keys.clear_button)
    row.button("Undo", icon=":material/undo:", on_click=undo, args=(keys,), key=keys.undo_button,
               help=f"Take back the last stroke. Shortcut: {UNDO_SHORTCUT}.")


def decode(data_url: object) -> np.ndarray | None:
    """The canvas's PNG data URL as a (280, 280, 4) uint8 RGBA image, or None for anything else.

    The value comes from the browser, so it is checked like any upload: a data URL of a PNG of the
    canvas's size, or nothing.
    """
    if not isinstance(data_url, str) or not data_url.startswith(PNG_PREFIX) or len(data_url) > MAX_DATA_URL:
        return None
    try:
        with Image.open(io.BytesIO(base64.b64decode(data_url[len(PNG_PREFIX):], validate=True))) as image:
            if image.format != "PNG" or image.size != (SIDE, SIDE):
                return None
            return np.asarray(image.convert("RGBA"), dtype=np.uint8)  # (H, W, 4)
    except (binascii.Error, UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError):
        return None  # Pillow raises SyntaxError for a broken PNG header


def drawing(stroke_width: int, keys: CanvasKeys, what: str = "one digit") -> np.ndarray | None:
    """Shows the canvas (white ink on black) and returns its (280, 280, 4) uint8 RGBA image, or None.

    Args:
        what: What to draw, for the canvas's accessible name ("Drawing canvas: draw one digit with the mouse…").
    """
    injected = st.session_state.get(keys.injected)
    if isinstance(injected, list):  # one drawing per stroke, the canvas after each: the last is what it shows
        return np.asarray(injected[-1], dtype=np.uint8) if injected else None
    if injected is not None:
        return np.asarray(injected, dtype=np.uint8)
    st.write("")  # a little room above the canvas
    result = _component()(
        data={"side": SIDE, "width": int(stroke_width), "ink": palette.INK, "paper": palette.PAPER, "what": what,
              "undo": int(st.session_state.get(keys.undo, 0)), "undo_steps": UNDO_STEPS},
        key=f"{keys.canvas}{st.session_state.get(keys.generation, 0)}", default={"drawing": None},
        on_drawing_change=lambda: None, width="content", height="content")
    return decode(getattr(result, "drawing", None) if result is not None else None)
