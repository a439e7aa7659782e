"""The torture suite: bad inputs, many users at once and faults, against a real running app.

    python -m genexplorer.torture                          # the full run: 30 users for 60 s, every fault
    python -m genexplorer.torture --users 5 --seconds 10   # a short one

The app runs as a subprocess (``python app.py``) on a copy of the checkpoints, with its own
runs, temp and cache folders, so nothing in the repository changes and its memory can be
read from /proc. Requests only ever go to 127.0.0.1.

* Bad inputs: ``CATALOGUE`` lists each as data (name, endpoint, arguments, files to build,
  what should happen). Each is sent through the page's API; the outcome is a clear error
  (a message for the user), handled (a normal answer), or a crash (an error without a
  message, a 5xx, a traceback in the server log other than a user error, a server that
  stops answering, or a change on disk). gradio_client refuses to send NaN or infinity,
  so those go as raw HTTP to the same endpoints.
* Load: N users, each with their own session, draw, start a latent walk, slide and
  interpolate for T seconds; every answer must equal what that user's own inputs gave in
  a quiet reference pass (so no session sees another's drawing or latent); latency
  median and p95, the app's memory and its temp files at start, middle and end.
* Faults: training processes killed mid-epoch and mid-save, the app killed while a run
  goes on, a disk that fills while a checkpoint is written, a missing optional dataset.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import pickle
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


# ================================================================ the app under test

def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# Loaded in the app and in its training processes through PYTHONPATH: lets the fault runs
# make a checkpoint save fail (disk full) or die (killed mid-write) at the real call site,
# switched on by a marker file, and can hide Debian's Fashion-MNIST from the app.
FAULT_HOOK = r'''
import importlib.abc, importlib.util, os, signal, sys
_FAULTS = os.environ.get("GENEXPLORER_TORTURE_FAULTS", "")


def _patch_checkpoints(module):
    real = module.save_file

    def save_file(tensors, filename, metadata=None):
        for fault in ("disk_full", "kill_in_save"):
            if _FAULTS and os.path.exists(os.path.join(_FAULTS, fault)):
                from safetensors import SafetensorError
                from safetensors.torch import save
                data = save(tensors, metadata=metadata)
                with open(filename, "wb") as f:       # half the file reaches the disk...
                    f.write(data[: len(data) // 2])
                if fault == "kill_in_save":
                    os.kill(os.getpid(), signal.SIGKILL)
                # ...then what safetensors raises when the disk is full (checked with RLIMIT_FSIZE)
                raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")
        return real(tensors, filename, metadata=metadata)

    module.save_file = save_file


def _patch_data(module):
    if os.environ.get("GENEXPLORER_TORTURE_NO_FASHION"):
        from pathlib import Path
        module.DEBIAN_FASHION_DIR = Path("/nonexistent/fashion-mnist")
        os.environ.pop(module.DATA_ENV_VAR, None)


_PATCHES = {"genexplorer.checkpoints": _patch_checkpoints, "genexplorer.data": _patch_data}


class _Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in _PATCHES:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            _PATCHES[name](module)

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _Hook())
'''


class App:
    """``python app.py`` on a copy of the checkpoints, in its own folders under ``workdir``."""

    def __init__(self, workdir: Path, *, checkpoints_dir: Path | None = None, no_fashion: bool = False,
                 extra_args: tuple[str, ...] = ()):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.checkpoints_dir = checkpoints_dir or copy_checkpoints(self.workdir / "checkpoints")
        self.runs_dir = self.workdir / "runs"
        self.cache_dir = self.workdir / "gradio-cache"
        self.tmp_dir = self.workdir / "tmp"
        self.faults_dir = self.workdir / "faults"
        for folder in (self.runs_dir, self.cache_dir, self.tmp_dir, self.faults_dir):
            folder.mkdir(parents=True, exist_ok=True)
        hook = self.workdir / "hook"
        hook.mkdir(exist_ok=True)
        (hook / "sitecustomize.py").write_text(FAULT_HOOK)
        self.no_fashion = no_fashion
        self.extra_args = extra_args
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log_path = self.workdir / "app.log"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def env(self) -> dict:
        env = dict(os.environ, GENEXPLORER_CHECKPOINTS=str(self.checkpoints_dir), GENEXPLORER_RUNS=str(self.runs_dir),
                   GRADIO_TEMP_DIR=str(self.cache_dir), TMPDIR=str(self.tmp_dir), GRADIO_ANALYTICS_ENABLED="False",
                   GENEXPLORER_TORTURE_FAULTS=str(self.faults_dir), PYTHONUNBUFFERED="1",
                   PYTHONPATH=os.pathsep.join([str(self.workdir / "hook"), str(ROOT)]))
        env.setdefault("NUMBA_CACHE_DIR", str(self.workdir / "numba-cache"))
        if self.no_fashion:
            env["GENEXPLORER_TORTURE_NO_FASHION"] = "1"
        return env

    def start(self, timeout: float = 120.0) -> "App":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen([sys.executable, "app.py", "--port", str(self.port), *self.extra_args],
                                        cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.starts += 1
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the app exited with {self.process.returncode}:\n{self.log_tail()}")
            if self.answers(timeout=2):
                return self
            time.sleep(0.3)
        raise RuntimeError(f"the app did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def pid(self) -> int:
        return self.process.pid

    def answers(self, timeout: float = 10.0) -> bool:
        """Is the page served and does a small real request succeed?"""
        import urllib.request

        try:
            with urllib.request.urlopen(f"{self.url}/gradio_api/info", timeout=timeout) as response:
                return response.status == 200
        except OSError:
            return False

    def serves(self) -> bool:
        outcome, value = raw_call(self.url, "slide", ["mnist-vae", None, *([0.5] * 16)], timeout=60)
        return outcome == "ok"

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_s(self) -> float:
        """CPU time (user + system) the app process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def temp_files(self) -> int:
        """Files the app keeps in its temp and cache folders (output images, exports, uploads)."""
        return sum(1 for folder in (self.cache_dir, self.tmp_dir) for p in folder.rglob("*") if p.is_file())

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_text()[-chars:]

    def crashes_in_log(self, start: int = 0) -> list[str]:
        """The final line of each traceback printed since character ``start`` of the log that is
        not a user error (Gradio prints gr.Error raised while checking inputs; those are fine)."""
        crashes = []
        for block in self.log_text()[start:].split("Traceback (most recent call last):")[1:]:
            last = next((line for line in block.splitlines() if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b", line)), "")
            if not last.startswith("gradio.exceptions.Error"):
                crashes.append(last or block.strip().splitlines()[-1])
        return crashes

    def log_size(self) -> int:
        return len(self.log_text())


def copy_checkpoints(target: Path) -> Path:
    from . import checkpoints

    target.mkdir(parents=True, exist_ok=True)
    for name in checkpoints.list_checkpoints(checkpoints.CHECKPOINTS_DIR):
        for attempt in range(3):   # a checkpoint being re-saved right now is briefly renamed: retry
            try:
                shutil.copytree(checkpoints.CHECKPOINTS_DIR / name, target / name, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns(checkpoints.TRAINING_STATE_FILE))
                break
            except (OSError, shutil.Error):
                time.sleep(1.0)
    return target


# ---------------------------------------------------------------- disk snapshots

def snapshot(*folders: Path) -> dict[str, str]:
    """sha256 of every file under the folders (hidden ones too)."""
    out = {}
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def quick_snapshot(*folders: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime) of every file and folder: cheap enough to take after every request."""
    out = {}
    for folder in folders:
        for path in Path(folder).rglob("*"):
            stat = path.stat()
            out[str(path)] = (stat.st_size if path.is_file() else -1, stat.st_mtime_ns)
    return out


def diff(before: dict, after: dict) -> list[str]:
    changed = [f"changed {k}" for k in before if k in after and before[k] != after[k]]
    return (changed + [f"removed {k}" for k in before if k not in after]
            + [f"added {k}" for k in after if k not in before])


# ================================================================ calling the API

def raw_call(url: str, endpoint: str, data: list, *, session_hash: str | None = None, timeout: float = 120.0):
    """POST an event to /gradio_api/call/<endpoint> and read its result stream, sending the JSON
    exactly as given (NaN and Infinity included, which gradio_client refuses to encode).

    -> ("ok", outputs) | ("error", message or None) | ("http", status code) | ("down", reason)
    """
    import httpx

    body = json.dumps({"data": data, **({"session_hash": session_hash} if session_hash else {})})
    try:
        with httpx.Client(timeout=timeout) as http:
            response = http.post(f"{url}/gradio_api/call/{endpoint}", content=body,
                                 headers={"Content-Type": "application/json"})
            if response.status_code != 200:
                return "http", response.status_code
            event_id = response.json()["event_id"]
            stream = http.get(f"{url}/gradio_api/call/{endpoint}/{event_id}")
    except (httpx.HTTPError, OSError) as exc:
        return "down", repr(exc)
    event, payload = None, None
    for line in stream.text.splitlines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event in ("complete", "error"):
            payload = json.loads(line.split(":", 1)[1].strip() or "null")
            break
    if event == "complete":
        return "ok", payload
    if event == "error":
        return "error", (payload or {}).get("error") if isinstance(payload, dict) else payload
    return "down", f"no result in the stream: {stream.text[:200]!r}"


def raw_get(url: str, path: str, *, timeout: float = 30.0) -> tuple[int, bytes]:
    import httpx

    try:
        response = httpx.get(f"{url}{path}", timeout=timeout)
    except (httpx.HTTPError, OSError):
        return 0, b""
    return response.status_code, response.content


def client(url: str):
    from gradio_client import Client

    # gradio_client's default 5 s read timeout is shorter than a page start takes when thirty
    # sessions open at once on two cores: wait, and let the latency figures tell how long.
    return Client(url, analytics_enabled=False, verbose=False, httpx_kwargs={"timeout": 120})


# Gradio's reply when a handler raised something that was not a user error.
GENERIC_ERRORS = ("has not enabled verbose error reporting", "None")


def client_outcome(call) -> tuple[str, object]:
    """Run a gradio_client call -> ("ok", result) | ("error", message) | ("crash", what)."""
    import httpx
    from gradio_client.exceptions import AppError

    try:
        return "ok", call()
    except AppError as exc:
        message = str(exc)
        if not message or any(text in message for text in GENERIC_ERRORS):
            return "crash", f"error without a message: {message!r}"
        return "error", message
    except httpx.HTTPStatusError as exc:
        code = exc.response.status_code
        return ("error" if 400 <= code < 500 else "crash"), f"HTTP {code}: {exc.response.text[:200]}"
    except (httpx.TransportError, TimeoutError, ConnectionError) as exc:
        return "crash", f"no answer: {exc!r}"
    except Exception as exc:  # noqa: BLE001 - whatever the client raised is the outcome
        text = str(exc)
        if "413" in text or "too large" in text.lower() or "exceeds" in text.lower():
            return "error", text[:300]
        return "crash", f"{type(exc).__name__}: {text[:300]}"


# ================================================================ bad inputs

@dataclass(frozen=True)
class File:
    """An argument that is a file to upload, built by FILES[name]."""
    name: str


@dataclass(frozen=True)
class BadInput:
    name: str
    endpoint: str                   # api_name without the slash, or "GET <path>" for a plain request
    args: tuple = ()
    expect: str = "error"           # "error": a clear message; "ok": a normal answer (the input is odd but fine)
    match: str | None = None        # a regex the message (or the answer's text) must contain
    raw: bool = False               # send as raw JSON (NaN, Infinity, missing arguments)
    setup: tuple | None = None      # (endpoint, args) sent first in the same session, e.g. an upload


NAN, INF = float("nan"), float("inf")
LIVE = "/genexplorer/live"
Z16 = (0.0,) * 16


def _payload(pixels) -> str:
    from .ui.canvas import encode_payload

    return encode_payload(np.asarray(pixels, dtype=np.uint8))


def _digit(size: int = 112) -> np.ndarray:
    from PIL import Image, ImageDraw

    picture = Image.new("L", (size, size), 0)
    ImageDraw.Draw(picture).line([(size * 0.27, size * 0.18), (size * 0.71, size * 0.18), (size * 0.4, size * 0.85)],
                                 fill=255, width=max(2, size // 14))
    return np.asarray(picture)


def _train(name="mnist-tort-bad", family="vae", dataset="mnist", zip_file=None, latent=2, epochs=1, batch=128, lr=0,
           seed=0, beta=1.0, noise="mixed", noise_level=0.5, device="cpu", overwrite=False, processes=1) -> tuple:
    return (name, family, dataset, zip_file, latent, epochs, batch, lr, seed, beta, noise, noise_level, device, overwrite,
            processes)


UPLOAD_SETUP = ("upload", (File("digit.png"), "mnist"))
NOISE_SETUP = ("noise_upload", (File("digit.png"), "mnist"))

CATALOGUE: list[BadInput] = [
    # ---- the drawing canvas (/draw carries the canvas as JSON text)
    BadInput("empty canvas", "draw", ("", "mnist", -1), expect="ok", match="Draw in the black box"),
    BadInput("black canvas (nothing drawn)", "draw", (_payload(np.zeros((112, 112))), "mnist", -1), expect="ok",
             match="Draw in the black box"),
    BadInput("full canvas (all ink)", "draw", (_payload(np.full((112, 112), 255)), "mnist", -1), expect="ok", match="blank"),
    BadInput("one-pixel scribble", "draw", (_payload(np.pad([[255]], ((50, 61), (50, 61)))), "fashion", -1), expect="ok"),
    BadInput("canvas: malformed JSON", "draw", ("{not json", "mnist", -1), match="malformed"),
    BadInput("canvas: JSON null", "draw", ("null", "mnist", -1), match="malformed"),
    BadInput("canvas: JSON list", "draw", ("[1, 2, 3]", "mnist", -1), match="malformed"),
    BadInput("canvas: size does not match data", "draw",
             (json.dumps({"w": 112, "h": 112, "data": "AAAA"}), "mnist", -1), match="wrong size"),
    BadInput("canvas: 10^9 x 10^9", "draw", (json.dumps({"w": 10 ** 9, "h": 10 ** 9, "data": ""}), "mnist", -1),
             match="wrong size"),
    BadInput("canvas: negative size", "draw", (json.dumps({"w": -112, "h": -112, "data": ""}), "mnist", -1),
             match="wrong size"),
    BadInput("canvas: NaN width", "draw", ('{"w": NaN, "h": 112, "data": ""}', "mnist", -1), match="malformed"),
    BadInput("canvas: not base64", "draw", (json.dumps({"w": 8, "h": 8, "data": "!!!!"}), "mnist", -1), match="malformed"),
    BadInput("canvas: 300 kB of data", "draw", ("x" * 300_000, "mnist", -1), match="too large"),
    BadInput("canvas: a number instead of text", "draw", (12345, "mnist", -1), match="malformed", raw=True),
    BadInput("unknown dataset '../../etc'", "draw", (_payload(_digit()), "../../etc", -1), match="choices"),
    BadInput("CVAE class 99", "draw", (_payload(_digit()), "mnist", 99), match="choices"),
    BadInput("missing arguments", "draw", (), match="input values|argument", raw=True),
    BadInput("example index -1", "draw_example", (-1, "mnist", -1), match="between"),
    BadInput("example index 10^12", "draw_example", (10 ** 12, "mnist", -1), match="between"),
    BadInput("example index Infinity", "draw_example", (INF, "mnist", -1), match="finite|number", raw=True),
    BadInput("example index NaN", "draw_example", (NAN, "mnist", -1), match="finite|number", raw=True),
    BadInput("example index as text", "draw_example", ("seven", "mnist", -1), match="number", raw=True),
    # ---- noise
    BadInput("noise level NaN", "noise", ("mnist", "gaussian", NAN, 0), match="level|finite|number", raw=True,
             setup=NOISE_SETUP),
    BadInput("noise level Infinity", "noise", ("mnist", "gaussian", INF, 0), match="maximum|finite", raw=True,
             setup=NOISE_SETUP),
    BadInput("noise level -1", "noise", ("mnist", "masking", -1, 0), match="minimum", setup=NOISE_SETUP),
    BadInput("noise level 1e300", "noise", ("mnist", "salt_pepper", 1e300, 0), match="maximum", setup=NOISE_SETUP),
    BadInput("noise seed 2^70", "noise", ("mnist", "gaussian", 0.3, 2 ** 70), match="seed", setup=NOISE_SETUP),
    BadInput("noise seed -5", "noise", ("mnist", "gaussian", 0.3, -5), match="minimum", setup=NOISE_SETUP),
    BadInput("noise kind 'boil'", "noise", ("mnist", "boil", 0.3, 0), match="choices", setup=NOISE_SETUP),
    # ---- latent sliders
    BadInput("slider NaN", "slide", ("mnist-vae", None, *([NAN] * 16)), match="latent value", raw=True),
    BadInput("slider Infinity", "slide", ("mnist-vae", None, *([INF] * 16)), match="maximum|finite", raw=True),
    BadInput("slider -Infinity", "slide", ("mnist-vae", None, *([-INF] * 16)), match="minimum|finite", raw=True),
    BadInput("slider 1e30", "slide", ("mnist-vae", None, *([1e30] * 16)), match="maximum"),
    BadInput("slider label Infinity", "slide", ("mnist-cvae", INF, *Z16), match="choices|finite|class", raw=True),
    BadInput("checkpoint '../../etc/passwd'", "slide", ("../../etc/passwd", None, *Z16), match="choices|not a valid"),
    BadInput("checkpoint '/etc' (absolute)", "slide", ("/etc", None, *Z16), match="choices|not a valid"),
    BadInput("checkpoint '../outside' (a real folder)", "slide", ("../outside", None, *Z16), match="choices|not a valid"),
    BadInput("checkpoint whose weights do not match its config", "slide", ("mnist-zmismatch", None, *Z16),
             match="do not match"),
    BadInput("checkpoint whose weights are a pickle carrying code", "slide", ("mnist-zpickle", None, *Z16),
             match="not a safetensors"),
    BadInput("checkpoint whose config is not JSON", "slide", ("mnist-zbadjson", None, *Z16), match="choices|JSON"),
    BadInput("latent walk: unknown start", "slider_start", ("mnist-vae", "sideways", 0, None), match="choices"),
    BadInput("latent walk: seed Infinity", "slider_start", ("mnist-vae", "random", INF, None), match="finite|number",
             raw=True),
    BadInput("latent walk from a drawing with a GAN", "slider_start", ("mnist-gan", "drawing", 0, None),
             match="draw something|no encoder"),
    BadInput("randomise the rest: seed NaN", "slider_rest", ("mnist-gan", NAN, None, *Z16), match="finite|number",
             raw=True),
    # ---- maps
    BadInput("map of a GAN", "map", ("mnist-gan", "pca"), match="choices|no encoder"),
    BadInput("map method 'tsne'", "map", ("mnist-vae", "tsne"), match="choices"),
    BadInput("map click: garbage", "map_click", ("garbage", "mnist", "mnist-vae"), match="could not be read"),
    BadInput("map click: NaN coordinates", "map_click",
             ('{"plot": "ge-map-vae2d", "x": NaN, "y": 1e308}', "mnist", "mnist-vae"), match="could not be read|finite"),
    BadInput("map click: unknown plot", "map_click", ('{"plot": "../../x", "x": 0, "y": 0}', "mnist", "mnist-vae"),
             match="unknown map"),
    BadInput("map click: test index 10^9", "map_click",
             ('{"plot": "ge-map-any", "x": 0, "y": 0, "index": 1000000000}', "mnist", "mnist-vae"), match="not in the test set"),
    # ---- interpolation and generation
    BadInput("interpolate: 10^6 steps", "interpolate", ("1", 0, "7", 0, 10 ** 6, "mnist"), match="maximum"),
    BadInput("interpolate: NaN steps", "interpolate", ("1", 0, "7", 0, NAN, "mnist"), match="steps", raw=True),
    BadInput("interpolate: index NaN", "interpolate", ("1", NAN, "7", 0, 5, "mnist"), match="index|number|finite", raw=True),
    BadInput("interpolate: from a drawing never drawn", "interpolate", ("drawing", 0, "7", 0, 5, "mnist"),
             match="draw something"),
    BadInput("export GIF: 0 steps", "interpolate_gif", ("1", 0, "7", 0, 0, "mnist"), match="minimum"),
    BadInput("GAN tour: 10^9 stops", "gan_tour", ("mnist", 0, 10 ** 9, 8), match="maximum"),
    BadInput("GAN tour: seed -1", "gan_tour", ("mnist", -1, 4, 8), match="minimum"),
    BadInput("VAE samples: 10^7", "generate_vae", ("mnist", 10 ** 7, 0), match="maximum"),
    BadInput("VAE samples: NaN", "generate_vae", ("mnist", NAN, 0), match="number of samples|finite", raw=True),
    BadInput("VAE samples: seed Infinity", "generate_vae", ("mnist", 10, INF), match="finite|number", raw=True),
    BadInput("VAE samples: seed NaN", "generate_vae", ("mnist", 10, NAN), match="finite|number", raw=True),
    BadInput("GAN samples: seed -5", "generate_gan", ("mnist", 10, -5), match="minimum"),
    BadInput("CVAE grid: 10^9 styles", "generate_cvae", ("mnist", 10 ** 9, 0), match="maximum"),
    BadInput("no such endpoint", "nothing_here", (), match="", raw=True),
    # ---- uploads (/upload and /noise_upload)
    BadInput("upload: empty file", "upload", (File("empty.png"), "mnist"), match="empty"),
    BadInput("upload: 1x1 picture", "upload", (File("one.png"), "mnist"), match="blank"),
    BadInput("upload: 9000x9000 picture", "upload", (File("huge.png"), "mnist"), match="megapixels"),
    BadInput("upload: header claims 100000x100000", "upload", (File("liar.png"), "mnist"), match="megapixels|too large"),
    BadInput("upload: 16-bit greyscale", "upload", (File("sixteen.png"), "mnist"), expect="ok"),
    BadInput("upload: CMYK JPEG", "upload", (File("cmyk.jpg"), "fashion"), expect="ok"),
    BadInput("upload: palette with transparency", "upload", (File("palette.png"), "mnist"), expect="ok"),
    BadInput("upload: animated GIF", "upload", (File("animated.gif"), "mnist"), expect="ok"),
    BadInput("upload: 1-bit TIFF", "noise_upload", (File("bilevel.tif"), "mnist"), expect="ok"),
    BadInput("upload: blank white page", "upload", (File("white.png"), "mnist"), match="blank"),
    BadInput("upload: truncated PNG", "upload", (File("truncated.png"), "mnist"), match="damaged|truncated"),
    BadInput("upload: PDF renamed .png", "upload", (File("homework.png"), "mnist"), match="not a picture"),
    BadInput("upload: executable renamed .png", "upload", (File("tool.png"), "mnist"), match="not a picture"),
    BadInput("upload: SVG", "noise_upload", (File("drawing.svg"), "mnist"), match="not a picture"),
    BadInput("upload: 25 MB file", "upload", (File("big.png"), "mnist"), match="large|exceeds|413|limit"),
    BadInput("upload: 25 MB file sent past the client's own check", "upload", (File("big.png"), "mnist"),
             match="413", raw=True),
    BadInput("inpaint: unknown mask", "inpaint", (None, "everything", "mnist"), match="choices", setup=UPLOAD_SETUP),
    BadInput("inpaint: nothing painted", "inpaint", (None, "painted", "mnist"), match="paint", setup=UPLOAD_SETUP),
    # ---- training from the page
    BadInput("train: name '../../etc'", "train_start", _train(name="../../etc"), match="name"),
    BadInput("train: absolute name", "train_start", _train(name="/tmp/evil"), match="name"),
    BadInput("train: over a shipped checkpoint", "train_start", _train(name="mnist-vae"), match="exists"),
    BadInput("train: data folder '/etc'", "train_start", _train(dataset="/etc"), match="choices"),
    BadInput("train: epochs NaN", "train_start", _train(epochs=NAN), match="finite|whole number", raw=True),
    BadInput("train: epochs Infinity", "train_start", _train(epochs=INF), match="maximum|finite", raw=True),
    BadInput("train: epochs -3", "train_start", _train(epochs=-3), match="minimum"),
    BadInput("train: epochs 10^9", "train_start", _train(epochs=10 ** 9), match="maximum"),
    BadInput("train: batch size 0", "train_start", _train(batch=0), match="minimum"),
    BadInput("train: batch size 10^9", "train_start", _train(batch=10 ** 9), match="maximum"),
    BadInput("train: 1,000 processes", "train_start", _train(processes=1000), match="maximum|processes"),
    BadInput("train: 0 processes", "train_start", _train(processes=0), match="minimum|processes"),
    BadInput("train: latent size 0", "train_start", _train(latent=0), match="minimum"),
    BadInput("train: latent size 10^6", "train_start", _train(latent=10 ** 6), match="maximum"),
    BadInput("train: learning rate NaN", "train_start", _train(lr=NAN), match="finite|learning rate", raw=True),
    BadInput("train: learning rate -1", "train_start", _train(lr=-1), match="minimum"),
    BadInput("train: beta Infinity", "train_start", _train(beta=INF), match="maximum|finite", raw=True),
    BadInput("train: noise level NaN", "train_start", _train(family="dae", noise_level=NAN), match="noise level|finite",
             raw=True),
    BadInput("train: family 'rm -rf'", "train_start", _train(family="rm -rf"), match="choices"),
    BadInput("train: device cuda:7", "train_start", _train(device="cuda:7"), match="choices"),
    BadInput("train: .zip that is not a zip", "train_start", _train(dataset="zip", zip_file=File("fake.zip")),
             match="not a readable"),
    BadInput("train: zip bomb", "train_start", _train(dataset="zip", zip_file=File("bomb.zip")), match="MB|bomb"),
    BadInput("train: zip with ../ paths", "train_start", _train(dataset="zip", zip_file=File("slip.zip")),
             match="outside"),
    BadInput("train: zip with a link out", "train_start", _train(dataset="zip", zip_file=File("link.zip")),
             match="outside"),
    BadInput("train: status of run '../../etc'", "train_status", ("../../etc",), expect="ok", match="no run"),
    BadInput("train: cancel run '../../etc'", "train_cancel", ("../../etc",), match="choices|no run"),
    # ---- the live preview routes (ui/live.py: plain JSON posts, no Gradio checks in front)
    BadInput("live slide: not JSON", f"POST {LIVE}/slide", ("{not json",), match="not JSON"),
    BadInput("live slide: a JSON list", f"POST {LIVE}/slide", ("[1, 2]",), match="JSON object"),
    BadInput("live slide: 400 kB body", f"POST {LIVE}/slide", ("x" * 400_000,), match="too large"),
    BadInput("live slide: checkpoint '../../etc'", f"POST {LIVE}/slide",
             (json.dumps({"model": "../../etc", "label": None, "latent": [], "values": [0.0] * 16}),), match="not a valid"),
    BadInput("live slide: pickle checkpoint", f"POST {LIVE}/slide",
             (json.dumps({"model": "mnist-zpickle", "label": None, "latent": [], "values": [0.0] * 16}),),
             match="not a safetensors"),
    BadInput("live slide: NaN values", f"POST {LIVE}/slide",
             ('{"model": "mnist-vae", "label": null, "latent": [], "values": [' + ", ".join(["NaN"] * 16) + "]}",),
             match="latent value"),
    BadInput("live slide: text values", f"POST {LIVE}/slide",
             (json.dumps({"model": "mnist-vae", "label": None, "latent": [], "values": ["x"] * 16}),), match="latent value"),
    BadInput("live slide: class 1e308", f"POST {LIVE}/slide",
             (json.dumps({"model": "mnist-cvae", "label": 1e308, "latent": [], "values": [0.0] * 16}),), match="class"),
    BadInput("live slide: 17 values", f"POST {LIVE}/slide",
             (json.dumps({"model": "mnist-vae", "label": None, "latent": [], "values": [0.0] * 17}),), match="lists"),
    BadInput("live draw: dataset '../../etc'", f"POST {LIVE}/draw",
             (json.dumps({"payload": _payload(_digit()), "dataset": "../../etc"}),), match="unknown dataset"),
    BadInput("live draw: canvas 10^9 x 10^9", f"POST {LIVE}/draw",
             (json.dumps({"payload": json.dumps({"w": 10 ** 9, "h": 10 ** 9, "data": ""}), "dataset": "mnist"}),),
             match="wrong size"),
    BadInput("live draw: canvas as an object", f"POST {LIVE}/draw",
             (json.dumps({"payload": {"w": 8}, "dataset": "mnist"}),), match="malformed"),
    BadInput("live draw: CVAE class 'seven'", f"POST {LIVE}/draw",
             # answered with Python's own "invalid literal for int()": a message, if not a friendly one
             # (a clearer one is proposed in .torture-requests.md)
             (json.dumps({"payload": _payload(_digit()), "dataset": "mnist", "cvae_class": "seven"}),), match="."),
    # ---- PixelCNN: sampling on Generate, completion on Complete, and the live pixels route
    BadInput("pixelcnn: 0 pictures", "pixelcnn_sample", ("mnist", 0, 0, "live"), match="number of pictures|minimum"),
    BadInput("pixelcnn: 10^9 pictures", "pixelcnn_sample", ("mnist", 1e9, 0, "live"), match="number of pictures|maximum"),
    BadInput("pixelcnn: NaN pictures", "pixelcnn_sample", ("mnist", NAN, 0, "live"), raw=True, match="."),
    BadInput("pixelcnn: seed -1", "pixelcnn_sample", ("mnist", 4, -1, "live"), match="seed|minimum"),
    BadInput("pixelcnn: pace 'warp'", "pixelcnn_sample", ("mnist", 4, 0, "warp"), match="pace|choices"),
    BadInput("pixelcnn: dataset '../../etc'", "pixelcnn_sample", ("../../etc", 4, 0, "live"), match="dataset|choices"),
    BadInput("pixelcnn result: job '../../etc'", "pixelcnn_result", ("../../etc", "mnist"), match="not a drawing job"),
    BadInput("pixelcnn result: a job never started", "pixelcnn_result", ("0" * 16, "mnist"), match="expired"),
    BadInput("complete: no picture chosen", "pixelcnn_complete", (None, "bottom", 4, 0, "live", "mnist"),
             match="choose a picture"),
    BadInput("complete: 'what I paint' with nothing painted", "pixelcnn_complete", (None, "painted", 4, 0, "live", "mnist"),
             match="paint", setup=("complete_source", ("test", 0, 0, "mnist"))),
    BadInput("complete: 0 completions", "pixelcnn_complete", (None, "bottom", 0, 0, "live", "mnist"),
             match="number of pictures|minimum", setup=("complete_source", ("test", 0, 0, "mnist"))),
    BadInput("complete: mask 'everything'", "pixelcnn_complete", (None, "everything", 4, 0, "live", "mnist"),
             match="mask|choices", setup=("complete_source", ("test", 0, 0, "mnist"))),
    BadInput("complete source: class 99", "complete_source", ("test", 99, 0, "mnist"), match="class|choices"),
    BadInput("complete source: which one 10^9", "complete_source", ("test", 0, 1e9, "mnist"), match="which|maximum"),
    BadInput("complete source: my drawing before drawing", "complete_source", ("drawing", 0, 0, "mnist"),
             match="draw something"),
    BadInput("live pixels: not JSON", f"POST {LIVE}/pixels", ("{not json",), match="not JSON"),
    BadInput("live pixels: job '../../etc'", f"POST {LIVE}/pixels", (json.dumps({"job": "../../etc"}),),
             match="not a drawing job"),
    BadInput("live pixels: a job never started", f"POST {LIVE}/pixels", (json.dumps({"job": "f" * 16}),), match="expired"),
    BadInput("live pixels: job as a number", f"POST {LIVE}/pixels", (json.dumps({"job": 12}),), match="not a drawing job"),
    # ---- plain requests for files
    BadInput("GET /etc/passwd through the file route", "GET /gradio_api/file=/etc/passwd"),
    BadInput("GET a file outside through ../", "GET /gradio_api/file=../../../../etc/passwd"),
    BadInput("GET the app's source through the file route", "GET /gradio_api/file=app.py"),
    BadInput("GET a checkpoint's weights through the file route",
             "GET /gradio_api/file=checkpoints/mnist-vae/model.safetensors"),
]


# ---------------------------------------------------------------- the files

def _png(picture) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def _digit_picture(size=200, mode="L"):
    from PIL import Image

    return Image.fromarray(255 - np.asarray(Image.fromarray(_digit(size)))).convert(mode)


def _plain(path: Path, size: tuple[int, int], mode: str, colour) -> None:
    from PIL import Image

    Image.new(mode, size, colour).save(path, format="PNG")


def _build_huge(path: Path):
    from PIL import Image

    Image.new("1", (9000, 9000), 1).save(path)


def _build_liar(path: Path):
    """A tiny PNG whose header says 100000 x 100000: decoding it would need 10 GB."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
                     + chunk(b"IEND", b""))


def _build_sixteen(path: Path):
    from PIL import Image

    array = np.asarray(_digit_picture()).astype(np.uint16) * 257
    Image.fromarray(array).save(path)   # uint16: mode I;16


def _build_palette(path: Path):
    from PIL import Image, ImageDraw

    picture = Image.new("P", (120, 120), 0)
    picture.putpalette([255, 255, 255, 0, 0, 0] + [0, 0, 0] * 254)
    ImageDraw.Draw(picture).line([(30, 20), (90, 20), (50, 100)], fill=1, width=10)
    picture.info["transparency"] = 0
    picture.save(path, transparency=0)


def _build_animated(path: Path):
    frames = [_digit_picture(120, "L").rotate(angle, fillcolor=255) for angle in (0, 10, 20)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)


def _build_bomb(path: Path):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("images/0/zeros.bin", "w", force_zip64=True) as member:
            block = b"\x00" * (1 << 20)
            for _ in range(260):           # 260 MB of zeros, about 250 kB compressed
                member.write(block)


def _build_slip(path: Path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../../evil.txt", "escaped")


def _build_link(path: Path):
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("data/link")
        info.external_attr = (0o120777 << 16)
        archive.writestr(info, "/etc/passwd")


def _build_big(path: Path):
    path.write_bytes(_png(_digit_picture()) + os.urandom(25 * 1024 * 1024))


FILES = {
    "digit.png": lambda p: p.write_bytes(_png(_digit_picture())),
    "empty.png": lambda p: p.write_bytes(b""),
    "one.png": lambda p: _plain(p, (1, 1), "L", 0),
    "huge.png": _build_huge,
    "liar.png": _build_liar,
    "sixteen.png": _build_sixteen,
    "cmyk.jpg": lambda p: _digit_picture(160, "CMYK").save(p, format="JPEG"),
    "palette.png": _build_palette,
    "animated.gif": _build_animated,
    "bilevel.tif": lambda p: _digit_picture(100, "1").save(p, format="TIFF"),
    "white.png": lambda p: _plain(p, (300, 300), "RGB", "white"),
    "truncated.png": lambda p: p.write_bytes(_png(_digit_picture(400, "RGB"))[:1500]),
    "homework.png": lambda p: p.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n" + b"0" * 500),
    "tool.png": lambda p: p.write_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 900),
    "drawing.svg": lambda p: p.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28">'
                                          '<path d="M5 5 L20 5 L10 25" stroke="black"/></svg>'),
    "big.png": _build_big,
    "fake.zip": lambda p: p.write_bytes(b"PK\x03\x04 this is not really a zip"),
    "bomb.zip": _build_bomb,
    "slip.zip": _build_slip,
    "link.zip": _build_link,
}


