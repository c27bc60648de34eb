"""The projector view (issue 31): the class's name, join code, QR code and leaderboard for the wall, with no
workspace key in it and nothing that can change the class."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image
from streamlit.testing.v1 import AppTest

from core.classroom.classes import join_class, load_class
from core.classroom.closing import close_class
from core.classroom.qr import qr_png
from core.store.runs import STORE_ROOT
from core.store.workspaces import create_workspace, open_workspace
from tests.app.harness import open_app, rendered, rerun
from tests.conftest import REPO_ROOT
from tests.unit.test_classroom import store_run
from ui import state
from ui.classroom import state as class_state


def test_the_qr_code_reads_back_as_the_join_link():
    link = "https://cnnlab.example/classroom?join=ABCDEFGH"
    image = Image.open(io.BytesIO(qr_png(link)))
    assert [result.text for result in zxingcpp.read_barcodes(image)] == [link]


def projector(key: str) -> AppTest:
    app = AppTest.from_file(str(REPO_ROOT / "streamlit_app.py"), default_timeout=120)
    app.query_params["projector"] = key
    app.switch_page("pages/projector.py").run()
    assert not app.exception, [element.value for element in app.exception]
    return app


def test_a_teacher_opens_the_projector_view_and_it_holds_no_key():
    teacher = open_app("pages/classroom.py")
    teacher.text_input(key=class_state.CLASS_NAME).set_value("Year 10 **CNNs**")
    teacher.button(key=class_state.CREATE).click()
    rerun(teacher)
    room = load_class(teacher.session_state[class_state.TAUGHT])
    button = next(element for element in teacher.get("link_button") if element.proto.label == "Projector view")
    url = button.proto.url
    key = load_class(room.class_id).projector
    assert f"projector={key}" in url and "ws=" not in url
    teacher_key = teacher.session_state[state.WORKSPACE_KEY]
    ada = create_workspace(STORE_ROOT)[1]
    join_class(room.join_code, "Ada", ada, STORE_ROOT)
    store_run(STORE_ROOT, ada.workspace_id, 0.9, seconds=0.0, name="first")
    store_run(STORE_ROOT, ada.workspace_id, 0.95, seconds=0.0, name="second")

    wall = projector(key)
    assert "ws" not in wall.query_params and state.OWNER not in wall.session_state  # no workspace made
    shown = " ".join(rendered(element.value) for element in (*wall.markdown, *wall.get("html")))
    assert "Year 10 **CNNs**" in shown  # the name as typed
    assert f"{room.join_code[:4]}-{room.join_code[4:]}" in shown and f"join={room.join_code}" in shown
    assert teacher_key not in shown and "ws=" not in shown and "Show my teacher link" not in shown
    board = wall.dataframe[0].value
    assert list(board["student"]) == ["Ada"] and list(board["test accuracy"]) == ["95.0%"]  # her best run only
    assert not wall.button and not wall.text_input  # it can change nothing
    assert wall.get("image")  # the QR code

    close_class(room.class_id, open_workspace(teacher_key, STORE_ROOT), STORE_ROOT)
    closed = projector(key)  # the wall after the lesson: its results, and no code inviting joins that fail
    shown = " ".join(rendered(element.value) for element in (*closed.markdown, *closed.get("html")))
    assert "This class is closed" in closed.warning[0].value and not closed.get("image")
    assert room.join_code[:4] not in shown and list(closed.dataframe[0].value["student"]) == ["Ada"]


def test_a_projector_key_that_opens_nothing_says_so():
    wall = projector("not-a-real-projector-key")
    assert "opens no class" in wall.error[0].value
    assert state.OWNER not in wall.session_state
