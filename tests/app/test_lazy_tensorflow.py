"""TensorFlow (about 3 s and 700 MB) loads only when the augmentation section is shown.

The Convolution Playground never needs it: its convolutions are NumPy.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.conftest import REPO_ROOT

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from streamlit.testing.v1 import AppTest

    from ui import state
    from ui.explorer import state as explorer_state
    from ui.playground import state as pg

    app = AppTest.from_file("streamlit_app.py", default_timeout=120)
    app.run()
    seen = {"home": "tensorflow" in sys.modules}
    app.switch_page("pages/convolution_playground.py").run()
    for source in ["dataset", "photo", "grid"]:
        app.segmented_control(key=pg.SOURCE).set_value(source).run()
        assert not app.exception, [e.value for e in app.exception]
        seen["playground " + source] = "tensorflow" in sys.modules or "keras" in sys.modules
    for page in ["pages/train.py", "pages/models.py"]:
        app.switch_page(page).run()
        assert not app.exception, [e.value for e in app.exception]
        seen[page] = "tensorflow" in sys.modules or "keras" in sys.modules
    app.switch_page("pages/dataset_explorer.py").run()
    app.selectbox(key=state.DATASET).select("mnist").run()
    for section in ["Overview", "Samples", "Pixels & label", "Statistics", "Normalisation"]:
        app.segmented_control(key=explorer_state.SECTION).set_value(section).run()
        assert not app.exception, [e.value for e in app.exception]
        seen[section] = "tensorflow" in sys.modules or "keras" in sys.modules
    app.segmented_control(key=explorer_state.SECTION).set_value("Augmentation").run()
    assert not app.exception, [e.value for e in app.exception]
    seen["Augmentation"] = "tensorflow" in sys.modules
    print(json.dumps(seen))
    """
)


def test_tensorflow_is_imported_only_by_the_augmentation_section(data_dir):
    # The Train and Models pages are included: training runs in a worker process, never in the server.
    # one subprocess for both pages: a fresh interpreter is the only way to see what a page imports
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen.pop("Augmentation") is True  # proves the check can see TensorFlow when it is there
    assert not any(seen.values()), seen


def test_the_servers_keras_import_leaves_nothing_for_each_reruns_gc_collect():
    """`ui.keras_loader.import_keras` freezes what TensorFlow's import made: Streamlit's per-rerun
    `gc.collect()` then has almost nothing to walk (it took about 0.17 s per rerun before)."""
    script = textwrap.dedent(
        """
        import gc, json
        from ui.keras_loader import import_keras
        import_keras()
        print(json.dumps({"frozen": gc.get_freeze_count(), "tracked": len(gc.get_objects())}))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    assert counts["frozen"] > 100_000  # TensorFlow and Keras
    assert counts["tracked"] < 5_000
