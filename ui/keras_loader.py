"""Keras (and TensorFlow) imported into the Streamlit server, with the garbage collector told to skip it.

Only the parts that need Keras in the server process call this: the Explorer's augmentation
preview and the model cache (Evaluate, Predict). Training never runs in the server.
"""

from __future__ import annotations

import gc
import threading

_freeze_lock = threading.Lock()
_frozen = False


def import_keras():
    """Imports Keras (and TensorFlow) into the server, then hides what the import made from the collector.

    Why: once Keras is imported, Streamlit runs `keras.backend.clear_session()` and a full
    `gc.collect()` after every script and fragment run, and each walked the ~350,000 objects of
    TensorFlow's import: about 0.17 s apiece holding the GIL, every 0.5 s while a live training
    view ticks. `gc.freeze()` moves every object alive now to a permanent generation that
    collections skip (both then took under 1 ms). Those objects are modules, op registries and
    the like, which live as long as the process anyway; garbage is collected first so none is
    kept. Objects made later (loaded models) are collected as usual.
    """
    global _frozen
    import keras

    with _freeze_lock:
        if not _frozen:
            gc.collect()
            gc.freeze()
            _frozen = True
    return keras
