"""The My classes page's pieces: the new-set form, the three ways to add examples, the grids and the set's tools."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import streamlit as st
from PIL import Image

from core.data import own_classes
from core.data.image_folder import ImageFolderError
from core.data.images import ImageDecodeError, decode_image
from core.data.unpacking import budget_for, read_upload
from core.predict.preprocessing import canvas_grey
from core.store.hosting import store_full
from core.store.runs import STORE_ROOT
from ui import canvas, guard, hosting
from ui.dataset_picker import HOSTED_READ_SECONDS, LOCAL_READ_SECONDS, upload_limits
from ui.own_classes import state
from ui.state import DATASET
from ui.text import plain

SHOWN_PER_CLASS = 24  # the newest examples shown in a class's grid; the count says how many there are
MAX_FILES_AT_ONCE = 100  # images added in one upload
TILE = 64  # pixels of an example's tile in the grid


def max_examples() -> int:
    """The most examples one set may hold: fewer on a shared server."""
    return 1_000 if hosting.limits().hosted else own_classes.DEFAULT_MAX_EXAMPLES


def pressed(label: str, key: str, **options) -> None:
    """A button whose press is kept in `<key>_pressed` by its callback until the page reads it.

    A plain button's True lasts one run, and is lost if that run restarts before reaching the button (the
    router's rerun, seen under AppTest): a press that adds an example must not be lost.
    """
    st.button(label, key=key, on_click=st.session_state.__setitem__, args=(f"{key}_pressed", True), **options)


def say(kind: str, text: str) -> None:
    """Keeps an action's outcome for the next run (callbacks run before the page is drawn)."""
    st.session_state[state.MESSAGE] = (kind, text)


def message() -> None:
    """The last action's outcome, once."""
    kind, text = st.session_state.pop(state.MESSAGE, (None, ""))
    if kind == "error":
        st.error(text, icon=":material/block:")
    elif kind == "warning":
        st.warning(text, icon=":material/warning:")
    elif kind == "success":
        st.success(text, icon=":material/check_circle:")


def _store_full() -> str | None:
    if store_full(hosting.limits(), STORE_ROOT) is None:
        return None
    return "This server's disk for visitors' work is full. Examples expire with their workspace; try later."


def _add(class_set: own_classes.ClassSet, class_index: int, images: np.ndarray, what: str) -> bool:
    """Adds prepared examples and says so; False with a message when they could not be added."""
    if problem := _store_full():
        say("error", problem)
        return False
    try:
        own_classes.add_examples(class_set.set_id, hosting.owner(), class_index, images, STORE_ROOT, max_examples())
    except own_classes.ClassSetError as error:
        say("error", f"Not added: {plain(error)}")
        return False
    except OSError as error:
        say("error", f"Not added: the server could not write the file ({plain(error.strerror or error)}).")
        return False
    say("success", f"Added {what} to “{plain(class_set.names[class_index])}”.")
    return True


def create_form() -> None:
    """Name the classes, pick the size and colour, create the set; or start from a zip of class folders."""
    st.text_area("Your classes, one name per line (2 to 10)", "circle\ntriangle\nstar", key=state.NAMES,
                 height=140, max_chars=own_classes.MAX_CLASSES * (own_classes.MAX_NAME_LENGTH + 1) + 20,
                 help="For example circle, triangle, star; or thumbs up, fist, open hand.")
    left, right = st.columns(2)
    left.radio("Image size", list(own_classes.SIDES), key=state.SIDE, horizontal=True,
               format_func=lambda side: f"{side}×{side}",
               help="Photos are cropped to a square and shrunk to this size; 32 trains fastest.")
    right.radio("Colour", ["grey", "RGB"], key=state.COLOUR, horizontal=True,
                help="Grey suits drawings; colour suits photos where colour tells the classes apart.")
    st.button("Create my classes", type="primary", key=state.CREATE, on_click=_create)


def _create() -> None:
    names = str(st.session_state.get(state.NAMES, "")).splitlines()
    mode = "rgb" if st.session_state.get(state.COLOUR) == "RGB" else "grayscale"
    try:
        own_classes.create_set(hosting.owner(), names, int(st.session_state.get(state.SIDE, 32)), mode, STORE_ROOT)
    except own_classes.ClassSetError as error:
        say("error", plain(error))
        return
    st.session_state[state.CLASS] = 0


def readiness(class_set: own_classes.ClassSet) -> None:
    """What the set still needs, or that it is ready, with the way to Train."""
    problem = own_classes.readiness(class_set)
    if problem:
        st.info(plain(problem) + " Then train it on **Train**: about 20 per class are enough, thanks to "
                "augmentation (below).", icon=":material/checklist:")
        return
    st.success(f"Ready to train: {class_set.total:,} examples in {len(class_set.names)} classes.",
               icon=":material/check_circle:")
    pressed("Train on my classes", "own_go_train", type="primary", icon=":material/model_training:")
    if st.session_state.pop("own_go_train_pressed", False):
        st.session_state[DATASET] = class_set.key
        st.switch_page("pages/train.py")


