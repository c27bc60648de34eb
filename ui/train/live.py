"""The live view of a training run: a fragment that asks the training queue about it twice a second.

The page never imports TensorFlow; a worker trains. Each poll reads only the progress events sent
since the last one (kept per job in session state), so a long run costs no more to watch at the
end than at the start, and the charts are rebuilt only when new events came (cached per job,
attempt and event count). The interval stretches when the server is busy (`ui.polling`). A waiting
run shows its place in line and its ETA instead. While the scale-out queue cannot be reached, the
panel shows the run as last seen, saying so and since when.
"""

from __future__ import annotations

import time

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.classroom.control import record_blocked, start_refusal
from core.data.datasets import Dataset, dataset_name
from core.evaluate.descriptions import curves_summary
from core.jobs.eta import wait_line
from core.jobs.jobs import (
    JobError,
    JobLimitError,
    JobStatus,
    QueueUnavailable,
)
from core.jobs.queue import training_queue
from core.store.workspaces import record_job
from core.train.config import TrainConfig
from core.train.progress import ProgressView, fold, format_duration, status_line
from ui import guard, palette
from ui.chart_text import epoch_table, text_alternative
from ui.polling import live_fragment
from ui.runs import open_links
from ui.tables import metrics_dataframe
from ui.text import plain
from ui.train.state import CHARTS, EVENTS, JOB_ID, LAST_SEEN, PACE, START_ERROR, cancel_key, stop_key
from ui.workspace import current_workspace

POLL_SECONDS = 0.5
WAIT_POLL_SECONDS = 2.0  # a waiting run changes only its place in line: each poll costs the browser as much as
# the server (about 0.1 s of a desktop core in Chromium here, against 9 ms on the server), so look less often
MAX_POINTS = 300  # per-batch points drawn per curve: a long run's chart costs the browser what a short one's does


def thinned(points: list, most: int = MAX_POINTS) -> list:
    """At most `most` of the points, evenly spread, the last one always kept (it is where the run is now)."""
    if len(points) <= most:
        return points
    step = len(points) / (most - 1)
    return [points[int(index * step)] for index in range(most - 1)] + [points[-1]]


def poll(job_id: str, attempt: int = 0) -> tuple[ProgressView, int]:
    """Folds the job's new progress lines into its cached view; returns it and how many bytes or lines of
    events it holds (what the charts are cached by). A new attempt (a retry) starts the view afresh."""
    cache = st.session_state.setdefault(EVENTS, {})
    seen_attempt, offset, view = cache.get(job_id, (attempt, 0, ProgressView()))
    if seen_attempt != attempt:
        offset, view = 0, ProgressView()
    events, offset = training_queue().events(job_id, offset)
    cache[job_id] = (attempt, offset, fold(view, events))
    return view, offset


def charts(job_id: str, attempt: int, offset: int, view: ProgressView) -> tuple[go.Figure, go.Figure]:
    """The loss and accuracy figures, built again only when new events came since the last poll."""
    cache = st.session_state.setdefault(CHARTS, {})
    stamp, figures = cache.get(job_id, (None, None))
    if stamp != (attempt, offset) or figures is None:
        figures = (curves_figure(view, "loss"), curves_figure(view, "accuracy"))
        cache.clear()  # one run's charts at a time per session
        cache[job_id] = ((attempt, offset), figures)
    return figures


def curves_figure(view: ProgressView, metric: str) -> go.Figure:
    """Train (per batch, and per epoch) and validation (per epoch) curves of one metric."""
    figure = go.Figure()
    index = 1 if metric == "loss" else 2
    points = thinned([(point[0], point[index]) for point in view.batch_points if point[index] is not None])
    if points:
        x, y = zip(*points, strict=True)
        figure.add_scatter(x=x, y=y, mode="lines", name="train, per batch", line={"color": palette.CURVES["train"],
                           "width": 1}, opacity=0.45)
    for split, key in (("train", metric), ("validation", f"val_{metric}")):
        rows = [row for row in view.epoch_rows if row.get(key) is not None]
        if rows:
            # An epoch Stop broke off sits where it stopped, hollow: its numbers cover only the batches it trained.
            figure.add_scatter(
                x=[row.get("x", row["epoch"]) for row in rows], y=[row[key] for row in rows], mode="lines+markers",
                name=f"{split}, per epoch", line={"color": palette.CURVES[split], "width": 2.5},
                marker={"symbol": ["circle-open" if row.get("partial") else "circle" for row in rows], "size": 8},
                text=[f"epoch {row['epoch']}" + (f", stopped after batch {row.get('steps')} of "
                                                  f"{view.steps_per_epoch}" if row.get("partial") else "")
                      for row in rows],
                hovertemplate="%{text}: %{y:.4~g}<extra>" + split + "</extra>")
    upper = max(view.epochs, 1)
    figure.update_layout(title=metric.capitalize(), height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                         legend={"orientation": "h", "y": -0.25}, uirevision=metric)
    figure.update_xaxes(title="epoch", range=[0, upper + 0.05])
    # Fixed where the values must lie: an empty chart otherwise gets plotly's default axes (−100% to 400%).
    if metric == "accuracy":
        figure.update_yaxes(tickformat=".0%", range=[0, 1.02])
    elif not figure.data:
        figure.update_yaxes(range=[0, 1])
    else:
        figure.update_yaxes(rangemode="tozero")
    return figure


