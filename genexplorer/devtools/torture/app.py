"""The app under test: `python app.py` on a copy of the checkpoints in its own folders, and how to call it."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path



ROOT = Path(__file__).resolve().parents[3]
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
                   GENEXPLORER_CLASSES=str(self.workdir / "classes"),
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
        """Is the page served and does a small real request succeed? Behind --auth: is the login asked for, on the
        class routes too (added a moment after the page)?"""
        import urllib.error
        import urllib.request

        locked = "--auth" in self.extra_args
        request = urllib.request.Request(f"{self.url}/genexplorer/class/start", data=b"{}", method="POST") if locked \
            else f"{self.url}/gradio_api/info"
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status == 200 and not locked
        except urllib.error.HTTPError as exc:
            return locked and exc.code == 401
        except OSError:
            return False

    def serves(self) -> bool:
        outcome, value = raw_call(self.url, "slide", ["mnist-vae", None, *([0.5] * 16)], timeout=60)
        return outcome == "ok"

    def rss_mb(self) -> float:
        """Resident memory of the app, its live-preview child process included."""
        from ..classroom import memory_mb

        return memory_mb(self.pid)

    def cpu_s(self) -> float:
        """CPU time (user + system) the app has used so far, its live-preview child process included."""
        from ..classroom import cpu_seconds

        return cpu_seconds(self.pid)

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
    from ... import checkpoints

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


