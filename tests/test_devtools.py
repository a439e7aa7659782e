"""The dev tools (genexplorer/devtools/: bench, quality tables, classroom load, torture) stay apart from the app:
the app never imports them, they import nothing of genexplorer.ui and no other module's private name, and their
old commands still run."""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEVTOOLS = ROOT / "genexplorer" / "devtools"


def python(*args: str) -> subprocess.CompletedProcess:
    """A fresh interpreter in the repository: python *args."""
    env = {"OMP_NUM_THREADS": "1", **os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def loaded_after(statement: str) -> list[str]:
    """The genexplorer modules a fresh interpreter holds after ``statement``."""
    done = python("-c", f"import json, sys\n{statement}\nprint('MODULES', json.dumps(sorted(sys.modules)))")
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("MODULES "))
    return [name for name in json.loads(line.split(" ", 1)[1]) if name.startswith("genexplorer")]


def test_the_app_never_imports_the_dev_tools():
    """`import app` builds the whole page, as `python app.py` does before it launches."""
    modules = loaded_after("import app")
    assert "genexplorer.ui" in modules, "the page was built"
    tools = [m for m in modules if m.startswith("genexplorer.devtools") or m in ("genexplorer.bench", "genexplorer.torture")]
    assert tools == []


def test_the_dev_tools_load_nothing_of_the_page():
    modules = loaded_after("import genexplorer.devtools.bench, genexplorer.devtools.quality, genexplorer.devtools.classroom, "
                           "genexplorer.devtools.imagetoimage, genexplorer.devtools.gandynamics, "
                           "genexplorer.devtools.zoo_table, genexplorer.devtools.torture.__main__")
    assert not [m for m in modules if m == "genexplorer.ui" or m.startswith("genexplorer.ui.")]


def imported(path: Path) -> list[tuple[int, str, str | None, str | None]]:
    """Every import of a module file as (line, absolute module, name taken from it or None, the local name)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name, None, alias.asname or alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            out += [(node.lineno, module, alias.name, alias.asname or alias.name) for alias in node.names]
    return out


def problems_in(path: Path) -> list[str]:
    problems = []
    imports = imported(path)
    for line, module, name, _ in imports:
        full = f"{module}.{name}" if name else module
        if any(m == "genexplorer.ui" or m.startswith("genexplorer.ui.") for m in (module, full)):
            problems.append(f"line {line}: imports {full} (a dev tool asks the running app instead)")
        if name and name.startswith("_") and not name.startswith("__"):
            problems.append(f"line {line}: imports the private {name} of {module}")
    local_names = {local for _, _, _, local in imports}
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in local_names
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            problems.append(f"line {node.lineno}: uses the private {node.value.id}.{node.attr}")
    return problems


def test_the_dev_tools_use_no_ui_module_and_no_private_name_of_another_module():
    files = sorted(DEVTOOLS.rglob("*.py"))
    assert len(files) >= 10, files
    problems = {str(path.relative_to(ROOT)): found for path in files if (found := problems_in(path))}
    assert problems == {}


@pytest.mark.parametrize("source, expected", [
    ("from ..ui.canvas import CANVAS_JS", "imports genexplorer.ui.canvas"),
    ("from .. import ui", "imports genexplorer.ui"),
    ("import genexplorer.ui.common", "imports genexplorer.ui.common"),
    ("from ..explore import _hidden", "private _hidden of genexplorer.explore"),
    ("from .. import explore\nexplore._hidden(1)", "private explore._hidden"),
])
def test_the_scan_catches_each_kind_of_breach(tmp_path, monkeypatch, source, expected):
    folder = tmp_path / "genexplorer" / "devtools"
    folder.mkdir(parents=True)
    (folder / "tool.py").write_text(source + "\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert any(expected in problem for problem in problems_in(folder / "tool.py"))


@pytest.mark.parametrize("command, usage", [("genexplorer.bench", "usage: python -m genexplorer.bench"),
                                            ("genexplorer.torture", "usage: python -m genexplorer.torture")])
def test_the_old_commands_still_run_the_dev_tools(command, usage):
    done = python("-m", command, "--help")
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith(usage)