def pick_class(class_set: own_classes.ClassSet) -> int:
    """Which class new examples go to."""
    indices = list(range(len(class_set.names)))
    if st.session_state.get(state.CLASS) not in indices:
        st.session_state[state.CLASS] = 0
    counts = class_set.counts
    return st.radio("Add examples to", indices, key=state.CLASS, horizontal=True,
                    format_func=lambda index: f"{plain(class_set.names[index])} ({counts[index]})")


def draw_way(class_set: own_classes.ClassSet, class_index: int) -> None:
    """The canvas (Predict's pen), and a button that adds the drawing and clears the canvas for the next one."""
    controls, board = st.columns([1, 2])
    with controls:
        width = st.slider("Stroke width", 6, 40, 18, key=state.STROKE)
        canvas.buttons(state.CANVAS_KEYS)
        st.caption(f"Draw one example, then add it: the canvas clears for the next. Undo, or {canvas.UNDO_SHORTCUT}, "
                   "takes back the last stroke. Drawn examples are prepared as Predict prepares a drawing: cropped "
                   "to the ink and centred.")
        pressed(f"Add to “{plain(class_set.names[class_index])}”", state.ADD_DRAWING, type="primary",
                icon=":material/add:")
        added = st.session_state.pop(f"{state.ADD_DRAWING}_pressed", False)
    with board:
        rgba = canvas.drawing(width, state.CANVAS_KEYS, "one example of the class chosen above")
    if not added:
        return
    if rgba is None:
        st.warning("The canvas is empty: draw something first.", icon=":material/draw:")
        return
    prepared = own_classes.prepare_drawing_example(canvas_grey(rgba), class_set.side, class_set.mode)
    if prepared is None:
        st.warning("There is almost no ink on the canvas: draw something larger.", icon=":material/draw:")
        return
    if _add(class_set, class_index, prepared[None], "a drawing"):
        canvas.clear(state.CANVAS_KEYS)
        st.rerun()


def camera_way(class_set: own_classes.ClassSet, class_index: int) -> None:
    """The camera: each photo is added as it is taken, and the camera comes back for the next one."""
    st.caption("Each photo is added to the class as soon as you take it; the camera is ready again at once, so you "
               "can take many in a row (move or turn the object a little between them). Photos are cropped to the "
               "middle square. If the browser asks, allow the camera; if it is blocked, allow it from the address "
               "bar, or use Upload.")
    count = st.session_state.get(state.CAMERA_COUNT, 0)
    photo = st.columns([3, 2])[0].camera_input(f"Take a photo for “{plain(class_set.names[class_index])}”",
                                               key=f"{state.CAMERA}{count}")
    data = st.session_state.pop(state.INJECTED_PHOTO, None) or (photo.getvalue() if photo is not None else None)
    if data is None:
        return
    try:
        image = decode_image(data, "rgb", max_pixels=hosting.limits().image_pixels, name="camera photo")
        prepared = own_classes.prepare_photo(image, class_set.side, class_set.mode)
    except (ImageDecodeError, own_classes.ClassSetError) as error:
        st.error(plain(error), icon=":material/error:")
        return
    if _add(class_set, class_index, prepared[None], "a photo"):
        st.session_state[state.CAMERA_COUNT] = count + 1  # a new widget: the camera, live again
        st.rerun()


def upload_way(class_set: own_classes.ClassSet, class_index: int) -> None:
    """Images from the device, several at once, each cropped to its middle square."""
    count = st.session_state.get(state.FILES_COUNT, 0)
    files = st.file_uploader(f"Images for “{plain(class_set.names[class_index])}” (PNG, JPEG, WebP…)",
                             type=["png", "jpg", "jpeg", "webp", "bmp", "gif"], accept_multiple_files=True,
                             key=f"{state.FILES}{count}", max_upload_size=hosting.upload_limit())
    if not files:
        return
    pressed(f"Add {len(files)} image{'s' if len(files) != 1 else ''}", state.ADD_FILES, type="primary")
    if not st.session_state.pop(f"{state.ADD_FILES}_pressed", False):
        return
    if len(files) > MAX_FILES_AT_ONCE:
        st.error(f"Add at most {MAX_FILES_AT_ONCE} images at once; you chose {len(files):,}.", icon=":material/block:")
        return
    if too_many := guard.refused("upload"):
        st.error(plain(too_many), icon=":material/block:")
        return
    prepared, problems = [], []
    for file in files:
        data = file.getvalue()
        try:
            if too_big := hosting.upload_too_big(data):
                raise own_classes.ClassSetError(too_big)
            image = decode_image(data, "rgb", max_pixels=hosting.limits().image_pixels, name=file.name)
            prepared.append(own_classes.prepare_photo(image, class_set.side, class_set.mode))
        except (ImageDecodeError, own_classes.ClassSetError) as error:
            problems.append(f"{file.name}: {error}")
    left_out = (plain(f"{len(problems)} file{'s' if len(problems) != 1 else ''} left out. {problems[0]}")
                if problems else "")
    if not prepared:
        st.warning(left_out, icon=":material/warning:")
        return
    if _add(class_set, class_index, np.stack(prepared), f"{len(prepared)} image{'s' if len(prepared) != 1 else ''}"):
        if left_out:  # said with the success, after the rerun that empties the uploader
            say("warning", f"{st.session_state[state.MESSAGE][1]} {left_out}")
        st.session_state[state.FILES_COUNT] = count + 1  # an empty uploader for the next batch
        st.rerun()


