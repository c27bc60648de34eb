"""Class: a teacher creates a class and follows their students' runs; a student joins with a code and a nickname."""

import streamlit as st

from core.classroom.classes import load_class
from ui.classroom import views
from ui.classroom.messages import show_flash
from ui.hosting import limits
from ui.navigation import require_router
from ui.privacy import your_data
from ui.workspace import current_workspace

require_router()

st.title("Class")
st.caption("A teacher creates a class and gives the join code to the students. Each student's runs then appear "
           "here for the teacher, live, with a leaderboard; the teacher can share any run with the whole class.")
show_flash()
workspace = current_workspace()
teaching = views.taught_classes(workspace)
if teaching:
    views.teacher_view(teaching)
elif workspace.class_id:
    views.student_view(workspace, load_class(workspace.class_id))
if not teaching and not workspace.class_id:
    join, create = st.columns(2)
    with join:
        views.join_panel()
    with create:
        views.create_panel()
elif teaching:
    with st.expander("Create another class", icon=":material/add:", key="class_create_open"):  # stays open on reruns
        views.create_panel()
if not limits().hosted:
    st.caption("On your own machine every workspace sees every run; on a shared server (`CNNLAB_HOSTED=1`) a "
               "student sees only their own runs and the shared ones.")
your_data()
