"""The app's shell: its pages in one place (so the router and the Home page's links never disagree),
the routing, and the session state every page keeps.

This is the one ui module above the page packages: it reads each page's `state` module, so
that a value kept by any page survives a run of every other page.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from core.store.runs import STORE_ROOT
from core.store.workspaces import remember_settings
from ui import state as shared_state
from ui.classroom import state as classroom_state
from ui.evaluate import state as evaluate_state
from ui.explorer import state as explorer_state
from ui.models import state as models_state
from ui.own_classes import state as own_classes_state
from ui.persist import KeptKeys, keep_all, restore, snapshot
from ui.playground import state as playground_state
from ui.predict import state as predict_state
from ui.train import state as train_state
from ui.workspace import current_workspace, ensure_workspace


@dataclass(frozen=True)
class PageSpec:
    """A page of the app.

    Args:
        path: The page's script, relative to `streamlit_app.py`.
        title: The title in the navigation menu.
        icon: A Material icon name in Streamlit's ":material/...:" form.
        summary: One sentence for the Home page.
    """

    path: str
    title: str
    icon: str
    summary: str


ROUTER = "streamlit_app.py"
HOME = PageSpec("pages/home.py", "Home", ":material/home:", "Where to start.")
PAGES: tuple[PageSpec, ...] = (
    HOME,
    PageSpec("pages/dataset_explorer.py", "Dataset Explorer", ":material/grid_view:",
             "Look at the images as a network sees them: pixel values, class balance, normalisation, "
             "one-hot labels and augmentation."),
    PageSpec("pages/my_classes.py", "My classes", ":material/category:",
             "Teach it classes of your own: draw, photograph or upload examples, then train, predict and export."),
    PageSpec("pages/convolution_playground.py", "Convolution Playground", ":material/blur_on:",
             "Slide a kernel over an image yourself and watch every multiply-and-add of a convolution "
             "and a pooling layer."),
    PageSpec("pages/train.py", "Train", ":material/model_training:",
             "Build a Keras model, set its hyperparameters with sliders and watch the loss and accuracy curves live."),
    PageSpec("pages/models.py", "Models", ":material/inventory_2:",
             "Every trained run with its metrics: rename, delete, download, or upload a .keras file."),
    PageSpec("pages/evaluate.py", "Evaluate", ":material/analytics:",
             "Find where a trained model goes wrong: confusion matrix, mistakes, run comparison and learned filters."),
    PageSpec("pages/predict.py", "Predict", ":material/draw:",
             "Draw a digit or upload an image and see what the network reads, and why."),
    PageSpec("pages/classroom.py", "Class", ":material/school:",
             "Teach or join a class: every student's runs live for the teacher, a leaderboard and shared runs."),
)


PROJECTOR = PageSpec("pages/projector.py", "Projector view", ":material/co_present:",
                     "A class's join code, QR code and leaderboard for the wall.")


def _projector_elsewhere() -> None:
    """What a projector key shows at any address but /projector: where to go (no other page runs without a
    workspace)."""
    st.title(PROJECTOR.title)
    st.info("This link belongs on the projector page: open the projector view again from your Class page.",
            icon=":material/co_present:")


def projector_mode() -> bool:
    """Whether this session shows a projector view (`?projector=…`): no workspace, no menu, no other page."""
    return bool(st.query_params.get(classroom_state.PROJECTOR_PARAM))


def streamlit_pages() -> list[st.Page]:
    """Builds the `st.Page` objects for `st.navigation`, Home first and default; in projector mode only the
    projector view."""
    if projector_mode():  # the default page is the address without a path, so the projector cannot be it
        return [st.Page(_projector_elsewhere, title=PROJECTOR.title, default=True),
                st.Page(PROJECTOR.path, title=PROJECTOR.title, icon=PROJECTOR.icon, url_path="projector")]
    # Listed, hidden, in every session too: Streamlit looks a fresh tab's address up among the pages the last
    # run listed, and a projector link would otherwise open on "Page not found".
    return [*(st.Page(spec.path, title=spec.title, icon=spec.icon, default=spec is HOME) for spec in PAGES),
            st.Page(PROJECTOR.path, title=PROJECTOR.title, icon=PROJECTOR.icon, url_path="projector",
                    visibility="hidden")]


# Every owner of session-state keys, and what each keeps across page changes.
KEPT: tuple[KeptKeys, ...] = (shared_state.KEPT, explorer_state.KEPT, playground_state.KEPT, train_state.KEPT,
                              models_state.KEPT, evaluate_state.KEPT, predict_state.KEPT, own_classes_state.KEPT,
                              classroom_state.KEPT)


def init_state() -> None:
    """Keeps every page's cross-page values alive and sets missing defaults. Call once per run.

    Streamlit forgets a widget's value when the page that shows it is not rendered in a run, so
    values that must survive a visit to another page are kept (`ui.persist.keep`) on every run.
    """
    keep_all(KEPT)
    if projector_mode():  # the wall's page: no workspace is made, and no key goes into its address
        shared_state.init_shared_state()
        st.query_params.pop("ws", None)
        return
    ensure_workspace()
    if st.session_state.get(shared_state.RESTORED) != st.session_state[shared_state.OWNER]:
        # A new session on a workspace (a reload, another device) or another key opened in this tab: the model
        # and settings as the workspace's student left them.
        st.session_state[shared_state.RESTORED] = st.session_state[shared_state.OWNER]
        saved = current_workspace().settings
        if not str(saved.get(shared_state.DATASET, "")).startswith("folder:"):  # an upload lives in its session
            restore(saved)
        st.session_state[shared_state.SAVED] = saved
    shared_state.init_shared_state()
    explorer_state.init_explorer_state()
    playground_state.init_playground_state()


REMEMBERED: tuple[KeptKeys, ...] = (shared_state.REMEMBERED, train_state.REMEMBERED)


def remember() -> None:
    """Writes the workspace's model and settings to its record when this run changed them (one small write)."""
    if projector_mode() or shared_state.OWNER not in st.session_state:
        return
    values = snapshot([key for owner in REMEMBERED for key in owner.keys],
                      tuple(prefix for owner in REMEMBERED for prefix in owner.prefixes))
    if values != st.session_state.get(shared_state.SAVED) and \
            remember_settings(st.session_state[shared_state.OWNER], values, STORE_ROOT):
        st.session_state[shared_state.SAVED] = values


