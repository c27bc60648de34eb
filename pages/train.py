"""Train: build a model, set its hyperparameters, and watch it learn live in a background process."""

import streamlit as st

from core.data.datasets import DatasetNotFoundError
from core.data.idx import IdxFormatError
from core.jobs.jobs import JobError, QueueUnavailable
from core.jobs.queue import training_queue
from core.model.architectures import trainable_parameters
from core.model.cost import flop_text, run_cost
from core.model.layers import spec_to_dicts
from core.model.presets import PRESETS, presets_for, presets_left_out
from core.train.config import ConfigError, TrainConfig, check_config, config_notes
from core.train.recipes import default_run as default_run_for
from ui import hosting, loaders
from ui.dataset_picker import dataset_picker
from ui.navigation import require_router
from ui.text import plain
from ui.train import live as train_live
from ui.train import model_builder, state
from ui.train import settings as train_settings
from ui.train.live import live_panel
from ui.train.state import JOB_ID
from ui.workspace import current_workspace

require_router()

st.title("Train")
st.caption("Pick or build a model, set the sliders, press **Start**. Training runs in its own process on the "
           "server, so you can leave this page (or close the tab) and it carries on; every finished or stopped "
           "run is saved in the **Models** store.")
key = dataset_picker()
try:
    dataset = loaders.get_dataset(key)
except (DatasetNotFoundError, IdxFormatError) as error:
    st.error(plain(loaders.dataset_problem(key, error)), icon=":material/folder_off:")
    st.stop()
owner = hosting.owner()
caps = hosting.limits()
hosting.warm_workers()
default_run = default_run_for(key)
fitting = presets_for(dataset.image_shape, dataset.num_classes)
train_settings.init_settings(key, caps.max_epochs, caps.max_train_images)
model_builder.init_builder(default_run.preset if default_run.preset in fitting else next(iter(fitting)))

try:
    active, unavailable = training_queue().active(), ""
except JobError as error:  # the scale-out queue (Redis) is unreachable: say so, and keep the rest of the page
    active, unavailable = [], str(error)
if not st.session_state.get(JOB_ID) and (found := train_live.workspace_job(active, owner,
                                                                          current_workspace().last_job)):
    st.session_state[JOB_ID] = found  # a reload, a second tab, another device: the workspace's run, live
job_id = st.session_state.get(JOB_ID)
if job_id:
    with st.container(border=True):
        st.header("Live run")
        live_panel(job_id, owner)

model_builder.sync_preset()
switched = st.container()  # filled once the config is known: the offer of the new dataset's recommended settings
model_tab, settings_tab = st.tabs(["1 · Model", "2 · Hyperparameters and callbacks"])
with model_tab:
    choice = st.selectbox(
        "Start from a preset", ["custom", *fitting], key=state.PRESET,
        format_func=lambda name: "your own (edited)" if name == "custom"
        else f"{PRESETS[name].title} · {fitting[name]:,} params" + (" · recommended" if name == default_run.preset
                                                                   else ""),
        on_change=train_settings.apply_preset, args=(key,),
        help="A preset brings its layers and its settings: the tuned ones for the recommended model, the lessons' "
             "(Adam 0.001, batch 64) for the others, so that comparing two lessons compares their architectures.")
    if choice != "custom":
        st.caption(PRESETS[choice].describe(dataset.image_shape, dataset.num_classes))
    left_out = presets_left_out(dataset.image_shape, dataset.num_classes)
    if left_out:
        side = f"{dataset.image_shape[0]}×{dataset.image_shape[1]}"
        reasons = [f"**{PRESETS[k].title}** ({plain(reason.split(':', 1)[0])})" for k, reason in left_out.items()]
        st.caption(f"Not offered for {side} images, because they do not fit: {'; '.join(reasons)}.")
    train_settings.settings_note(key, caps.max_epochs)
    train_settings.settings_buttons(key, "model")
    st.markdown("**Layers** (the input comes first, as 0–255 pixels; the output layer, Dense "
                f"{dataset.num_classes} softmax, is added after the last one)")
    model_builder.layer_rows()
    st.markdown(f"**Summary** for {dataset.image_shape[0]}×{dataset.image_shape[1]}×{dataset.image_shape[2]} "
                "inputs: what Keras' `model.summary()` prints, worked out before anything is built")
    layers = model_builder.model_summary(dataset.image_shape, dataset.num_classes)

