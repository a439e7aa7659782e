"""Faults: training killed mid-epoch and mid-save, the app killed during a run, a full disk, a missing dataset."""
from __future__ import annotations

import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

from ...canvas_payload import encode_payload
from .app import App, ROOT, client, client_outcome
from .bad_files import build_file, drawn_digit
from .catalogue import File, train_args


# ================================================================ faults

def _run_id(value) -> str:
    return value["value"] if isinstance(value, dict) else value


def tiny_dataset_zip(path: Path, *, train: int = 256, test: int = 64) -> Path:
    """A .zip of IDX files holding the first shipped MNIST digits: the page's "my .zip" data,
    small enough that an epoch takes a second, for fault runs that must reach a save quickly."""
    import struct

    from ...data import load_dataset

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
    run, message = session.predict(*train_args(name=name, epochs=epochs, overwrite=overwrite, latent_dim=latent, **data),
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

    from ... import checkpoints

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
            if moment == "mid-epoch":
                wait_until(lambda: train_status(app, run).get("state") == "running", 120, "training to start")
                time.sleep(random.uniform(0.3, 2.5))
                _kill(job_file(app, run)["pid"])
            # mid-save: a tiny run can reach its first save, and die there, before its status file (rewritten at
            # most once a second) ever says "running": the page's final state is what counts.
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
    outcome, message = client_outcome(lambda: session.predict(*train_args(name="fashion-notthere", dataset="fashion"),
                                                              api_name="/train_start"))
    works = []
    for endpoint, args in (("draw", (encode_payload(drawn_digit()), "fashion", -1)), ("generate_vae", ("fashion", 10, 0)),
                           ("interpolate", ("1", 0, "7", 0, 5, "fashion")), ("upload", (File("cmyk.jpg"), "fashion"))):
        args = tuple(handle_file(str(build_file(app.workdir / "files", a.name))) if isinstance(a, File) else a
                     for a in args)
        works.append((endpoint, client_outcome(lambda: session.predict(*args, api_name=f"/{endpoint}"))[0]))
    return {"train_outcome": outcome, "train_message": str(message)[:300], "other_tabs": works}


def fault_queue_cap(app: App) -> dict:
    """More runs than the queue holds: the extra one is refused with a message, and
    cancelling clears them."""
    from ...jobs import MAX_QUEUED

    runs, refused = [], None
    for index in range(MAX_QUEUED + 1):
        session = client(app.url)
        outcome, value = client_outcome(lambda: session.predict(*train_args(name=f"mnist-queue{index}", epochs=200),
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


def _live_children(pid: int) -> list[int]:
    """The app's live-preview child processes (batching.ChildProcess: multiprocessing's spawn)."""
    from ..classroom import children

    found = []
    for child in children(pid):
        try:
            with open(f"/proc/{child}/cmdline", "rb") as file:
                if b"spawn_main" in file.read():
                    found.append(child)
        except OSError:
            continue
    return found


def fault_kill_live_child(app: App) -> dict:
    """The process that answers the live drawings killed in the middle of a class: the drawing sent next
    is answered (in the server), another process takes over, and the page never sees an error."""
    import urllib.request

    def draw() -> int:
        body = json.dumps({"payload": encode_payload(drawn_digit()), "dataset": "mnist", "cvae_class": -1}).encode()
        request = urllib.request.Request(f"{app.url}/genexplorer/live/draw", data=body, method="POST",
                                         headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status if json.loads(response.read())["images"]["ge-recon-vae"] else 0
        except Exception as exc:  # noqa: BLE001 - the answer a student would get, as a result
            return getattr(exc, "code", -1)

    first = wait_until(lambda: _live_children(app.process.pid), 120, "the live child process")
    before = draw()
    for child in first:
        _kill(child)
    right_after = [draw() for _ in range(3)]
    replaced = wait_until(lambda: [c for c in _live_children(app.process.pid) if c not in first], 120,
                          "another live child process")
    time.sleep(1.0)   # it says it is ready once its models are loaded
    return {"before": before, "right_after": right_after, "replaced": bool(replaced), "after": draw()}


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
    if "kill_live_child" in faults:
        result = faults["kill_live_child"]
        if result != {"before": 200, "right_after": [200, 200, 200], "replaced": True, "after": 200}:
            out.append(f"live child killed: {result}")
    if "app_restart" in faults and faults["app_restart"] != {"page_state_after_restart": "running",
                                                              "page_state_after_run_died_while_down": "failed"}:
        out.append(f"app restart: {faults['app_restart']}")
    return out