def metrics_table(metrics: dict[str, dict[str, float]]) -> pd.DataFrame:
    """Train (sample) vs validation vs test: the lesson's table of where the model generalises."""
    rows = []
    for split, values in metrics.items():
        rows.append({"split": split, "images": values.get("images"), "loss": values.get("loss"),
                     "accuracy": values.get("accuracy"), "precision": values.get("precision"),
                     "recall": values.get("recall")})
    return pd.DataFrame(rows)


def _refuse(owner: str, reason: str) -> None:
    st.session_state[START_ERROR] = reason
    record_blocked(owner, reason)  # a student's teacher sees who is blocked, and by what


def start(config: TrainConfig, owner: str, dataset: Dataset) -> None:
    """The Start button's callback: puts the run in the queue, or records why it cannot join it."""
    if too_many := guard.refused("start"):
        _refuse(owner, too_many)
        return
    if by_class := start_refusal(current_workspace(), config, len(dataset.x_train)):  # paused, or a class cap
        _refuse(owner, by_class)
        return
    try:
        st.session_state[JOB_ID] = training_queue().submit(config, owner, dataset=dataset, client=guard.client())
    except (JobLimitError, JobError, ValueError) as error:
        _refuse(owner, str(error))
        return
    record_job(owner, st.session_state[JOB_ID])  # what the workspace's teacher sees live on the Class page


def workspace_job(active: list[JobStatus], owner: str, last_job: str = "") -> str | None:
    """What a reload, a second tab or another device shows: the workspace's run waiting or training, else its
    latest run (`last_job`, finished or failed meanwhile) while the queue still knows it."""
    live = next((job.job_id for job in sorted(active, key=lambda job: job.created) if job.owner == owner), None)
    if live or not last_job:
        return live
    try:
        return last_job if training_queue().status(last_job).owner == owner else None
    except JobError:  # pruned, or the queue is unreachable
        return None


def elsewhere_note(active: list[JobStatus], owner: str, hosted: bool) -> None:
    """Says that a run outlives the page; on one's own machine, also which other workspaces' runs are training.

    A run belongs to the workspace, not the tab: any tab with the private link shows it live.
    """
    others = [] if hosted else [job for job in active if job.owner != owner]  # hosted: others' runs stay private
    if others:
        names = ", ".join(f"“{job.name or job.job_id}”" for job in others[:3])
        more = f" and {len(others) - 3} more" if len(others) > 3 else ""
        st.info(f"{len(others)} run{'s' if len(others) > 1 else ''} from another workspace (another browser, or "
                f"a link without your key) {'are' if len(others) > 1 else 'is'} training: "
                f"{plain(names)}{more}. It appears in **Models** and **Evaluate** when it ends.",
                icon=":material/directions_run:")
    else:
        st.caption("A run keeps training if you leave this page, reload it, or close the tab: open your private "
                   "link again to watch it. It is saved in **Models** when it ends.")


def _stop(job_id: str, owner: str) -> None:
    """Stop (while it trains) and Cancel (while it waits) in one callback: the queue knows which applies."""
    try:
        outcome = training_queue().cancel(job_id, owner)
    except JobError as error:
        st.toast(str(error))
        return
    if outcome == "stopping":
        st.toast("Stopping after the current batch; the model so far is kept and saved.")
    elif outcome == "cancelled":
        st.toast("Cancelled: your run left the queue.")


def phase(status: JobStatus) -> str:
    """"waiting", "training" or "ended": what the rest of the page says about the run (its note, Start)."""
    return "waiting" if status.queued else "training" if status.active else "ended"


