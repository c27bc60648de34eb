"""The Train page's session-state keys, and the ones it keeps across page changes."""

from __future__ import annotations

from ui.persist import KeptKeys

# The model
SPEC = "train_spec"  # list of layer dicts: the model being built
SPEC_IDS = "train_spec_ids"  # a stable id per layer, so its widgets keep their keys when layers move
PRESET = "train_preset"  # the preset the spec was loaded from ("custom" once edited)
ADD_KIND = "train_add_kind"  # the layer type the "Add" button appends
LAYER = "layer_"  # prefix of every layer widget: layer_<id>_<setting>

# The settings
SETTING = "hp_"  # prefix of every hyperparameter and callback widget: hp_<name>
SETTINGS_FOR = "train_settings_for"  # the dataset whose recommended settings the page last took
LAST_CONFIG = "train_last_config"  # the TrainConfig the page built on its last run (what Start would train)
TAKE_RECOMMENDED = "train_take_recommended"  # the button that puts the recommendation back
LESSON_BUTTON = "train_lesson_settings_"  # prefix: "Lesson settings", one per place it is shown
TUNED_BUTTON = "train_tuned_settings_"  # prefix: "Tuned settings", likewise
RUN_NAME = "train_run_name"

# The job
START = "train_start"
JOB_ID = "train_job_id"  # this session's current (or last) job
START_ERROR = "train_start_error"  # why the last Start did not start, shown once
EVENTS = "train_job_events"  # job id → (attempt, events offset, ProgressView)
CHARTS = "train_job_charts"  # job id → ((attempt, events offset), (loss figure, accuracy figure))
LAST_SEEN = "train_job_last_seen"  # job id → (JobStatus, when): what the panel shows while the queue is away
PACE = "train_live_pace"  # the live panel's poll interval (ui.polling.Pace)

KEPT = KeptKeys("ui.train.state", keys=(PRESET, ADD_KIND, RUN_NAME), prefixes=(SETTING, LAYER))
# What the workspace keeps on disk: the model and settings as the student left them, for a reload or another device.
REMEMBERED = KeptKeys("ui.train.state", keys=(SPEC, SPEC_IDS, PRESET, ADD_KIND, RUN_NAME, SETTINGS_FOR),
                      prefixes=(SETTING, LAYER))


def stop_key(job_id: str) -> str:
    """The Stop button of a training run."""
    return f"stop_{job_id}"


def cancel_key(job_id: str) -> str:
    """The Cancel button of a waiting run."""
    return f"cancel_{job_id}"


def layer_key(uid: str, name: str) -> str:
    """The key of one layer's widget for one of its settings."""
    return f"{LAYER}{uid}_{name}"
