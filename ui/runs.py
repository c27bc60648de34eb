"""Shared by every page that lists stored runs: how a run picker names them, what a link to a run this visitor
cannot open says, and the links that open a run on Evaluate or Predict."""

from __future__ import annotations

import streamlit as st

from core.data.datasets import dataset_name
from core.evaluate import comparison
from core.store.runs import RunRecord, StoreError, load_record
from ui.hosting import viewer
from ui.workspace import link_params


def run_labels(records: list[RunRecord]) -> dict[str, str]:
    """run id → the picker's label. Labels must differ: the browser picks an option by its label."""
    names = comparison.run_labels(records)
    labels = {}
    for record in records:
        accuracy = record.metrics.get("test", {}).get("accuracy")
        score = f"{accuracy:.2%}" if isinstance(accuracy, float) else "no test score"
        origin = "default · " if record.source == "defaults" else ""
        labels[record.run_id] = f"{origin}{names[record.run_id]} · {dataset_name(record.dataset)} · {score}"
    return labels


def missing_run_message(run_id: str) -> str:
    """The store's own words for a run this visitor cannot open (missing, or another visitor's)."""
    try:
        load_record(run_id, viewer=viewer())
    except StoreError as error:
        return str(error)
    return f"There is no run {run_id[:40]!r} in the store."  # listed nowhere for this visitor all the same


def predict_link(run_id: str, test: int | None = None, look: str | None = None) -> dict[str, str]:
    """The query parameters of a link to Predict (`ui.predict.links` reads them): the workspace key, the run, and
    optionally a test image and what to look at ("saliency" or "maps")."""
    extra = {"run": run_id}
    if test is not None:
        extra["test"] = str(int(test))
    if look is not None:
        extra["look"] = look
    return link_params(**extra)


def open_links(run_id: str, key: str, image_model: bool = True) -> None:
    """"Open in Evaluate" and "Open in Predict" for a stored run, as real links (a new tab works too).

    Args:
        key: Tells this pair of links from another on the same page.
        image_model: Whether the run takes images (H, W, C); Predict shows only those.
    """
    with st.container(horizontal=True, gap="small", key=f"open_links_{key}"):
        st.page_link("pages/evaluate.py", label="Open in Evaluate", icon=":material/analytics:",
                     query_params=link_params(run=run_id))
        if image_model:
            st.page_link("pages/predict.py", label="Open in Predict", icon=":material/draw:",
                         query_params=predict_link(run_id))