def _render(job_id: str, owner: str, drawn: str) -> float | None:
    """Draws the run as it is now; returns the poll interval it needs (`ui.polling.live_fragment`).

    `drawn` is the run's phase when the whole page was last drawn: when it changes, the page is drawn again,
    since only this panel reruns on its timer and the note under Start would still say "waiting in line".
    """
    stale = ""
    try:
        status = training_queue().status(job_id)
        view, offset = poll(job_id, status.attempt)
        st.session_state.setdefault(LAST_SEEN, {})[job_id] = (status, time.time())
    except QueueUnavailable as error:
        last = st.session_state.get(LAST_SEEN, {}).get(job_id)
        if last is None:
            st.error(plain(error), icon=":material/cloud_off:")
            return
        status, seen = last
        _, offset, view = st.session_state[EVENTS][job_id]
        stale = time.strftime("%H:%M:%S", time.localtime(seen))
    except JobError:
        st.warning("This run's job folder is gone (cleaned up). Its model, if saved, is in the store.")
        return
    if phase(status) != drawn:
        st.rerun(scope="app")  # the note and Start follow; once ended, the panel is drawn without its timer
    if stale:
        st.warning(f"The job queue cannot be reached right now, so this is the run as it was at {stale} (stale). "
                   "A run keeps training meanwhile; its progress and result arrive when the queue is back.",
                   icon=":material/cloud_off:")
    head, stop = st.columns([5, 1], vertical_alignment="center")
    head.markdown(f"**{plain(status.name or 'Training run')}** · {plain(dataset_name(status.dataset))} · "
                  f"_{status.state}_")
    if status.queued:
        stop.button("Cancel", key=cancel_key(job_id), icon=":material/cancel:", on_click=_stop, args=(job_id, owner),
                    width="stretch", disabled=bool(stale))
        try:
            wait = None if stale else training_queue().wait(job_id)
        except JobError:  # the queue went away between two calls: the next poll says so
            wait = None
        st.info(f"Waiting: {wait_line(wait)}. Every Start is taken in turn; you can leave this page meanwhile."
                if wait else "Waiting for a worker…", icon=":material/hourglass_top:")
        if status.message:  # put back in line after its worker was lost: why
            st.caption(plain(status.message))
        return WAIT_POLL_SECONDS
    if status.active:
        stop.button("Stop", key=stop_key(job_id), icon=":material/stop_circle:", type="primary",
                    on_click=_stop, args=(job_id, owner), width="stretch",
                    disabled=status.state != "running" or bool(stale))
        if status.message:  # a second attempt says why
            st.caption(plain(status.message))
    if status.state == "cancelled":
        st.info(plain(status.message or "Cancelled before it started."), icon=":material/cancel:")
        return
    # Full only for a run that trained to its end: one stopped at batch 200 of 422 stays where it stopped.
    st.progress(1.0 if status.state == "finished" else view.fraction, text=status_line(view))
    loss, accuracy = charts(job_id, status.attempt, offset, view)
    left, right = st.columns(2)
    left.plotly_chart(loss, key=f"loss_{job_id}", width="stretch")
    right.plotly_chart(accuracy, key=f"accuracy_{job_id}", width="stretch")
    if view.epoch_rows:  # text for the two charts; nothing to say before the first epoch ends
        text_alternative(f"{curves_summary(view.epoch_rows, 'loss')} {curves_summary(view.epoch_rows, 'accuracy')}",
                         epoch_table(view.epoch_rows), "The curves, epoch by epoch")
    _outcome(status, view)
    return POLL_SECONDS


def _outcome(status: JobStatus, view: ProgressView) -> None:
    if status.state == "failed":
        st.error(plain(status.message) if status.message else "Training failed.", icon=":material/error:")
    elif not status.active and view.end:
        stopped = status.state == "stopped"
        note = f" {plain(status.message)}" if status.message else ""
        (st.warning if stopped else st.success)(
            f"Run **{status.run_id}** {'stopped by you' if stopped else 'finished'} after "
            f"{format_duration(view.elapsed)} of training and is saved in the store.{note}",
            icon=":material/save:")
        open_links(str(status.run_id), f"train_{status.job_id}")
        st.markdown("**Train vs validation vs test.** A train score far above test means the model "
                    "memorised its training images (overfitting); close scores mean it generalises. "
                    "Train is measured on up to 10,000 training images after training, with dropout off.")
        metrics_dataframe(metrics_table(view.end.get("metrics", {})), hide_index=True, width="stretch")
    elif status.active and view.epoch_rows:
        last = view.epoch_rows[-1]
        st.caption(f"Last epoch: loss {last.get('loss', 0):.4f}, accuracy {last.get('accuracy', 0):.2%}"
                   + (f"; validation loss {last['val_loss']:.4f}, accuracy {last['val_accuracy']:.2%}"
                      if last.get("val_loss") is not None else "")
                   + (f"; learning rate {last['learning_rate']:.2g}" if last.get("learning_rate") else ""))


def live_panel(job_id: str, owner: str) -> None:
    """The job's live view; it refreshes itself every POLL_SECONDS while the job is active (longer when the
    server is busy), and keeps polling, on the last state it saw, while the queue cannot be reached."""
    try:
        drawn = phase(training_queue().status(job_id))
    except QueueUnavailable:
        last = st.session_state.get(LAST_SEEN, {}).get(job_id)
        drawn = phase(last[0]) if last is not None else "ended"
    except JobError:
        drawn = "ended"
    live_fragment(_render, PACE, POLL_SECONDS, drawn != "ended", job_id, owner, drawn)