def _delete_example(set_id: str, example_id: str) -> None:
    try:
        own_classes.delete_example(set_id, hosting.owner(), example_id, STORE_ROOT)
    except own_classes.ClassSetError as error:
        say("error", plain(error))


@st.cache_resource(show_spinner=False, max_entries=64)
def examples(set_id: str, version: int, root: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """A set's examples, read once per change (its version) and shared read-only: the page reruns on every stroke
    on the canvas, and a set may hold 2,000 PNGs."""
    class_set = own_classes.read_set(set_id, Path(root))
    if class_set is None:
        return np.zeros((0, 1, 1, 1), dtype=np.uint8), np.zeros(0, dtype=np.int64), []
    images, labels, ids = own_classes.load_examples(class_set, Path(root))
    images.flags.writeable = labels.flags.writeable = False
    return images, labels, ids


@st.cache_data(show_spinner=False, max_entries=8)
def _zip(set_id: str, version: int, root: str) -> bytes:
    """The set's zip, made once per change of the set rather than on every rerun of the page."""
    class_set = own_classes.read_set(set_id, Path(root))
    return own_classes.export_zip(class_set, Path(root)) if class_set is not None else b""


def _tile(image: np.ndarray) -> np.ndarray:
    """An example enlarged to the grid's tile, pixels kept square."""
    return np.asarray(Image.fromarray(image[:, :, 0] if image.shape[2] == 1 else image).resize(
        (TILE, TILE), Image.Resampling.NEAREST))


def grids(class_set: own_classes.ClassSet, editable: bool) -> None:
    """Each class's examples, newest first, with a count and (for the owner) a delete button under each."""
    images, labels, ids = examples(class_set.set_id, class_set.version, str(STORE_ROOT))
    for label, name in enumerate(class_set.names):
        count = class_set.counts[label]
        st.subheader(plain(f"{name} · {count} example{'s' if count != 1 else ''}"))
        chosen = np.flatnonzero(labels == label)[::-1][:SHOWN_PER_CLASS]
        if not len(chosen):
            st.caption("No examples yet.")
            continue
        if count > len(chosen):
            st.caption(f"The {len(chosen)} newest are shown.")
        row = st.container(horizontal=True, gap="small")
        for position, at in enumerate(chosen, start=1):
            cell = row.container(width=TILE + 8, gap="small")
            cell.image(_tile(images[at]), width=TILE, output_format="PNG",
                       alt=f"example {position} of {name}, newest first")
            if editable:  # numbered, so that each button has its own name ("Delete 3" under the 3rd newest)
                cell.button(f"Delete {position}", key=f"own_delete_{ids[at]}", on_click=_delete_example,
                            args=(class_set.set_id, ids[at]), type="tertiary",
                            help=f"Delete example {position} of “{plain(name)}” (newest first)")


def augmentation_preview(class_set: own_classes.ClassSet) -> None:
    """The newest example through the suggested model's own augmentation layers: why 20 examples can be enough."""
    if not st.toggle("Show why 20 examples can be enough (augmentation)", key=state.AUGMENT):
        return
    images, _, _ = examples(class_set.set_id, class_set.version, str(STORE_ROOT))
    if not len(images):
        st.caption("Add an example first.")
        return
    from core.data.augmentation import AugmentationSettings, augment_variants
    from ui.keras_loader import import_keras

    import_keras()  # TensorFlow once per server, frozen out of the collector
    settings = AugmentationSettings(rotation=0.06, zoom=0.15, translation=0.1)  # the own_classes preset's layers
    variants = augment_variants(images[-1], settings, count=8, seed=int(class_set.version))
    st.caption("Each time the network sees an example while training, it is turned, zoomed and shifted a little "
               "at random (Keras' RandomRotation, RandomZoom and RandomTranslation, the first layers of the "
               "suggested model). So 20 examples become thousands of slightly different ones:")
    st.image([_tile(images[-1]), *(_tile(variant) for variant in variants)], width=TILE,
             caption=["yours", *(f"variant {i}" for i in range(1, 9))],
             alt=["your newest example", *(f"augmented variant {i} of it" for i in range(1, 9))])


def download_zip(class_set: own_classes.ClassSet) -> None:
    """The set as a zip of class folders, the form the dataset upload (and this page) accepts."""
    st.download_button("Download as a zip of class folders", _zip(class_set.set_id, class_set.version, str(STORE_ROOT)),
                       file_name="my-classes.zip", mime="application/zip", icon=":material/download:",
                       key="own_download", disabled=not class_set.total)


def zip_form() -> None:
    """Start a set from a zip of class folders (one this page made, or any the dataset upload accepts)."""
    count = st.session_state.get(state.ZIP_COUNT, 0)
    uploaded = st.file_uploader("A zip of class folders (circle/…, star/…)", type=["zip"], key=f"{state.ZIP}{count}",
                                max_upload_size=hosting.upload_limit())
    if uploaded is None:
        return
    pressed("Make my classes from this zip", "own_zip_go")
    if not st.session_state.pop("own_zip_go_pressed", False):
        return
    data = uploaded.getvalue()
    if too_big := hosting.upload_too_big(data):
        st.error(plain(too_big), icon=":material/block:")
        return
    if too_many := guard.refused("upload"):
        st.error(plain(too_many), icon=":material/block:")
        return
    side = int(st.session_state.get(state.SIDE, 32))
    mode = "rgb" if st.session_state.get(state.COLOUR) == "RGB" else "grayscale"
    limits = upload_limits()
    limits = replace(limits, max_files=min(limits.max_files, max_examples()))
    budget = budget_for(limits, (side, side), 3 if mode == "rgb" else 1,
                        HOSTED_READ_SECONDS if hosting.limits().hosted else LOCAL_READ_SECONDS)
    with st.spinner("Reading your zip…"):
        try:
            content = read_upload(data, (side, side), mode, 0.2, 0, limits, budget)
            images = np.concatenate([content.x_train, content.x_test])
            labels = np.concatenate([content.y_train, content.y_test])
            own_classes.import_folders(hosting.owner(), content.class_names, images, labels, side, mode, STORE_ROOT,
                                       max_examples())
        except (ImageFolderError, own_classes.ClassSetError) as error:
            text = str(error)
            st.error(plain(text[:1].upper() + text[1:]), icon=":material/block:")
            return
    st.session_state[state.ZIP_COUNT] = count + 1
    say("success", f"Made your classes from the zip: {len(images):,} examples.")
    st.rerun()


def _rename(class_set: own_classes.ClassSet) -> None:
    names = str(st.session_state.get(state.RENAME, "")).splitlines()
    try:
        own_classes.rename_classes(class_set.set_id, hosting.owner(), names, STORE_ROOT)
    except own_classes.ClassSetError as error:
        say("error", plain(error))
        return
    say("success", "Renamed.")


def _delete_set(set_id: str) -> None:
    try:
        own_classes.delete_set(set_id, hosting.owner(), STORE_ROOT)
    except own_classes.ClassSetError as error:
        say("error", plain(error))
        return
    say("success", "Your classes and their examples are deleted. Runs trained on them keep their models.")


def _share(set_id: str, class_id: str) -> None:
    shared = bool(st.session_state.get(state.SHARE))
    try:
        own_classes.share_with_class(set_id, hosting.owner(), class_id if shared else "", STORE_ROOT)
    except own_classes.ClassSetError as error:
        say("error", plain(error))


def tools(class_set: own_classes.ClassSet, teaches: str, class_name: str) -> None:
    """Rename, share with the class one teaches, download, and delete the set."""
    with st.expander("Rename the classes", icon=":material/edit:"):
        st.session_state.setdefault(state.RENAME, "\n".join(class_set.names))
        st.text_area("One name per line, in the same order", key=state.RENAME, height=140)
        st.button("Rename", key="own_rename_go", on_click=_rename, args=(class_set,))
    if teaches:
        st.session_state[state.SHARE] = class_set.shared_class == teaches
        st.toggle(f"Share with my class “{plain(class_name)}”", key=state.SHARE, on_change=_share,
                  args=(class_set.set_id, teaches),
                  help="Every student then sees these classes in their dataset picker and trains on the same "
                       "examples, so the leaderboard compares like with like. They cannot change them.")
    download_zip(class_set)
    if st.toggle("Delete my classes…", key=state.CONFIRM_DELETE):
        st.button("Delete them and every example for good", type="primary", key=state.DELETE_SET,
                  on_click=_delete_set, args=(class_set.set_id,))
