"""Start-up (issue 24): building the page loads nothing its first page does not need. `import app` in a fresh
interpreter builds the whole page, as `python app.py` does before it launches; timing it is the bench's job
(`python -m genexplorer.bench --only startup`), these checks only hold what made it fast."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def after_import_app(code: str) -> dict:
    """``code`` run in a fresh interpreter after `import app`; it prints one JSON value, returned here."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    done = subprocess.run([sys.executable, "-c", f"import json, sys\nimport app\n{code}"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_building_the_page_loads_neither_torch_compiler_nor_ipython():
    """torch._dynamo (about 2 s of a busy start, pulled in by the first optimizer: the Toy lab's controls once made a
    whole toy GAN to read a lesson's settings) and IPython (gradio's notebook support) wait until something asks."""
    found = after_import_app('print(json.dumps({"app": "demo" in dir(app), "loaded": sorted(m for m in '
                             '("torch._dynamo", "IPython", "sympy") if m in sys.modules)}))')
    assert found == {"app": True, "loaded": []}


def test_gradio_builds_its_web_app_at_launch_only_and_ipython_still_imports():
    """One web app, launch()'s (gradio_fixes 4); gradio's notebook checks say no without IPython, and anyone may
    import IPython afterwards (gradio_fixes 5)."""
    found = after_import_app("from gradio import utils\nimport IPython\n"
                             'print(json.dumps([app.demo.app is None, utils.colab_check(), utils.ipython_check(), '
                             'IPython.get_ipython() is None]))')
    assert found == [True, False, False, True]


def test_the_app_and_its_children_use_two_malloc_arenas():
    """Fewer arenas keep a busy app's resident memory from creeping (genexplorer.app.limit_malloc_arenas): set for
    the app itself (glibc's mallopt) and, through the environment, for the live previews' child process."""
    import platform

    from genexplorer.app import MALLOC_ARENAS, limit_malloc_arenas

    answer = after_import_app("import os\nprint(json.dumps(os.environ.get('MALLOC_ARENA_MAX')))")
    assert answer == str(MALLOC_ARENAS)
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert limit_malloc_arenas() is True
