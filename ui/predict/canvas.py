"""The drawing canvas (streamlit-drawable-canvas), behind one function.

Version 0.13 is a Streamlit components v2 component: it imports only under a running Streamlit
runtime, so its import stays inside `drawing()`. Under AppTest it renders as an unknown element
and returns nothing; tests put an (H, W, 4) drawing into `st.session_state[INJECTED]` instead.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from ui import palette
from ui.predict.state import CANVAS, CANVAS_GENERATION, INJECTED

SIDE = 280  # canvas pixels: ten per MNIST pixel


def clear() -> None:
    """Empties the canvas for real: a new key mounts a new, blank component (an on_click callback)."""
    st.session_state[CANVAS_GENERATION] = st.session_state.get(CANVAS_GENERATION, 0) + 1
    st.session_state.pop(INJECTED, None)


def drawing(stroke_width: int) -> np.ndarray | None:
    """Shows the canvas (white ink on black) and returns its (280, 280, 4) uint8 RGBA image, or None."""
    injected = st.session_state.get(INJECTED)
    if injected is not None:
        return np.asarray(injected, dtype=np.uint8)
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception as error:  # the component needs a Streamlit runtime and its frontend files
        st.warning(f"The drawing canvas could not load here ({type(error).__name__}). Upload an image instead.",
                   icon=":material/warning:")
        return None
    st.write("")  # room above the canvas for its floating toolbar
    result = st_canvas(stroke_width=stroke_width, stroke_color=palette.INK, background_color=palette.PAPER,
                       height=SIDE, width=SIDE, drawing_mode="freedraw", return_image_data=True,
                       key=f"{CANVAS}{st.session_state.get(CANVAS_GENERATION, 0)}")
    try:
        image = result.image_data
    except Exception:  # nothing sent yet (or no frontend, as under AppTest)
        return None
    if image is None:
        return None
    image = np.asarray(image, dtype=np.uint8)
    return image.reshape(image.shape[-3:])  # (H, W, 4), whatever leading axes the component adds