def build_file(folder: Path, name: str) -> Path:
    path = Path(folder) / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        FILES[name](path)
    return path


# ---------------------------------------------------------------- broken checkpoints

class _Exploit:
    """Unpickling this creates a marker file: proof that code ran."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def pickle_bomb(marker: Path) -> bytes:
    """A pickle that, if anything ever unpickled it, would create ``marker``."""
    return pickle.dumps({"state_dict": _Exploit(str(marker))})


def plant_broken_checkpoints(checkpoints_dir: Path, marker: Path) -> None:
    """Add three broken checkpoints next to the real ones: weights that do not match the
    config, a config that is not JSON, and weights that are a pickle carrying code."""
    source = Path(checkpoints_dir) / "mnist-vae"
    mismatch = Path(checkpoints_dir) / "mnist-zmismatch"
    shutil.copytree(source, mismatch, dirs_exist_ok=True)
    config = json.loads((mismatch / "config.json").read_text())
    config["model_config"]["latent_dim"] = 7
    (mismatch / "config.json").write_text(json.dumps(config))
    bad_json = Path(checkpoints_dir) / "mnist-zbadjson"
    shutil.copytree(source, bad_json, dirs_exist_ok=True)
    (bad_json / "config.json").write_text("{this is not json")
    evil = Path(checkpoints_dir) / "mnist-zpickle"
    shutil.copytree(source, evil, dirs_exist_ok=True)
    (evil / "model.safetensors").write_bytes(pickle_bomb(marker))
    (evil / "model.pt").write_bytes(pickle_bomb(marker))
    (evil / "pytorch_model.bin").write_bytes(pickle_bomb(marker))


# ---------------------------------------------------------------- the runner

@dataclass
class Outcome:
    name: str
    endpoint: str
    outcome: str            # "clear error", "handled", "crash", "wrong"
    detail: str
    seconds: float


def run_bad_inputs(app: App, catalogue: list[BadInput] = CATALOGUE, *, files_dir: Path | None = None,
                   watch: tuple[Path, ...] = (), marker: Path | None = None) -> list[Outcome]:
    """Send every bad input to the running app; after each, check the server still serves,
    printed no crash, and changed nothing in ``watch`` (and the pickle ``marker`` never appears)."""
    files_dir = Path(files_dir or app.workdir / "files")
    # The app's own checkpoints (a copy), the shipped data, and whatever the caller adds (a
    # folder outside everything, which path tricks would reach first).
    watch = (app.checkpoints_dir, ROOT / "assets", *watch)
    full_before = snapshot(*watch)
    shared = client(app.url)
    results = []
    for item in catalogue:
        before = quick_snapshot(*watch)
        log_start = app.log_size()
        started = time.perf_counter()
        outcome, detail = _send(app, item, files_dir, shared)
        seconds = time.perf_counter() - started
        problems = []
        if not app.serves():
            problems.append("the server stopped serving")
        crashes = app.crashes_in_log(log_start)
        if crashes:
            problems.append("server log: " + "; ".join(crashes))
        changed = diff(before, quick_snapshot(*watch))
        if changed:
            problems.append("disk changed: " + ", ".join(changed[:3]))
        if marker is not None and marker.exists():
            problems.append("the pickle's code ran")
        if problems:
            outcome, detail = "crash", "; ".join(problems) + f" ({detail})"
        elif outcome == "error":
            if item.expect != "error":
                outcome, detail = "wrong", f"expected a normal answer, got the error {detail!r}"
            elif item.match and not re.search(item.match, str(detail), re.I):
                outcome, detail = "wrong", f"message {detail!r} does not say /{item.match}/"
            else:
                outcome = "clear error"
        elif outcome == "ok":
            text = json.dumps(detail, default=str)
            if item.expect == "error":
                outcome, detail = "wrong", f"expected a clear error, got an answer: {text[:200]}"
            elif item.match and not re.search(item.match, text, re.I):
                outcome, detail = "wrong", f"answer does not say /{item.match}/: {text[:200]}"
            else:
                outcome, detail = "handled", text[:160]
        results.append(Outcome(item.name, item.endpoint, outcome, str(detail)[:400], seconds))
    changed = diff(full_before, snapshot(*watch))
    if changed:
        results.append(Outcome("disk unchanged after all bad inputs", "-", "crash", ", ".join(changed[:5]), 0.0))
    return results


def _send(app: App, item: BadInput, files_dir: Path, shared) -> tuple[str, object]:
    from gradio_client import handle_file

    if item.endpoint.startswith("POST "):
        import httpx

        try:
            response = httpx.post(app.url + item.endpoint[5:], content=item.args[0], timeout=60,
                                  headers={"Content-Type": "application/json"})
        except httpx.HTTPError as exc:
            return "crash", f"no answer: {exc!r}"
        if response.status_code >= 500:
            return "crash", f"HTTP {response.status_code}: {response.text[:200]}"
        if response.status_code == 200:
            return "ok", f"HTTP 200, {len(response.content)} bytes"
        try:
            message = response.json().get("error") or response.json().get("detail")
        except ValueError:
            message = None
        return ("error", f"HTTP {response.status_code}: {message}") if message else ("crash", f"HTTP {response.status_code} without a message")
    if item.endpoint.startswith("GET "):
        status, body = raw_get(app.url, item.endpoint[4:])
        if status == 0 or status >= 500:
            return "crash", f"HTTP {status}"
        if status == 200:
            return "ok", f"HTTP 200, {len(body)} bytes served"
        return "error", f"HTTP {status}"

    def resolve(value, *, raw: bool):
        if isinstance(value, File):
            path = build_file(files_dir, value.name)
            return _upload(app.url, path) if raw else handle_file(str(path))
        return value

    session = client(app.url) if item.setup else shared
    if item.setup:
        endpoint, args = item.setup
        outcome, detail = client_outcome(lambda: session.predict(*[resolve(a, raw=False) for a in args],
                                                                 api_name=f"/{endpoint}"))
        if outcome != "ok":
            return "crash", f"the setup call {endpoint} failed: {detail}"
    if item.raw:
        import httpx

        try:
            data = [resolve(a, raw=True) for a in item.args]
        except httpx.HTTPStatusError as exc:   # the upload itself was refused
            code = exc.response.status_code
            return ("error" if code < 500 else "crash"), f"upload refused: HTTP {code}: {exc.response.text[:120]}"
        outcome, detail = raw_call(app.url, item.endpoint, data, session_hash=session.session_hash)
        if item.endpoint == "nothing_here" and outcome == "http":
            return ("error" if detail < 500 else "crash"), f"HTTP {detail}"
        if outcome == "error" and not detail:
            return "crash", "error without a message"
        if outcome in ("http", "down"):
            return "crash", f"{outcome}: {detail}"
        return outcome, detail
    return client_outcome(lambda: session.predict(*[resolve(a, raw=False) for a in item.args],
                                                  api_name=f"/{item.endpoint}"))


def _upload(url: str, path: Path) -> dict:
    import httpx

    with open(path, "rb") as f:
        response = httpx.post(f"{url}/gradio_api/upload", files={"files": (path.name, f)}, timeout=60)
    response.raise_for_status()
    return {"path": response.json()[0], "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}


def summarise_bad_inputs(results: list[Outcome]) -> dict:
    counts = {kind: sum(r.outcome == kind for r in results) for kind in ("clear error", "handled", "wrong", "crash")}
    return {"tried": len(results), **counts}


# ================================================================ load

@dataclass
class UserPlan:
    """One simulated user's own inputs: a drawing, a GAN latent walk seed, slider values
    and an interpolation target, all different from every other user's."""
    index: int
    payload: str
    walk_seed: int
    sliders: tuple
    target: str
    target_index: int


