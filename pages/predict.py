"""Predict: draw a digit, upload an image or pick a test image, and see what a trained network makes of it."""

import streamlit as st

from core.predict import rejection
from ui.hosting import visible_runs
from ui.model_cache import load_digit_check, load_problem, load_run_model
from ui.navigation import require_router
from ui.predict import state
from ui.predict import views as pv
from ui.predict.links import apply_link, follow_pick
from ui.runs import run_labels
from ui.text import plain

require_router()

st.title("Predict")
st.caption("Draw a digit and watch a trained network read it, step by step: how the drawing is prepared, the "
           "probabilities, what each layer sees, and where the evidence lies.")
records = [record for record in visible_runs() if len(record.input_shape) == 3]
if not records:
    st.info("No trained models yet. Train one first; it appears here when it finishes.", icon=":material/info:")
    st.stop()
by_id = {record.run_id: record for record in records}
if problem := apply_link(list(by_id)):  # ?run=…&test=…&look=…, from Evaluate, Models or Train
    st.error(plain(problem), icon=":material/link_off:")
if st.session_state.get(state.RUN) not in by_id:
    st.session_state[state.RUN] = records[0].run_id  # the shipped defaults come first
run_id = st.selectbox("Model", list(by_id), format_func=run_labels(records).__getitem__, key=state.RUN,
                      on_change=follow_pick, help="Shipped defaults first, then your runs, newest first.")
record = by_id[run_id]
if st.query_params.get("run") != run_id:
    st.query_params["run"] = run_id
try:
    model = load_run_model(run_id)
except Exception as error:  # a damaged or vanished file: say so rather than crash the page
    st.error(f"This model could not be loaded. {load_problem(run_id, error)}", icon=":material/error:")
    st.stop()
class_names = list(record.class_names) or [str(i) for i in range(model.output_shape[-1])]

sources = (["Draw"] if pv.drawable(record) else []) + ["Camera", "Upload", "Test image"]
if st.session_state.get(state.SOURCE) not in sources:
    st.session_state[state.SOURCE] = sources[0]
source = st.segmented_control("Input", sources, key=state.SOURCE, label_visibility="collapsed") or sources[0]


@st.fragment
def panel() -> None:
    """The input and everything computed from it: a stroke on the canvas reruns only this."""
    stages = naive = true_class = quick = None
    if source == "Draw":
        image, stages, naive, quick = pv.draw_source(record)
    elif source == "Camera":
        image, stages = pv.camera_source(record)
    elif source == "Upload":
        image, stages = pv.upload_source(record)
    else:
        image, true_class = pv.test_image_source(record)
    if image is None:
        if source == "Draw":
            thing = "an example of one of your classes" if pv.own_model(record) else "a digit"
            st.info(f"The canvas is empty: draw {thing}. (An empty canvas gets no answer, not a guess.)",
                    icon=":material/draw:")
        return
    use_naive = naive is not None and st.toggle("Use the naive resize instead", key=state.NAIVE,
                                                help="Shrink the whole canvas to 28×28, as most drawing demos do.")
    model_input = naive if use_naive else image
    judgement = None
    if source != "Test image" and rejection.applies_to(record.dataset, tuple(record.input_shape)):
        judgement = pv.digit_check(load_digit_check(), image)  # the drawing as MNIST's digits were prepared
    left, right = st.columns([3, 2])
    with left:
        probabilities = pv.prediction(model, model_input, class_names, true_class, judgement)
    if quick is not None:
        with quick:
            pv.quick_answer(probabilities, class_names, judgement)
    with right:
        pv.input_pixels(model_input)
    if stages is not None:
        st.header("X-ray: how the input was prepared")
        pv.xray(stages, naive)
    st.header("Inside the network")
    view = st.segmented_control("Look at", ["Feature maps", "Saliency"], key=state.VIEW,
                                label_visibility="collapsed") or "Feature maps"
    if view == "Feature maps":
        pv.feature_maps(model, model_input)
    else:
        pv.saliency(model, model_input, class_names, probabilities)


panel()
