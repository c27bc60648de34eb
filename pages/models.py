"""Models: every stored run, shipped defaults first; rename, delete, download and upload."""

import streamlit as st

from core.evaluate.spreadsheet import spreadsheet_safe
from ui.hosting import visible_store
from ui.models import state
from ui.models import views as store_views
from ui.models.export import export_section
from ui.navigation import require_router
from ui.runs import open_links
from ui.text import plain

require_router()

st.title("Models")
st.caption("Every run you train is saved here with its model file (`.keras`) and its metadata: dataset, layers, "
           "hyperparameters, per-epoch history and train / validation / test metrics. Shipped default models "
           "come first and are read-only.")
store_views.action_message()
listing = visible_store()
records = listing.runs
if not records:
    st.info("No stored runs yet. Train one on the **Train** page, or upload a `.keras` file below.")
else:
    frame = store_views.runs_frame(records)
    # Accuracies as bars in percent: a run without validation images gets an empty cell, where a
    # number column shows "None"; the values stay numbers, so the columns still sort.
    shown = frame.assign(**{column: frame[column] * 100 for column in ("test accuracy", "validation accuracy")})
    accuracy = st.column_config.ProgressColumn(format="%.2f%%", min_value=0, max_value=100)
    picked = st.dataframe(spreadsheet_safe(shown), hide_index=True, width="stretch", on_select="rerun",
                          selection_mode="single-row",
                          key=state.TABLE,
                          column_config={"test accuracy": accuracy, "validation accuracy": accuracy,
                                         "training s": st.column_config.NumberColumn(format="%.1f")})
    rows = picked.selection.rows if picked is not None else []
    if rows and rows[0] < len(records):
        record = records[rows[0]]
        st.header(plain(record.name))
        open_links(record.run_id, "models", image_model=len(record.input_shape) == 3)
        store_views.run_details(record)
        store_views.actions(record)
        if len(record.input_shape) == 3:
            with st.expander("Take it away: export for phones (TensorFlow Lite) or ONNX", icon=":material/ios_share:",
                             key="models_export_open"):
                export_section(record)
    else:
        st.caption("Click a row (its left edge) to see the run's details and actions. Click a column header to sort.")

store_views.damaged_runs(listing.damaged)
store_views.upload_result()
# Keyed, so it stays open over the chosen file when the sidebar above changes on the upload's rerun.
with st.expander("Upload a .keras model", icon=":material/upload:", key="models_upload_open"):
    store_views.upload_form()
