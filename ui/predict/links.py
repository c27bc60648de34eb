"""Predict's address: `?run=<id>` names the model (and follows the picker, so the address can be shared), and
`&test=<index>` with `&look=saliency` or `&look=maps` opens one test image with its heat map or feature maps (the
links from Evaluate's galleries, Models and a finished run on Train)."""

from __future__ import annotations

import streamlit as st

from ui.predict.state import INDEX, RUN, SOURCE, VIEW
from ui.runs import missing_run_message

LOOKS = {"saliency": "Saliency", "maps": "Feature maps"}
MAX_DIGITS = 7  # no test set here has 10 million images: a longer "number" is not one


def apply_link(run_ids: list[str]) -> str | None:
    """Opens what the address asks for, once; returns what was wrong with it, in a sentence, or None.

    `test` and `look` are taken out of the address once applied: afterwards the page's own pickers rule.
    """
    params = st.query_params
    problems = []
    linked = params.get("run")
    if linked is not None and linked != st.session_state.get(RUN):
        if linked in run_ids:
            st.session_state[RUN] = linked
        else:  # unknown, or another visitor's: say so, and keep to the model picked
            problems.append(f"{missing_run_message(linked)} Pick a model below.")
            del st.query_params["run"]
    test = params.get("test")
    if test is not None:
        if test.isdigit() and len(test) <= MAX_DIGITS:
            st.session_state[SOURCE], st.session_state[INDEX] = "Test image", int(test)
        else:
            problems.append(f"The link's test image {test[:20]!r} is not an image number.")
        del st.query_params["test"]
    look = params.get("look")
    if look is not None:
        if look in LOOKS:
            st.session_state[VIEW] = LOOKS[look]
        else:
            problems.append(f"The link asks to look at {look[:20]!r}; Predict shows {' or '.join(LOOKS)}.")
        del st.query_params["look"]
    return " ".join(problems) or None


def follow_pick() -> None:
    """The model picker's callback: the address follows the choice, so it can be shared."""
    if st.session_state.get(RUN):
        st.query_params["run"] = st.session_state[RUN]
