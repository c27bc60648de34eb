"""User text in the exported script and notebook: it stays text, whatever it holds.

A run's name, its uploaded dataset's name and its class names come from users. They used to reach
the script's docstring and comments as they were, so a name closing the docstring ran code.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

from core.evaluate.code_export import export_notebook, export_script
from tests.unit.test_code_export import make_record

HOSTILE = [
    'x""";__import__("os").system("touch {marker}");"""',
    "x'''\n__import__('os').system('touch {marker}')\n'''",
    'first line\nimport os; os.system("touch {marker}")',
    '\r\nimport os\r\nos.system("touch {marker}")  #',
    'a\u2028import os; os.system("touch {marker}")\u2029b',
    'back\\slash \\N{{BULLET}} \\x41 \\u0041 "double" \'single\' \\',
    '"""',
    "'''",
    '{{}} {{0}} %s %(x)s',
    '</script><img src=x onerror=alert(1)> **bold** `tick` [link](javascript:alert(1)) $x$',
    '\x00\x1b[31mred\x0c\x0bvertical',
]


def _names(tmp_path, template: str) -> str:
    return template.format(marker=tmp_path / "PWNED")


def _hostile_record(name: str):
    record = make_record("mnist", "dense", [28, 28, 1])
    record.name = name
    record.class_names = [name, "other", *[str(i) for i in range(8)]]
    return record


@pytest.mark.parametrize("template", HOSTILE, ids=range(len(HOSTILE)))
def test_a_hostile_run_name_is_text_in_the_exported_script(template, tmp_path):
    name = _names(tmp_path, template)
    source = export_script(_hostile_record(name))
    tree = ast.parse(source)  # still a valid script
    path = tmp_path / "exported.py"
    path.write_text(source, encoding="utf-8")
    done = subprocess.run([sys.executable, str(path), "--help"], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-1500:]
    assert not (tmp_path / "PWNED").exists()
    # The name round-trips as text: a Python literal whose value is exactly the name.
    values = {target.id: ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
              for target in node.targets if isinstance(target, ast.Name) and target.id in ("RUN_NAME", "CLASS_NAMES")}
    assert values["RUN_NAME"] == name and values["CLASS_NAMES"][0] == name
    # Comments and the docstring never carry it: nothing of it outside string literals.
    assert "touch" not in ast.get_docstring(tree) and "os.system" not in ast.get_docstring(tree)


@pytest.mark.parametrize("template", HOSTILE, ids=range(len(HOSTILE)))
def test_a_hostile_run_name_is_text_in_the_exported_notebook(template, tmp_path):
    name = _names(tmp_path, template)
    notebook = json.loads(export_notebook(_hostile_record(name)))
    code = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    trees = [ast.parse(cell) for cell in code]  # every code cell parses on its own
    assigned = [ast.literal_eval(node.value) for tree in trees for node in tree.body if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "RUN_NAME" for t in node.targets)]
    assert assigned == [name]
    markdown = "".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "markdown")
    assert "<" not in markdown.replace("&lt;", "") and "touch" not in markdown  # no markup, no name as prose


def test_the_notebooks_code_runs_without_running_the_name(tmp_path):
    name = _names(tmp_path, HOSTILE[0])
    notebook = json.loads(export_notebook(_hostile_record(name)))
    code = "\n\n".join("".join(cell["source"]) for cell in notebook["cells"][:-1] if cell["cell_type"] == "code")
    path = tmp_path / "notebook_as_script.py"
    path.write_text(code + "\n\nprint(repr(RUN_NAME))\nmain(['--help'])\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-1500:]
    assert repr(name) in done.stdout and not (tmp_path / "PWNED").exists()
