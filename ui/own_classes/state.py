"""The My classes page's session-state keys, and the ones it keeps across page changes."""

from __future__ import annotations

from ui.canvas import CanvasKeys
from ui.persist import KeptKeys

CLASS = "own_class"  # the class new examples go to (its index)
NAMES = "own_names"  # the new set's class names, one per line
SIDE = "own_side"  # the new set's image side
COLOUR = "own_colour"  # the new set's colour: "grey" or "RGB"
CREATE = "own_create"
MESSAGE = "own_message"  # (kind, text) of the last action, shown once
WAY = "own_way"  # "Draw", "Camera" or "Upload"
STROKE = "own_stroke"
ADD_DRAWING = "own_add_drawing"
CAMERA = "own_camera_"  # prefix: one camera widget per photo taken, so the next photo needs no extra click
CAMERA_COUNT = "own_camera_count"
FILES = "own_files_"  # prefix: the image uploader, renewed after each batch is added
FILES_COUNT = "own_files_count"
ADD_FILES = "own_add_files"
AUGMENT = "own_augment"  # show the augmentation preview
RENAME = "own_rename"
ZIP = "own_zip_"  # prefix: the zip uploader
ZIP_COUNT = "own_zip_count"
SHARE = "own_share"
DELETE_SET = "own_delete_set"
CONFIRM_DELETE = "own_confirm_delete"

INJECTED = "own_injected_drawing"  # tests put an (H, W, 4) drawing here: the canvas does not run under AppTest
INJECTED_PHOTO = "own_injected_photo"  # tests put PNG bytes here: st.camera_input has no camera under AppTest
CANVAS_GENERATION = "own_canvas_generation"
CANVAS = "own_canvas_"
CANVAS_KEYS = CanvasKeys(CANVAS, CANVAS_GENERATION, INJECTED, "own_undo_count", "own_clear", "own_undo")

KEPT = KeptKeys("ui.own_classes.state", keys=(CLASS, WAY, SIDE, COLOUR))