with settings_tab:
    train_settings.settings_buttons(key, "settings")
    settings = train_settings.hyperparameters(len(dataset.x_train), caps.max_epochs, caps.max_train_images)
    if settings["loss"] == "categorical":
        train_settings.one_hot_example(dataset.y_train, dataset.class_names)
    st.markdown("**Callbacks**: Keras calls them at the end of each epoch.")
    settings.update(train_settings.callbacks())

st.divider()
name = st.text_input("Run name", value="", placeholder="e.g. two conv blocks, lr 0.001", max_chars=80,
                     key=state.RUN_NAME)
problem, config = None, None
if layers is None:
    problem = "Fix the model first (see the Model tab)."
else:
    model_key = st.session_state[state.PRESET]
    params = trainable_parameters(layers, dataset.image_shape, dataset.num_classes)
    config = TrainConfig(
        dataset=key, spec=spec_to_dicts(layers), model_key=model_key,
        name=name.strip() or f"{model_key} on {loaders.dataset_label(key)}, "
                             f"{settings['epochs']} epoch{'s' if settings['epochs'] != 1 else ''}", **settings)
    try:
        sizes = check_config(config, len(dataset.x_train), caps.max_epochs, caps.max_train_images,
                             image_shape=dataset.image_shape, num_classes=dataset.num_classes,
                             max_parameters=caps.max_parameters, max_run_tflop=caps.max_run_tflop)
        for note in config_notes(config, sizes, dataset.num_classes):
            st.info(note, icon=":material/info:")
        cost = run_cost(layers, dataset.image_shape, dataset.num_classes, sizes.train, sizes.validation,
                        config.epochs)
        st.caption(f"{sizes.train:,} training and {sizes.validation:,} validation images, {sizes.steps_per_epoch:,} "
                   f"batches per epoch, {params:,} trainable parameters, about {flop_text(cost.epoch_flops)} of "
                   f"work per epoch; the test set ({len(dataset.x_test):,} images) is used once, after training.")
    except ConfigError as error:
        problem = str(error)
st.session_state[state.LAST_CONFIG] = config
with switched:
    train_settings.offer_recommended(key, loaders.dataset_label(key), config, caps.max_epochs, caps.max_train_images)
if problem:
    st.error(problem, icon=":material/error:")
if unavailable:
    st.error(plain(unavailable), icon=":material/cloud_off:")
mine = [job for job in active if job.owner == owner]
training = [job for job in mine if job.training]
if len(mine) >= caps.jobs_per_workspace and len(training) == len(mine):
    st.info("Your run is training (above). Stop it or wait for it to finish before starting another.")
elif len(mine) >= caps.jobs_per_workspace:
    st.caption("Your run is waiting in line (above). Start again to replace it with these settings: it keeps its "
               "place.")
st.button("Start training", type="primary", icon=":material/play_arrow:",
          disabled=bool(problem or unavailable or (len(mine) >= caps.jobs_per_workspace
                                                   and len(training) == len(mine))),
          key=state.START, on_click=train_live.start, args=(config, owner, dataset))
if st.session_state.get(state.START_ERROR):
    st.warning(plain(st.session_state.pop(state.START_ERROR)), icon=":material/hourglass:")
try:
    if job_id and not training_queue().status(job_id).active:
        st.caption("Your last run is shown above; **Models** lists every stored run.")
except QueueUnavailable:
    pass  # said above; the run is still the user's when the queue is back
except JobError:
    st.session_state.pop(JOB_ID, None)
if not job_id:
    train_live.elsewhere_note(active, owner, caps.hosted)
