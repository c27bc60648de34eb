"""The Evaluate page's session-state keys, and the ones it keeps across page changes."""

from __future__ import annotations

from ui.persist import KeptKeys

RUN = "eval_run"  # the run evaluated; `?run=` in the address follows it
SEEN_RUNS = "eval_seen_runs"  # the run ids the page listed last time: a run not among them opens by itself
VIEW = "eval_view"
VIEWS = ("Confusion matrix", "Mistakes", "One image", "Compare runs", "Learned filters", "Export code")
NORMALISE = "eval_normalise"
TRUE, PREDICTED = "eval_true", "eval_predicted"  # the chosen confusion-matrix cell
PAIR_RUN = "eval_pair_run"  # the run whose confusion matrix the chosen cell belongs to
MATRIX = "eval_matrix"  # the confusion chart's selection
MISTAKE_CLASS, ORDER, ONLY_MISTAKES = "eval_mistake_class", "eval_order", "eval_only_mistakes"
INDEX = "eval_index"
OPEN_IMAGE = "eval_open_image"  # prefix: the gallery image a link opens in Predict, one key per gallery
COMPARE = "eval_compare"
COMPARE_METRIC, COMPARE_X = "eval_compare_metric", "eval_compare_x"  # Compare runs: the curve, and along what
FILTER, CHANNEL = "eval_filter", "eval_channel"
OPEN_FILTER = "eval_open_filter"  # the button that sends the chosen filter to the Playground

KEPT = KeptKeys("ui.evaluate.state", keys=(RUN, VIEW))
