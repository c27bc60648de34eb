"""Evaluate: where a stored run goes wrong, how it compares with other runs, what it learned, and its code."""

import streamlit as st

from core.evaluate.metrics import test_report
from ui.evaluate import state
from ui.evaluate import views as ev
from ui.hosting import visible_runs
from ui.loaders import dataset_for_run
from ui.model_cache import load_problem
from ui.navigation import require_router
from ui.runs import missing_run_message, run_labels
from ui.text import plain
from ui.workspace import link_params

require_router()

st.title("Evaluate")
records = visible_runs()
if not records:
    if st.query_params.get("run"):
        st.error(plain(missing_run_message(st.query_params["run"])), icon=":material/search_off:")
    st.info("No trained runs yet. Train one first; it appears here when it finishes.", icon=":material/info:")
    st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:", query_params=link_params())
    st.stop()

by_id = {record.run_id: record for record in records}
linked = st.query_params.get("run")  # ?run=<id> opens a run directly, e.g. from a shared link
missing = None
if linked is not None and linked != st.session_state.get(state.RUN):
    if linked in by_id:
        st.session_state[state.RUN] = linked
    else:  # unknown, or another visitor's: say so, and open nothing in its place
        missing = missing_run_message(linked)
        st.session_state[state.RUN] = None
elif arrived := ev.new_run_arrived(records):  # a run finished since this page last looked: open it
    st.session_state[state.RUN] = arrived
elif st.session_state.get(state.RUN) not in by_id:  # none chosen: open the newest
    st.session_state[state.RUN] = next((r.run_id for r in records if r.source != "defaults"), records[0].run_id)
if missing:
    st.error(f"{plain(missing)} Pick a run below.", icon=":material/search_off:")
labels = run_labels(records)
run_id = st.selectbox("Run", list(by_id), format_func=labels.__getitem__, key=state.RUN, index=None,
                      placeholder="Choose a run", on_change=ev.follow_pick,
                      help="Shipped defaults first, then your runs, newest first.")
if run_id is None:
    st.stop()
record = by_id[run_id]
if st.query_params.get("run") != run_id:
    st.query_params["run"] = run_id
epochs = record.epochs_trained
st.caption(f"{plain(record.name)}: {record.status}, {epochs} epoch{'' if epochs == 1 else 's'}, "
           f"{record.training_seconds:.0f} s of training. {plain(record.stop_reason)}")

dataset, problem = dataset_for_run(record)
if dataset is None:
    problem += " Comparing runs, learned filters and code export work without it."

probabilities = None
if dataset is not None:
    try:
        probabilities = ev.test_probabilities(record, dataset)
    except Exception as error:  # a model file that loads but cannot run: say so rather than crash the page
        problem = f"The model could not be run on the test images. {load_problem(record.run_id, error)}"

if probabilities is not None and probabilities.shape[1] != dataset.num_classes:
    problem = f"The model has {probabilities.shape[1]} outputs but the dataset has {dataset.num_classes} classes."
    probabilities = None
if probabilities is not None:
    report = test_report(probabilities, dataset.y_test, dataset.class_names)
    ev.metrics_header(report)
    stored = record.metrics.get("test", {}).get("accuracy")
    if isinstance(stored, float) and abs(stored - report.accuracy) > 0.002:
        st.caption(f"The run recorded {stored:.2%} when it was saved; the test set as loaded now gives "
                   f"{report.accuracy:.2%}.")
else:
    st.warning(problem or "No test images to evaluate.", icon=":material/warning:")

views = state.VIEWS if probabilities is not None else ("Compare runs", "Learned filters", "Export code")
if st.session_state.get(state.VIEW) not in views:
    st.session_state[state.VIEW] = views[0]
view = st.segmented_control("Show", views, key=state.VIEW, label_visibility="collapsed") or views[0]

if view == "Confusion matrix":
    ev.confusion_view(dataset, probabilities, run_id)
elif view == "Mistakes":
    ev.mistakes_view(dataset, probabilities, run_id)
elif view == "One image":
    ev.one_image_view(dataset, probabilities, run_id)
elif view == "Compare runs":
    ev.compare_view(records, record)
elif view == "Learned filters":
    ev.filters_view(record)
else:
    ev.export_view(record)
