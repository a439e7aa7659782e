"""pyproject.toml: `pip install .` gives a package with the `genexplorer` and `genexplorer-train` commands that
serves the checkout's checkpoints/ and assets/ (genexplorer/app.py); the dependencies are requirements.txt's."""
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from genexplorer import app as entry
from genexplorer.version import __version__

ROOT = Path(__file__).resolve().parent.parent


def requirements() -> list[str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """`pip install --no-deps --target` of a copy of the source (the build leaves the checkout as it was):
    -> (the folder installed into, its environment for running the commands)."""
    if importlib.util.find_spec("setuptools") is None:
        pytest.skip("setuptools is needed to build without the network (--no-build-isolation)")
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"
    shutil.copytree(ROOT / "genexplorer", source / "genexplorer", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "requirements.txt"):
        shutil.copy(ROOT / name, source / name)
    target = work / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                           "--quiet", "--target", str(target), str(source)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    env = {key: value for key, value in os.environ.items() if not key.startswith("GENEXPLORER_")}
    env.update(PYTHONPATH=str(target), OMP_NUM_THREADS="1")
    return target, env


def run(command, env, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, **kwargs)


def test_the_commands_start_from_the_installed_package(installed, tmp_path):
    target, env = installed
    assert not (target / "checkpoints").exists() and not (target / "assets").exists(), "the code only"
    where = run([sys.executable, "-c", "import genexplorer; print(genexplorer.__file__)"], env, cwd=tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(target), where.stdout + where.stderr
    helped = run([str(target / "bin" / "genexplorer"), "--help"], env, cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    assert all(option in helped.stdout for option in ("--host", "--port", "--share", "--auth")), helped.stdout
    trained = run([str(target / "bin" / "genexplorer-train"), "--help"], env, cwd=tmp_path)
    assert trained.returncode == 0 and "--model" in trained.stdout, trained.stderr
    # outside a checkout, with no GENEXPLORER_HOME: a message saying where to point, not a traceback
    homeless = run([str(target / "bin" / "genexplorer"), "--port", "1"], env, cwd=tmp_path)
    assert homeless.returncode != 0 and "GENEXPLORER_HOME" in homeless.stderr and "Traceback" not in homeless.stderr


def test_the_package_says_what_requirements_txt_says(installed):
    target, _ = installed
    (dist_info,) = target.glob("genexplorer-*.dist-info")
    metadata = (dist_info / "METADATA").read_text().split("\n\n", 1)[0].splitlines()
    assert [line.split(": ", 1)[1] for line in metadata if line.startswith("Requires-Dist: ")] == requirements()
    assert f"Version: {__version__}" in metadata
    scripts = (dist_info / "entry_points.txt").read_text()
    assert "genexplorer = genexplorer.app:main" in scripts and "genexplorer-train = genexplorer.train:main" in scripts


def test_the_installed_command_serves_the_checkout(installed, tmp_path):
    """GENEXPLORER_HOME at the checkout: the page builds (its examples come from assets/) and a live slide
    decodes with a shipped checkpoint, though neither folder is beside the installed package."""
    target, env = installed
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(env, GENEXPLORER_HOME=str(ROOT), GENEXPLORER_RUNS=str(tmp_path / "runs"), GENEXPLORER_LIVE_PROCESS="0")
    log = open(tmp_path / "log.txt", "wb")
    server = subprocess.Popen([str(target / "bin" / "genexplorer"), "--port", str(port)], cwd=tmp_path, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        body = json.dumps({"model": "mnist-vae", "label": None, "latent": [0.0] * 16, "values": [0.5] * 16}).encode()
        deadline, answer = time.monotonic() + 120, None
        while answer is None and time.monotonic() < deadline and server.poll() is None:
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/genexplorer/live/slide", data=body,
                                                 method="POST", headers={"content-type": "application/json"})
                with urllib.request.urlopen(request, timeout=10) as response:
                    answer = response.headers["content-type"], response.read()
            except OSError:   # not listening yet, or its live routes not added yet (a 404)
                time.sleep(0.5)
        assert answer is not None, (tmp_path / "log.txt").read_text()[-3000:]
        assert answer[0] == "image/png" and answer[1].startswith(b"\x89PNG")
    finally:
        server.terminate()
        server.wait(30)
        log.close()


def test_home_is_the_checkout_here_and_a_named_folder_must_hold_both(monkeypatch, tmp_path):
    monkeypatch.delenv(entry.HOME_ENV_VAR, raising=False)
    assert entry.PACKAGE_HOME == ROOT and entry.find_home(cwd=tmp_path) == ROOT
    (tmp_path / "checkpoints").mkdir()
    monkeypatch.setenv(entry.HOME_ENV_VAR, str(tmp_path))
    with pytest.raises(entry.HomeError, match="no assets/ folder"):
        entry.find_home()
    (tmp_path / "assets").mkdir()
    assert entry.find_home() == tmp_path.resolve()