# Set by `route` while the router runs the page, in the script thread that runs it.
_routing = threading.local()


def route() -> None:
    """Runs the page `st.navigation` picks, marked as routed; the router's last line."""
    _routing.active = True
    try:
        st.navigation(streamlit_pages(), position="hidden" if projector_mode() else "sidebar").run()
    finally:
        _routing.active = False
    remember()  # after a run that ended normally (a rerun or stop leaves it to the next run)


def require_router() -> None:
    """Makes sure this page runs through `streamlit_app.py`; call it first in every page.

    Streamlit decides once per server process, at the first session, whether an app uses the
    legacy `pages/` folder. Until some session's router has called `st.navigation`, every session
    runs its page script alone: no page config, no session-state defaults, and a menu built from
    file names. When a class opens deep links at the same instant, several sessions are in that
    state together, and a process-wide flag cannot tell them apart: the first one to reset it
    hides the problem from the others. So the test is per run: did `route` start this run? If
    not, the legacy decision is cleared and the run starts again, through the router.
    """
    from streamlit.runtime.pages_manager import PagesManager  # internal, checked by tests/browser
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    main_script = Path(ctx.pages_manager.main_script_path).name if ctx is not None else ""
    routed = getattr(_routing, "active", False)
    if not routed and main_script == ROUTER:
        PagesManager.uses_pages_directory = False
        st.rerun()
    # Run by the router, the state is set already; run alone (`streamlit run pages/x.py`, or a
    # test of one page), the page sets the state it reads itself.
    if not routed:
        init_state()
