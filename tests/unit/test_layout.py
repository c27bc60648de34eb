"""The project's floors: pages → ui page packages → the ui root → core, and nothing runs back up.

Read from the source with `ast` (every import, including those inside functions), so the check
needs no import of Streamlit or TensorFlow and sees imports that run only on some paths.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

PAGE_PACKAGES = ("explorer", "playground", "train", "models", "evaluate", "predict", "classroom", "own_classes")
# The declared exceptions, each with its reason.
DOORWAYS = {
    # Evaluate's "Open in the Playground" sends a learned filter there: the one way from one page to another.
    ("ui.evaluate.views", "ui.playground.state"),
}
# Each page script and the one ui package that is its own.
PAGE_OWN = {"pages.dataset_explorer": "ui.explorer", "pages.convolution_playground": "ui.playground",
            "pages.train": "ui.train", "pages.models": "ui.models", "pages.evaluate": "ui.evaluate",
            "pages.predict": "ui.predict", "pages.classroom": "ui.classroom", "pages.home": None, "streamlit_app": None,
            "pages.projector": "ui.classroom",  # the projector view is the class's, for the wall
            "pages.my_classes": "ui.own_classes"}
# The shell keeps every page's session state alive on every run, so it reads each page's `state` module.
SHELL = "ui.navigation"


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_files() -> list[Path]:
    files = [REPO_ROOT / "streamlit_app.py"]
    for folder in ("core", "ui", "pages"):
        files += sorted((REPO_ROOT / folder).rglob("*.py"))
    return files


def imports_of(path: Path) -> set[str]:
    """Every project module `path` imports (`from a.b import c` counts a.b.c when that is a module)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    known = {module_name(file) for file in project_files()}
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            submodules = {f"{base}.{alias.name}" for alias in node.names} & known
            found.update(submodules)
            if len(submodules) < len(node.names):  # some names are the module's own, not submodules
                found.add(base)
    return {name for name in found if name in known}


def floor(module: str) -> str:
    """Which floor a module lives on: "app" (the router and pages), a ui page package, "ui", or "core"."""
    parts = module.split(".")
    if parts[0] in ("pages", "streamlit_app"):
        return "app"
    if parts[0] == "ui":
        return f"ui.{parts[1]}" if len(parts) > 1 and parts[1] in PAGE_PACKAGES else "ui"
    return "core"


def problems(graph: dict[str, set[str]]) -> list[str]:
    """Every import that breaks the floors, as "importer → imported: why"."""
    found = []
    for importer, imported_set in sorted(graph.items()):
        for imported in sorted(imported_set):
            here, there = floor(importer), floor(imported)
            if there == "app":
                found.append(f"{importer} → {imported}: nothing imports a page or the router")
            elif here == "app" and there.startswith("ui.") and there != PAGE_OWN[importer]:
                found.append(f"{importer} → {imported}: a page uses its own ui package only")
            elif here == "core" and there != "core":
                found.append(f"{importer} → {imported}: core never imports ui")
            elif here == "ui" and there.startswith("ui.") and not (
                    importer == SHELL and imported.endswith(".state") and imported.count(".") == 2):
                found.append(f"{importer} → {imported}: the ui root imports no page package")
            elif here.startswith("ui.") and there.startswith("ui.") and here != there and (
                    (importer, imported) not in DOORWAYS):
                found.append(f"{importer} → {imported}: one page's package imports another's")
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles among modules, each as a path that returns to its start."""
    found, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for imported in sorted(graph.get(module, ())):
            if imported == module.rpartition(".")[0]:
                continue  # a module importing its own package's __init__ is Python's own order, not a cycle
            if state.get(imported) == "open":
                found.append([*path[path.index(imported):], imported])
            elif imported not in state:
                visit(imported, [*path, imported])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return {module_name(path): imports_of(path) for path in project_files()}


def test_no_import_runs_up_a_floor_or_across_pages(graph):
    assert problems(graph) == []


def test_there_are_no_import_cycles(graph):
    assert cycles(graph) == []


def test_core_is_one_package_per_capability_and_ui_one_per_page():
    core = {path.name for path in (REPO_ROOT / "core").iterdir() if path.is_dir() and path.name != "__pycache__"}
    assert core == {"data", "conv", "model", "train", "jobs", "evaluate", "predict", "store", "classroom"}
    assert not [path.name for path in (REPO_ROOT / "core").glob("*.py") if path.name != "__init__.py"]
    ui = {path.name for path in (REPO_ROOT / "ui").iterdir() if path.is_dir() and path.name != "__pycache__"}
    assert ui == set(PAGE_PACKAGES)
    for package in [*(REPO_ROOT / "core").iterdir(), *(REPO_ROOT / "ui").iterdir()]:
        if package.is_dir() and package.name != "__pycache__":
            assert (package / "__init__.py").is_file(), package


@pytest.mark.parametrize(("importer", "imported", "why"), [
    ("core.store.runs", "ui.text", "core never imports ui"),
    ("ui.loaders", "ui.train.state", "the ui root imports no page package"),
    ("ui.predict.views", "ui.evaluate.figures", "one page's package imports another's"),
    ("ui.evaluate.figures", "ui.playground.figures", "one page's package imports another's"),
    ("ui.train.live", "pages.train", "nothing imports a page or the router"),
    ("pages.predict", "ui.evaluate.views", "a page uses its own ui package only"),
])
def test_the_check_catches_each_kind_of_wrong_import(graph, importer, imported, why):
    # The checks above pass on today's code; this shows they would not pass on a wrong import.
    wrong = defaultdict(set, {name: set(imports) for name, imports in graph.items()})
    wrong[importer].add(imported)
    assert [problem for problem in problems(wrong) if problem.startswith(f"{importer} → {imported}")] == [
        f"{importer} → {imported}: {why}"]


def test_the_check_catches_a_cycle(graph):
    wrong = {name: set(imports) for name, imports in graph.items()}
    assert "core.data.datasets" in wrong["core.train.engine"]
    wrong["core.data.datasets"] = {*wrong["core.data.datasets"], "core.train.engine"}
    assert ["core.data.datasets", "core.train.engine", "core.data.datasets"] in cycles(wrong)


def test_every_page_script_is_known(graph):
    assert {name for name in graph if floor(name) == "app"} == set(PAGE_OWN)


def test_the_declared_doorway_is_still_used(graph):
    # A doorway nobody walks through is a stale exception: remove it.
    for importer, imported in DOORWAYS:
        assert imported in graph[importer]
