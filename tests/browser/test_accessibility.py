"""Accessibility (WCAG 2.1 AA) in Chromium: axe-core on every page, in the states a learner reaches.

A page fails on any critical or serious violation; moderate and minor ones are printed (run with -s to
see them), so they are known without blocking. axe checks what a machine can (contrast, names, alt text,
roles, heading order); what it cannot, such as whether a text alternative is *useful*, the README lists.
"""

from __future__ import annotations

import re
import shutil

import pytest
from playwright.sync_api import expect

from core.store.runs import DEFAULTS, STORE_ROOT
from core.train.recipes import SHIPPED_RUN_IDS
from tests.browser.conftest import start_server, wait_until_idle
from tests.browser.test_pages import url_path
from tests.browser.test_predict import draw
from tests.conftest import REPO_ROOT
from ui.navigation import PAGES

pytestmark = pytest.mark.browser
BLOCKING = ("critical", "serious")


@pytest.fixture(scope="module")
def shipped_mnist():
    run_id = SHIPPED_RUN_IDS["mnist"]
    target = STORE_ROOT / DEFAULTS / run_id
    shutil.copytree(REPO_ROOT / "models" / DEFAULTS / run_id, target, dirs_exist_ok=True)
    yield run_id
    shutil.rmtree(target, ignore_errors=True)


def audit(tab, where: str) -> None:
    """Runs axe on the page as it stands; fails on blocking violations, prints the others."""
    from axe_playwright_python.sync_playwright import Axe

    wait_until_idle(tab)
    violations = Axe().run(tab).response["violations"]
    for violation in violations:
        if violation["impact"] not in BLOCKING:
            print(f"{where}: {violation['impact']} {violation['id']} ({len(violation['nodes'])})")
    blocking = [f"{violation['impact']} {violation['id']}: {violation['help']} — "
                + "; ".join(node["html"][:120] for node in violation["nodes"][:3])
                for violation in violations if violation["impact"] in BLOCKING]
    assert not blocking, f"{where}:\n" + "\n".join(blocking)


@pytest.mark.parametrize("spec", [spec for spec in PAGES if spec.path != "pages/projector.py"],
                         ids=lambda spec: spec.title)
def test_every_page_as_it_opens_has_no_serious_violation(page, app_server, shipped_mnist, spec):
    page.goto(f"{app_server.url}/{url_path(spec)}")
    expect(page.locator("h1").first).to_be_visible(timeout=90_000)
    page.wait_for_timeout(1500)  # the page's first data (a dataset, a model's predictions) arrives after the title
    audit(page, spec.title)


def test_predict_with_a_drawing_has_no_serious_violation(page, app_server, shipped_mnist):
    page.goto(f"{app_server.url}/predict")
    expect(page.get_by_text("The canvas is empty")).to_be_visible(timeout=90_000)
    page.locator("canvas.cnnlab-drawing").first.wait_for()
    draw(page, "7", 60, 40, 200)
    expect(page.locator('[data-testid="stMarkdownContainer"]').filter(has_text="It reads")).to_be_visible(
        timeout=60_000)
    audit(page, "Predict with a drawing")


def test_evaluate_galleries_say_what_each_image_is(page, app_server, shipped_mnist):
    """Each gallery tile's text alternative gives its index, true class, reading and confidence."""
    page.goto(f"{app_server.url}/evaluate")
    tiles = page.locator('[data-testid="stImage"] img')
    expect(tiles.first).to_be_visible(timeout=120_000)
    wait_until_idle(page)
    alts = [tiles.nth(i).get_attribute("alt") or "" for i in range(min(tiles.count(), 12))]
    assert alts and all(alt.startswith("test image ") and ", read as " in alt and "%" in alt for alt in alts), alts
    audit(page, "Evaluate with its galleries")
    for view in ("Mistakes", "One image", "Compare runs", "Learned filters", "Export code"):  # every view of it
        page.get_by_role("radio", name=view, exact=True).click()
        wait_until_idle(page)
        page.wait_for_timeout(500)
        audit(page, f"Evaluate, {view}")


