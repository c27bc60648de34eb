"""My classes: teach the network your own classes, drawn, photographed or uploaded, then train on them."""

import streamlit as st

from core.classroom.classes import load_class
from core.data import own_classes
from core.store.runs import STORE_ROOT
from ui.hosting import owner
from ui.navigation import require_router
from ui.own_classes import state
from ui.own_classes import views as ov
from ui.text import plain
from ui.workspace import current_workspace

require_router()

st.title("My classes")
st.caption("Teach the network classes of your own: name them, then draw, photograph or upload a few dozen examples "
           "of each. Your classes become a dataset like the others: explore it, train on it, evaluate the run, "
           "predict new drawings or photos, and take the model to a phone from **Models**.")
ov.message()
workspace = current_workspace()
mine, shared = own_classes.readable_sets(owner(), workspace.class_id, STORE_ROOT)
for class_set in shared:
    st.info(f"Your teacher shared a set of classes with your class: {plain(class_set.title())} "
            f"({class_set.total:,} examples). Pick it in the dataset picker on **Train**.", icon=":material/school:")

if not mine:
    st.header("Name your classes")
    ov.create_form()
    with st.expander("Or start from a zip of class folders", icon=":material/upload:"):
        ov.zip_form()
    st.stop()

class_set = mine[0]
ov.readiness(class_set)
st.header("Add examples")
class_index = ov.pick_class(class_set)
st.session_state.setdefault(state.WAY, "Draw")
way = st.segmented_control("How to add examples", ["Draw", "Camera", "Upload"], key=state.WAY,
                           label_visibility="collapsed") or "Draw"
if way == "Draw":
    ov.draw_way(class_set, class_index)
elif way == "Camera":
    ov.camera_way(class_set, class_index)
else:
    ov.upload_way(class_set, class_index)
ov.augmentation_preview(class_set)

st.header("Your examples")
ov.grids(class_set, editable=True)

st.header("Your set")
teaches = workspace.teaches[-1] if workspace.teaches else ""
taught = load_class(teaches, STORE_ROOT) if teaches else None
ov.tools(class_set, teaches if taught is not None else "", taught.name if taught is not None else "")
