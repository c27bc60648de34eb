"""The Predict page's session-state keys, and the ones it keeps across page changes."""

from __future__ import annotations

from ui.canvas import CanvasKeys
from ui.persist import KeptKeys

RUN = "predict_run"  # the model picked
SOURCE = "predict_source"  # "Draw", "Camera", "Upload" or "Test image"
NAIVE = "predict_naive"  # use the naive resize instead of MNIST's preparation
INDEX = "predict_index"  # the test image shown
VIEW = "predict_view"  # "Feature maps" or "Saliency"
CHECK = "predict_digit_check"  # the digit check on: say when a drawing is not a digit

# The inputs
STROKE = "predict_stroke"
CLEAR = "predict_clear"
UNDO = "predict_undo"
UNDO_COUNT = "predict_undo_count"  # the Undo button's clicks: the canvas takes back one stroke for each new one
UPLOAD = "predict_upload"
CAMERA = "predict_camera"
INJECTED_PHOTO = "predict_injected_photo"  # tests put PNG or JPEG bytes here: st.camera_input has no camera in AppTest
RANDOM = "predict_random"
INJECTED = "predict_injected_drawing"  # tests put an (H, W, 4) drawing here: the canvas does not run under AppTest
CANVAS_GENERATION = "predict_canvas_generation"  # bumped by Clear: a new canvas key is an empty canvas
CANVAS = "predict_canvas_"  # prefix: the canvas's key, one per generation
CANVAS_KEYS = CanvasKeys(CANVAS, CANVAS_GENERATION, INJECTED, UNDO_COUNT, CLEAR, UNDO)

# What the network sees
LAYER = "predict_layer"
FILTER = "predict_filter"
SALIENCY_CLASS = "predict_saliency_class"
QUICK_ANSWER = "predict_quick_answer"  # the container under the canvas: the answer in one line, on a phone

KEPT = KeptKeys("ui.predict.state", keys=(RUN, SOURCE, CHECK))