def test_train_while_a_run_trains_and_when_it_ends_has_no_serious_violation(page, app_server):
    """The live panel while it polls (progress, both curves, their text and table), then the results."""
    page.goto(f"{app_server.url}/train")
    expect(page.locator("h1").first).to_have_text("Train", timeout=60_000)
    wait_until_idle(page)
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text(re.compile(r"Epoch \d+/\d+ · batch|finished after")).first).to_be_visible(
        timeout=120_000)
    from axe_playwright_python.sync_playwright import Axe

    training = [violation for violation in Axe().run(page).response["violations"]  # no idle wait: it is polling
                if violation["impact"] in BLOCKING]
    assert not training, [violation["id"] for violation in training]
    expect(page.get_by_text(re.compile("finished after"))).to_be_visible(timeout=240_000)
    audit(page, "Train with a finished run")


def test_the_class_page_as_teacher_and_as_student_has_no_serious_violation(browser_context, tmp_path, monkeypatch):
    from core.classroom.classes import all_classes

    store = tmp_path / "store"
    monkeypatch.setenv("CNNLAB_HOSTED", "1")
    monkeypatch.setenv("CNNLAB_STORE_DIR", str(store))
    server = start_server(tmp_path)
    teacher, student = browser_context.new_page(), browser_context.new_page()
    try:
        teacher.set_default_timeout(60_000)
        teacher.goto(f"{server.url}/classroom")
        wait_until_idle(teacher)
        teacher.get_by_role("textbox", name="Class name").fill("Lesson 4")
        teacher.get_by_role("button", name="Create the class").click()
        expect(teacher.get_by_role("button", name="Stop all runs")).to_be_visible()
        audit(teacher, "Class as teacher")
        student.set_default_timeout(60_000)
        student.goto(f"{server.url}/classroom?join={all_classes(store)[0].join_code}")
        wait_until_idle(student)
        student.get_by_role("textbox", name="Nickname").fill("Ada")
        student.get_by_role("button", name="Join", exact=True).click()
        expect(student.get_by_text("as Ada").first).to_be_visible()
        audit(student, "Class as student")
    finally:
        teacher.close()
        student.close()
        server.stop()


def test_the_layer_buttons_are_named_for_a_screen_reader_and_show_only_their_icons(page, app_server, tmp_path):
    """They were read by their icons' names ("arrow_upward", "delete")."""
    page.goto(f"{app_server.url}/train")
    expect(page.locator("h1").first).to_have_text("Train", timeout=60_000)
    wait_until_idle(page)
    up = page.get_by_role("button", name="Move layer 2 up")
    expect(up).to_be_visible()
    expect(page.get_by_role("button", name="Remove layer 1")).to_be_visible()
    assert up.bounding_box()["width"] < 60  # the name is not shown: an icon-sized button, as before
    page.get_by_test_id("stVerticalBlock").filter(has=up).first.screenshot(path=str(tmp_path / "layer-buttons.png"))


def test_every_section_of_the_explorer_has_no_serious_violation(page, app_server):
    page.goto(f"{app_server.url}/dataset_explorer")
    expect(page.locator("h1").first).to_have_text("Dataset Explorer", timeout=60_000)
    wait_until_idle(page)
    for section in ("Samples", "Pixels & label", "Statistics", "Normalisation", "Augmentation"):
        page.locator('[data-testid="stButtonGroup"]').get_by_text(section, exact=True).click()
        wait_until_idle(page)
        page.wait_for_timeout(500)
        audit(page, f"Dataset Explorer, {section}")


def test_models_export_has_no_serious_violation(page, app_server, shipped_mnist):
    """The export section with a checked TensorFlow Lite file, its download and its snippet."""
    page.goto(f"{app_server.url}/models")
    table = page.locator("[data-testid='stDataFrame']").first
    expect(table).to_be_visible(timeout=90_000)
    wait_until_idle(page)
    box = table.bounding_box()
    page.mouse.click(box["x"] + 8, box["y"] + 55)  # the first row: the shipped MNIST default
    page.get_by_text("Take it away").click()
    page.get_by_role("button", name="Export and check").click()
    expect(page.get_by_text(re.compile("^Checked: it matches Keras within 0.0001"))).to_be_visible(timeout=180_000)
    audit(page, "Models with an export")