def user_plans(users: int) -> list[UserPlan]:
    from .explore import examples

    pictures = [image for image, _ in examples("mnist", per_class=max(1, -(-users // 10)), offset=5)]
    plans = []
    for index in range(users):
        rng = np.random.default_rng(1000 + index)
        drawing = np.kron(pictures[index % len(pictures)], np.ones((4, 4), np.uint8))   # 28 -> 112
        plans.append(UserPlan(index, _payload(drawing), 100 + index, tuple(np.round(rng.uniform(-2, 2, 16), 2).tolist()),
                              str((index + 3) % 10), index % 7))
    return plans


def _image(path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as picture:
        return np.asarray(picture.convert("L"))


def user_session(url: str, plan: UserPlan):
    """-> (client, {action: expected picture}) after the user's first draw and walk start."""
    session = client(url)
    seen = session.predict(plan.payload, "mnist", -1, api_name="/draw")[0]
    start = session.predict("mnist-gan", "random", plan.walk_seed, None, api_name="/slider_start")
    return session, {"draw": _image(seen), "start": _image(start[0])}


ACTIONS = ("draw", "slide", "interpolate")


def _act(session, plan: UserPlan, action: str) -> np.ndarray:
    if action == "draw":
        return _image(session.predict(plan.payload, "mnist", -1, api_name="/draw")[0])
    if action == "slide":
        return _image(session.predict("mnist-gan", None, *plan.sliders, api_name="/slide"))
    return _image(session.predict("drawing", 0, plan.target, plan.target_index, 8, "mnist", api_name="/interpolate")[0])


def run_load(app: App, *, users: int = 30, seconds: float = 60.0, think_s: float = 0.2, log=print) -> dict:
    """N users at once for ``seconds``; each answer must equal the user's own reference."""
    plans = user_plans(users)
    # The reference: each user's answers, one user at a time, with nobody else around.
    reference = {}
    for plan in plans:
        session, expected = user_session(app.url, plan)
        for action in ACTIONS:
            expected[action] = _act(session, plan, action)
        reference[plan.index] = expected
    distinct = {action: len({reference[i][action].tobytes() for i in reference}) for action in ACTIONS}
    log(f"reference pass done: distinct answers per action {distinct} for {users} users")

    latencies: dict[str, list[float]] = {action: [] for action in (*ACTIONS, "start")}
    errors: list[str] = []
    crosstalk: list[str] = []
    lock = threading.Lock()
    samples: list[tuple[float, float, int]] = []
    barrier = threading.Barrier(users + 1)
    deadline = [0.0]

    def user(plan: UserPlan):
        rng = random.Random(plan.index)
        try:
            barrier.wait(120)
        except threading.BrokenBarrierError:
            return
        try:
            started = time.perf_counter()
            session, first = user_session(app.url, plan)
            with lock:
                latencies["start"].append((time.perf_counter() - started) * 1000)
            if not np.array_equal(first["start"], reference[plan.index]["start"]):
                with lock:
                    crosstalk.append(f"user {plan.index}: latent walk start")
            while time.time() < deadline[0]:
                action = rng.choice(ACTIONS)
                started = time.perf_counter()
                try:
                    got = _act(session, plan, action)
                except Exception as exc:  # noqa: BLE001 - every failure is counted
                    with lock:
                        errors.append(f"user {plan.index} {action}: {type(exc).__name__}: {str(exc)[:200]}")
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies[action].append(elapsed)
                    if not np.array_equal(got, reference[plan.index][action]):
                        crosstalk.append(f"user {plan.index}: {action}")
                time.sleep(rng.uniform(0, 2 * think_s))
        except Exception as exc:  # noqa: BLE001
            with lock:
                errors.append(f"user {plan.index} session: {type(exc).__name__}: {str(exc)[:200]}")

    threads = [threading.Thread(target=user, args=(plan,), daemon=True) for plan in plans]
    for thread in threads:
        thread.start()
    rss_start, files_start, cpu_start = app.rss_mb(), app.temp_files(), app.cpu_s()
    deadline[0] = time.time() + seconds
    barrier.wait(120)
    t0 = time.time()
    while any(thread.is_alive() for thread in threads) and time.time() < deadline[0] + 120:
        samples.append((time.time() - t0, app.rss_mb(), app.temp_files()))
        time.sleep(1.0)
    for thread in threads:
        thread.join(1)
    rss_end, files_end, cpu_used = app.rss_mb(), app.temp_files(), app.cpu_s() - cpu_start
    middle = min(samples, key=lambda s: abs(s[0] - seconds / 2)) if samples else (0, rss_start, files_start)
    all_ms = sorted(ms for values in latencies.values() for ms in values)

    def stats(values):
        values = sorted(values)
        if not values:
            return {"n": 0, "median_ms": float("nan"), "p95_ms": float("nan")}
        return {"n": len(values), "median_ms": statistics.median(values),
                "p95_ms": values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]}

    # Memory "growth": the second half of the run against the first (warm-up allocations
    # land early; a leak keeps climbing).
    half = [s[1] for s in samples if s[0] >= seconds / 2] or [rss_end]
    first = [s[1] for s in samples if s[0] < seconds / 2] or [rss_start]
    return {
        "users": users, "seconds": seconds, "requests": len(all_ms), "requests_per_s": len(all_ms) / max(seconds, 1e-9),
        "app_cpu_ms_per_request": 1000 * cpu_used / max(len(all_ms), 1), "machine_load_average": os.getloadavg(),
        "errors": len(errors), "error_examples": errors[:5], "crosstalk": len(crosstalk), "crosstalk_examples": crosstalk[:5],
        "latency": stats(all_ms), "by_action": {action: stats(values) for action, values in latencies.items()},
        "rss_mb": {"start": rss_start, "middle": middle[1], "end": rss_end, "max": max([s[1] for s in samples] or [rss_end]),
                   "first_half_max": max(first), "second_half_max": max(half)},
        "temp_files": {"start": files_start, "middle": middle[2], "end": files_end},
        "distinct_reference_answers": distinct,
    }


# ================================================================ faults

def _run_id(value) -> str:
    return value["value"] if isinstance(value, dict) else value


def tiny_dataset_zip(path: Path, *, train: int = 256, test: int = 64) -> Path:
    """A .zip of IDX files holding the first shipped MNIST digits: the page's "my .zip" data,
    small enough that an epoch takes a second, for fault runs that must reach a save quickly."""
    import struct

    from .data import load_dataset

    def idx(array: np.ndarray) -> bytes:
        kind = 0x08  # unsigned bytes
        return struct.pack(">BBBB", 0, 0, kind, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) \
            + np.ascontiguousarray(array, dtype=np.uint8).tobytes()

    path = Path(path)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for split, prefix, count in (("train", "train", train), ("test", "t10k", test)):
            images, labels = load_dataset("mnist", split)
            archive.writestr(f"tiny/{prefix}-images-idx3-ubyte", idx(images[:count]))
            archive.writestr(f"tiny/{prefix}-labels-idx1-ubyte", idx(labels[:count]))
    return path


def start_run(app: App, name: str, *, epochs: int, overwrite: bool = False, latent: int = 2,
              data_zip: Path | None = None):
    """Queue a run from the page -> (the session that started it, run id). ``data_zip``: train
    on that uploaded .zip instead of the shipped digits."""
    from gradio_client import handle_file

    session = client(app.url)
    data = dict(dataset="zip", zip_file=handle_file(str(data_zip))) if data_zip else {}
    run, message = session.predict(*_train(name=name, epochs=epochs, overwrite=overwrite, latent=latent, **data),
                                   api_name="/train_start")
    if "Queued" not in message:
        raise RuntimeError(f"run {name} was not queued: {message}")
    return session, _run_id(run)


def page_state(session, run_id: str) -> str:
    """The run's state as the page shows it (the data-state of its progress box). ``session``
    must know the run: the one that started it, or one opened after the run began."""
    found = re.search(r"data-state='(\w+)'", session.predict(run_id, api_name="/train_status")[0])
    return found.group(1) if found else "?"


def job_file(app: App, run_id: str) -> dict:
    return json.loads((app.runs_dir / run_id / "job.json").read_text())


def train_status(app: App, run_id: str) -> dict:
    try:
        return json.loads((app.runs_dir / run_id / "status.json").read_text())
    except (OSError, ValueError):
        return {}


def wait_until(predicate, timeout: float, what: str, poll: float = 0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def wait_for_page_state(session, run_id: str, states=("done", "failed", "cancelled"), timeout=300.0) -> str:
    return wait_until(lambda: (lambda s: s if s in states else None)(page_state(session, run_id)), timeout,
                      f"run {run_id} to reach {states}", poll=1.0)


def checkpoint_fingerprint(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).iterdir()) if p.is_file()}


def loads_and_decodes(folder: Path) -> bool:
    import torch

    from . import checkpoints

    model = checkpoints.load(folder)
    with torch.inference_mode():
        out = model.decode(torch.zeros(1, model.latent_dim))
    return bool(torch.isfinite(out).all())


def _temporaries(app: App) -> list[str]:
    return sorted(p.name for p in app.checkpoints_dir.iterdir() if p.name.startswith(".") and ".tmp-" in p.name)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def fault_kill_training(app: App, *, moments=("mid-epoch", "mid-save"), name="mnist-tortured", data_zip=None,
                        log=print) -> dict:
    """A finished checkpoint, then runs that overwrite it killed at the given moments: each
    kill must leave the old checkpoint intact and loadable, the page must say failed, and
    a next run must work."""
    folder = app.checkpoints_dir / name
    session, first = start_run(app, name, epochs=1, data_zip=data_zip)
    if wait_for_page_state(session, first) != "done":
        raise RuntimeError(f"the first run failed: {train_status(app, first).get('message')}")
    good = checkpoint_fingerprint(folder)
    kills = []
    for moment in moments:
        marker = app.faults_dir / "kill_in_save"
        if moment == "mid-save":
            marker.touch()      # the trainer kills itself half way through writing the weights
        try:
            # mid-epoch: long enough that the kill lands while it trains; mid-save: the first save dies
            session, run = start_run(app, name, epochs=200 if moment == "mid-epoch" else 3, overwrite=True,
                                     data_zip=data_zip)
            wait_until(lambda: train_status(app, run).get("state") == "running", 120, "training to start")
            if moment == "mid-epoch":
                time.sleep(random.uniform(0.3, 2.5))
                _kill(job_file(app, run)["pid"])
            state = wait_for_page_state(session, run, timeout=180)
        finally:
            marker.unlink(missing_ok=True)
        intact = checkpoint_fingerprint(folder) == good
        kills.append({"moment": moment, "page_state": state, "message": job_file(app, run).get("message", ""),
                      "old_checkpoint_intact": intact, "loads": loads_and_decodes(folder)})
        log(f"killed {moment}: page says {state}; old checkpoint intact {intact}")
    # A save killed mid-write leaves its temporary folder (hidden, never listed or loaded);
    # the next save anywhere in checkpoints/ removes it.
    after_kills = _temporaries(app)
    session, after = start_run(app, name + "-next", epochs=1, data_zip=data_zip)
    next_state = wait_for_page_state(session, after)
    return {"kills": kills, "temporary_folders_after_kills": after_kills,
            "temporary_folders_left": _temporaries(app), "next_run": next_state,
            "next_run_loads": next_state == "done" and loads_and_decodes(app.checkpoints_dir / (name + "-next"))}


def fault_app_restart(app: App, *, name="mnist-survivor", data_zip=None, log=print) -> dict:
    """Kill the app (SIGKILL) while a run goes on and start it again: the page must show the
    run as running. Kill the app again, and the run while the app is down: the page must
    then show it failed, not still running."""
    _, run = start_run(app, name, epochs=200, data_zip=data_zip)
    wait_until(lambda: train_status(app, run).get("state") == "running", 120, "training to start")
    app.stop(signal.SIGKILL)
    app.start()
    while_running = page_state(client(app.url), run)
    log(f"app restarted during the run: page says {while_running}")
    app.stop(signal.SIGKILL)
    trainer = job_file(app, run)["pid"]
    _kill(trainer)
    wait_until(lambda: not Path(f"/proc/{trainer}/cmdline").exists() or not Path(f"/proc/{trainer}/cmdline").read_bytes(),
               30, "the trainer to die")
    app.start()
    after_death = wait_for_page_state(client(app.url), run, timeout=30)
    log(f"run killed while the app was down: page says {after_death}")
    return {"page_state_after_restart": while_running, "page_state_after_run_died_while_down": after_death}


def fault_disk_full(app: App, *, name="mnist-diskfull", data_zip=None, log=print) -> dict:
    """A finished checkpoint, then a run over it whose weight file hits a full disk: the page
    says failed with a message about the disk, the old checkpoint stays as it was, and no
    half-written folder is left."""
    folder = app.checkpoints_dir / name
    session, first = start_run(app, name, epochs=1, data_zip=data_zip)
    if wait_for_page_state(session, first) != "done":
        raise RuntimeError("the first run failed")
    good = checkpoint_fingerprint(folder)
    marker = app.faults_dir / "disk_full"
    marker.touch()
    try:
        session, run = start_run(app, name, epochs=1, overwrite=True, data_zip=data_zip)
        state = wait_for_page_state(session, run)
    finally:
        marker.unlink(missing_ok=True)
    message = job_file(app, run).get("message", "")
    result = {"page_state": state, "message": message, "old_checkpoint_intact": checkpoint_fingerprint(folder) == good,
              "temporary_folders_left": _temporaries(app), "loads": loads_and_decodes(folder)}
    log(f"disk full: page says {state}: {message!r}")
    return result


def fault_disk_full_real(workdir: Path) -> dict:
    """The same with a real write failure from the OS: the trainer runs with RLIMIT_FSIZE so
    every file it writes past 64 kB fails (EFBIG), as a full disk would."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / "ck" / "mnist-fsize"
    status = workdir / "fsize-status.json"
    code = ("import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
            "resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536)); "
            "from genexplorer import train; sys.exit(train.main(sys.argv[1:]))")
    process = subprocess.run([sys.executable, "-c", code, "--model", "vae", "--dataset", "mnist", "--latent-dim", "2",
                              "--epochs", "1", "--max-steps", "3", "--threads", "1", "--no-latent-maps",
                              "--out", str(out), "--log-dir", str(workdir / "fsize-log"), "--status-file", str(status)],
                             cwd=ROOT, capture_output=True, text=True, timeout=300,
                             env=dict(os.environ, PYTHONPATH=str(ROOT)))
    data = json.loads(status.read_text()) if status.exists() else {}
    left = sorted(p.name for p in out.parent.iterdir()) if out.parent.exists() else []
    return {"exit_code": process.returncode, "state": data.get("state"), "message": data.get("message", ""),
            "traceback": "Traceback" in process.stderr, "left_in_checkpoints": left}


def fault_missing_fashion(app: App) -> dict:
    """The app started without the full Fashion-MNIST: asking to train on it says how to
    install it at once, and the Fashion tabs (which use the shipped test set) still work."""
    from gradio_client import handle_file

    session = client(app.url)
    outcome, message = client_outcome(lambda: session.predict(*_train(name="fashion-notthere", dataset="fashion"),
                                                              api_name="/train_start"))
    works = []
    for endpoint, args in (("draw", (_payload(_digit()), "fashion", -1)), ("generate_vae", ("fashion", 10, 0)),
                           ("interpolate", ("1", 0, "7", 0, 5, "fashion")), ("upload", (File("cmyk.jpg"), "fashion"))):
        args = tuple(handle_file(str(build_file(app.workdir / "files", a.name))) if isinstance(a, File) else a
                     for a in args)
        works.append((endpoint, client_outcome(lambda: session.predict(*args, api_name=f"/{endpoint}"))[0]))
    return {"train_outcome": outcome, "train_message": str(message)[:300], "other_tabs": works}


def fault_queue_cap(app: App) -> dict:
    """More runs than the queue holds: the extra one is refused with a message, and
    cancelling clears them."""
    from .jobs import MAX_QUEUED

    runs, refused = [], None
    for index in range(MAX_QUEUED + 1):
        session = client(app.url)
        outcome, value = client_outcome(lambda: session.predict(*_train(name=f"mnist-queue{index}", epochs=200),
                                                                api_name="/train_start"))
        if outcome == "ok":
            runs.append((session, _run_id(value[0])))
        else:
            refused = value
            break
    for session, run in runs:
        session.predict(run, api_name="/train_cancel")
    for _, run in runs:
        wait_until(lambda: job_file(app, run)["state"] in ("cancelled", "done", "failed"), 60, "the cancel")
    return {"accepted": len(runs), "refused_message": refused}


def fault_failures(faults: dict) -> list[str]:
    """What went wrong in the fault runs, as sentences (empty: all well)."""
    out = []
    if "missing_fashion" in faults:
        result = faults["missing_fashion"]
        if "apt-get install" not in result["train_message"] or any(o != "ok" for _, o in result["other_tabs"]):
            out.append(f"missing dataset: {result}")
    if "kill_training" in faults:
        result = faults["kill_training"]
        for kill in result["kills"]:
            if kill["page_state"] != "failed" or not kill["old_checkpoint_intact"] or not kill["loads"]:
                out.append(f"killed training: {kill}")
        if result["temporary_folders_left"] or result["next_run"] != "done" or not result["next_run_loads"]:
            out.append(f"after the kills: {result}")
    if "disk_full" in faults:
        result = faults["disk_full"]
        if (result["page_state"] != "failed" or "No space left" not in result["message"]
                or not result["old_checkpoint_intact"] or result["temporary_folders_left"]):
            out.append(f"disk full: {result}")
    if "disk_full_os" in faults:
        result = faults["disk_full_os"]
        if result["state"] != "failed" or result["traceback"] or any(n.startswith(".") for n in result["left_in_checkpoints"]):
            out.append(f"disk full (OS): {result}")
    if "queue_cap" in faults and "already waiting" not in str(faults["queue_cap"]["refused_message"]):
        out.append(f"queue cap: {faults['queue_cap']}")
    if "app_restart" in faults and faults["app_restart"] != {"page_state_after_restart": "running",
                                                              "page_state_after_run_died_while_down": "failed"}:
        out.append(f"app restart: {faults['app_restart']}")
    return out


# ================================================================ safety outside the app

def listening_addresses(port: int) -> list[str]:
    """Local addresses a TCP socket listens on for ``port`` (from /proc/net/tcp{,6})."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            address, state = parts[1], parts[3]
            host, port_hex = address.rsplit(":", 1)
            if state == "0A" and int(port_hex, 16) == port:
                found.append(_decode_address(host))
    return found


def _decode_address(host: str) -> str:
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words)


# ================================================================ the whole run

def print_load(load: dict, round_: int = 1) -> None:
    print(f"LOAD (round {round_}): {load['users']} users for {load['seconds']:.0f} s: {load['requests']} requests "
          f"({load['requests_per_s']:.1f}/s), {load['errors']} errors, {load['crosstalk']} cross-talk; "
          f"latency median {load['latency']['median_ms']:.0f} ms, p95 {load['latency']['p95_ms']:.0f} ms; "
          f"app CPU {load['app_cpu_ms_per_request']:.0f} ms per request; load average {load['machine_load_average'][0]:.1f}")
    for action, stats in load["by_action"].items():
        print(f"  {action:12s} n={stats['n']:5d} median {stats['median_ms']:7.0f} ms  p95 {stats['p95_ms']:7.0f} ms")
    rss, files = load["rss_mb"], load["temp_files"]
    print(f"  app RSS MB start/middle/end/max: {rss['start']:.0f} / {rss['middle']:.0f} / {rss['end']:.0f} / {rss['max']:.0f}; "
          f"temp files start/middle/end: {files['start']} / {files['middle']} / {files['end']}")
    for example in load["error_examples"] + load["crosstalk_examples"]:
        print(f"  ! {example}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genexplorer.torture", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=2, help="load rounds one after the other (memory over time)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["bad", "load", "faults"])
    parser.add_argument("--workdir", help="keep the app's folders here (default: a temporary folder, removed)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="genexplorer-torture-"))
    report: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count()}
    failures = []
    try:
        checkpoints_dir = copy_checkpoints(workdir / "checkpoints")
        marker = workdir / "pwned"
        plant_broken_checkpoints(checkpoints_dir, marker)
        (workdir / "outside").mkdir(exist_ok=True)
        (workdir / "outside" / "secret.txt").write_text("must stay as it is")
        with App(workdir / "app", checkpoints_dir=checkpoints_dir, no_fashion=True) as app:
            listening = listening_addresses(app.port)
            report["listens_on"] = listening
            print(f"app pid {app.pid} at {app.url}, listening on {listening}")
            if any(address not in ("127.0.0.1", "::1") for address in listening):
                failures.append(f"the app listens on {listening}")
            if "bad" not in args.skip:
                results = run_bad_inputs(app, watch=(workdir / "outside",), marker=marker)
                summary = summarise_bad_inputs(results)
                report["bad_inputs"] = summary
                report["bad_input_results"] = [r.__dict__ for r in results]
                for r in results:
                    print(f"  {r.outcome:12s} {r.endpoint:14s} {r.name}: {r.detail[:120]}")
                print(f"BAD INPUTS: {summary['tried']} tried, {summary['clear error']} clear errors, "
                      f"{summary['handled']} handled normally, {summary['wrong']} wrong answers, {summary['crash']} crashes")
                if summary["crash"] or summary["wrong"]:
                    failures.append("bad inputs: crashes or wrong answers")
            if "load" not in args.skip:
                # Twice: the first minute includes warm-up (sessions, allocator arenas, caches);
                # memory that still climbs in the second is a leak.
                report["load"] = []
                for round_ in range(1, args.rounds + 1):
                    load = run_load(app, users=args.users, seconds=args.seconds)
                    report["load"].append(load)
                    print_load(load, round_)
                    if load["errors"] or load["crosstalk"]:
                        failures.append(f"load round {round_}: errors or cross-talk")
            if "faults" not in args.skip:
                faults = report["faults"] = {}
                faults["missing_fashion"] = fault_missing_fashion(app)
                print(f"FAULT missing Fashion-MNIST: {faults['missing_fashion']}")
                faults["kill_training"] = fault_kill_training(
                    app, moments=("mid-epoch", "mid-epoch", "mid-epoch", "mid-save", "mid-save"))
                print(f"FAULT kill training: {faults['kill_training']}")
                faults["disk_full"] = fault_disk_full(app)
                print(f"FAULT disk full (page): {faults['disk_full']}")
                faults["disk_full_os"] = fault_disk_full_real(workdir / "fsize")
                print(f"FAULT disk full (RLIMIT_FSIZE): {faults['disk_full_os']}")
                faults["queue_cap"] = fault_queue_cap(app)
                print(f"FAULT queue cap: {faults['queue_cap']}")
                faults["app_restart"] = fault_app_restart(app)
                print(f"FAULT app restart: {faults['app_restart']}")
                failures += fault_failures(faults)
            crashes = app.crashes_in_log()
            print(f"crashes in the app log over the whole run: {len(crashes)} {crashes[:3]}")
            if crashes:
                failures.append("crashes in the app log")
    finally:
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2, default=str))
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    print("FAILURES: " + "; ".join(failures) if failures else "all torture checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
