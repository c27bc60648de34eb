"""The app's pages in one place, so the router and the Home page's links never disagree."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st


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


HOME = PageSpec("pages/home.py", "Home", ":material/home:", "Where to start.")
PAGES: tuple[PageSpec, ...] = (
    HOME,
    PageSpec("pages/dataset_explorer.py", "Dataset Explorer", ":material/grid_view:",
             "Look at the images as a network sees them: pixel values, class balance, normalisation, "
             "one-hot labels and augmentation."),
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
)


def streamlit_pages() -> list[st.Page]:
    """Builds the `st.Page` objects for `st.navigation`, Home first and default."""
    return [st.Page(spec.path, title=spec.title, icon=spec.icon, default=spec is HOME) for spec in PAGES]


def require_router() -> None:
    """Makes sure this page runs through `streamlit_app.py`; call it first in every page.

    Streamlit decides once per server process, at the first session, whether an app uses the
    legacy `pages/` folder. If that first request is a deep link (a teacher's shared
    `/dataset_explorer` link just after a restart), it runs the page script alone: no page config,
    no session-state defaults, and a menu built from file names. Clearing that decision and
    rerunning sends the run through the router, which `st.navigation` would have done anyway.
    """
    from streamlit.runtime.pages_manager import PagesManager  # internal, checked by tests/browser

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
