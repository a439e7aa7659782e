"""Training runs launched from the app: each a separate `python -m genexplorer.train`
process, so a crash or out-of-memory in training cannot take the app down.

State lives on disk under runs/, not in the browser: a run's folder holds `job.json`
(what was asked, the process id), `status.json` (written by the trainer, live),
`log.txt` and the per-epoch sample grids. Closing the tab, opening another browser or
restarting the app shows the same runs. One run per device at a time; later ones wait
in a queue.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: one app process per runs folder there
    fcntl = None

from . import checkpoints
from .train import command_line
from .training import TrainSettings

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
JOB_FILE = "job.json"
LOCK_FILE = ".schedule.lock"
STATUS_FILE = "status.json"
LOG_FILE = "log.txt"
FINAL_STATES = ("done", "failed", "cancelled")
CANCELLING = "cancelling…"       # a running job's message once Cancel was pressed
# Caps on what a page can ask for, so one user cannot occupy the machine for days.
MAX_EPOCHS = 200
MAX_QUEUED = 8


class JobError(ValueError):
    """A run that cannot be started; the message says why."""


def available_devices() -> list[tuple[str, str]]:
    """(label, value) for "auto", "cpu" and every accelerator actually present."""
    import torch

    devices = [("auto (best available)", "auto"), ("cpu", "cpu")]
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            devices.append((f"cuda:{index} {torch.cuda.get_device_name(index)}", f"cuda:{index}"))
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append(("mps (Apple GPU)", "mps"))
    return devices


def resolved_device(device: str) -> str:
    """The device a run will really use: "auto" becomes cuda:0, mps or cpu."""
    if device != "auto":
        return device
    values = [value for _, value in available_devices()]
    for candidate in ("cuda:0", "mps"):
        if candidate in values:
            return candidate
    return "cpu"


@dataclass
class Job:
    id: str
    name: str                     # the checkpoint name, e.g. "mnist-myvae"
    settings: dict                # TrainSettings as a dict
    device: str
    state: str = "queued"         # queued, running, done, failed, cancelled
    created: float = field(default_factory=time.time)
    pid: int | None = None
    message: str = ""
    processes: int = 1            # more than one: torchrun, one process per GPU (or per CPU share)

    def folder(self, runs_dir: Path) -> Path:
        return runs_dir / self.id

    def devices(self) -> set[str]:
        """The devices the run occupies: a multi-process CUDA run takes GPUs 0 .. processes - 1."""
        if self.processes > 1 and self.device.startswith("cuda"):
            return {f"cuda:{index}" for index in range(self.processes)}
        return {self.device}


def max_processes(device: str) -> int:
    """How many training processes a device can take: one per GPU, or one per CPU core."""
    if device.startswith("cuda"):
        import torch

        return max(1, torch.cuda.device_count())
    return max(1, os.cpu_count() or 1) if device == "cpu" else 1


class JobManager:
    def __init__(self, runs_dir: str | Path | None = None, checkpoints_dir: str | Path | None = None,
                 python: str = sys.executable, poll_s: float = 0.5):
        self.runs_dir = Path(runs_dir) if runs_dir else PACKAGE_ROOT / "runs" / "app"
        self.checkpoints_dir = Path(checkpoints_dir) if checkpoints_dir else checkpoints.checkpoints_dir()
        self.python = python
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._processes: dict[str, subprocess.Popen] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(poll_s,), daemon=True, name="genexplorer-jobs")
        self._thread.start()

    # ------------------------------------------------------------ asking

    def submit(self, name: str, settings: dict, *, overwrite: bool = False, processes: int = 1) -> Job:
        """Check a run request and queue it; it starts as soon as its device is free.
        processes > 1 runs it under torchrun (the train CLI is distributed-aware)."""
        if not checkpoints.NAME_PATTERN.match(name or ""):
            raise JobError("give the run a name of letters, digits, '-' or '_' (it becomes the checkpoint's name)")
        target = self.checkpoints_dir / name
        if (target / checkpoints.CONFIG_FILE).exists() and not overwrite:
            raise JobError(f"a checkpoint named {name!r} exists: choose another name or tick 'overwrite'")
        settings = {**settings, "out": str(target), "overwrite": overwrite, "resume": False}
        try:
            if int(settings.get("epochs") or 0) > MAX_EPOCHS:
                raise JobError(f"at most {MAX_EPOCHS} epochs from the page; use the command line for longer runs")
            TrainSettings(**settings).validate()
        except (TypeError, ValueError) as exc:   # JobError is a ValueError too
            raise JobError(str(exc)) from None
        device = resolved_device(settings.get("device") or "auto")
        if device not in [value for _, value in available_devices()]:
            raise JobError(f"device {device!r} is not available here")
        if not isinstance(processes, int) or not 1 <= processes <= max_processes(device):
            raise JobError(f"processes must be a whole number from 1 to {max_processes(device)} on {device}, "
                           f"got {processes!r}")
        if processes > 1 and device.startswith("cuda"):
            device = "cuda:0"   # the run takes GPUs 0 .. processes - 1, one process each
        with self._lock:
            active = [job for job in self.jobs() if job.state in ("queued", "running")]
            if len(active) >= MAX_QUEUED:
                raise JobError(f"{len(active)} runs are already waiting or running; cancel one or wait")
            if any(job.name == name for job in active):
                raise JobError(f"a run named {name!r} is already waiting or running")
            job = Job(id=f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}", name=name,
                      settings=settings, device=device, processes=processes)
            job.folder(self.runs_dir).mkdir(parents=True)
            self._save(job)
        self._schedule()
        return job

    def cancel(self, job_id: str) -> Job:
        """Stop a run: a queued one never starts; a running one gets SIGTERM, finishes the
        step it is on and exits, keeping its last finished epoch (marked incomplete)."""
        with self._lock:
            job = self.get(job_id)
            if job.state == "queued":
                job.state, job.message = "cancelled", "cancelled before it started"
                self._save(job)
            elif job.state == "running" and job.pid:
                try:
                    os.kill(job.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                job.message = CANCELLING
                self._save(job)
            return job

    # ------------------------------------------------------------ reading

    def get(self, job_id: str) -> Job:
        if not re.fullmatch(r"[0-9]{8}-[0-9]{6}-[0-9a-f]{6}", job_id or ""):
            raise JobError(f"no run {job_id!r}")
        path = self.runs_dir / job_id / JOB_FILE
        try:
            return Job(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            raise JobError(f"no run {job_id!r}") from None

    def jobs(self) -> list[Job]:
        """Every run, newest first."""
        out = []
        for folder in sorted(self.runs_dir.iterdir(), reverse=True):
            try:
                out.append(self.get(folder.name))
            except JobError:
                continue
        return out

    def status(self, job_id: str) -> dict:
        """The trainer's live status.json (progress, loss curve, per-epoch metrics)."""
        path = self.runs_dir / job_id / STATUS_FILE
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return {}

    def log_tail(self, job_id: str, lines: int = 20) -> str:
        path = self.runs_dir / job_id / LOG_FILE
        try:
            with path.open("rb") as f:
                f.seek(max(0, path.stat().st_size - 20_000))
                return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-lines:])
        except OSError:
            return ""

    def latest_samples(self, job_id: str) -> Path | None:
        grids = sorted((self.runs_dir / job_id).glob("epoch_*.png"))
        return grids[-1] if grids else None

    # ------------------------------------------------------------ running

    def _save(self, job: Job) -> None:
        path = job.folder(self.runs_dir) / JOB_FILE
        tmp = path.with_name(JOB_FILE + ".tmp")
        tmp.write_text(json.dumps(asdict(job)))
        os.replace(tmp, path)

    @contextmanager
    def _locked(self):
        """This process's lock, and a lock file in the runs folder: several app processes may share
        one runs folder (behind a proxy), and only one of them may start a queued run."""
        with self._lock, open(self.runs_dir / LOCK_FILE, "a+") as handle:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fcntl is not None:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def _schedule(self) -> None:
        """Start the oldest queued run on each device that has none running."""
        with self._locked():
            jobs = list(reversed(self.jobs()))  # oldest first
            busy = set().union(*(job.devices() for job in jobs if job.state == "running"))
            for job in jobs:
                if job.state == "queued" and not job.devices() & busy:
                    self._start(job)
                    busy |= job.devices()

    def _start(self, job: Job) -> None:
        folder = job.folder(self.runs_dir)
        launcher = [self.python, "-m", "genexplorer.train"]
        if job.processes > 1:
            launcher = [self.python, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={job.processes}",
                        "-m", "genexplorer.train"]
        device = "cuda" if job.processes > 1 and job.device.startswith("cuda") else job.device
        command = launcher + ["--status-file", str(folder / STATUS_FILE), "--log-dir", str(folder), "--device", device]
        command += command_line({k: v for k, v in job.settings.items() if k not in ("log_dir", "device")})
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.setdefault("NUMBA_CACHE_DIR", str(self.runs_dir / ".numba-cache"))
        log = open(folder / LOG_FILE, "ab")
        try:
            # A new session: the run survives an app restart, and a signal to the app does not reach it.
            process = subprocess.Popen(command, cwd=PACKAGE_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                       env=env, start_new_session=True)
        finally:
            log.close()
        self._processes[job.id] = process
        job.state, job.pid, job.message = "running", process.pid, ""
        self._save(job)

    def _refresh(self) -> None:
        """Bring each running job's state up to date with its process and status file."""
        with self._locked():
            for job in self.jobs():
                if job.state != "running":
                    continue
                process = self._processes.get(job.id)
                alive = process.poll() is None if process is not None else _pid_alive(job.pid)
                if alive:
                    continue
                status = self.status(job.id)
                if status.get("state") in FINAL_STATES:
                    job.state, job.message = status["state"], status.get("message", "")
                elif job.message == CANCELLING:
                    # Cancelled before the trainer could listen (Python and torch still loading): SIGTERM ended it.
                    finished = len(status.get("epochs") or [])
                    job.state = "cancelled"
                    job.message = ("stopped by request; " + (f"epoch {finished} is saved" if finished else
                                                             "nothing was saved yet"))
                else:
                    code = process.returncode if process is not None else None
                    job.state = "failed"
                    job.message = (f"the training process ended unexpectedly (exit code {code})" if code is not None
                                   else "the training process ended unexpectedly")
                    if code is not None and code < 0:
                        job.message = f"the training process was killed by signal {-code}"
                    job.message += "; the last finished epoch, if any, is kept"
                self._processes.pop(job.id, None)
                self._save(job)
        self._schedule()

    def _loop(self, poll_s: float) -> None:
        while not self._stop.wait(poll_s):
            try:
                self._refresh()
            except OSError:
                continue  # a transient disk problem: try again next tick

    def close(self) -> None:
        self._stop.set()

    # ------------------------------------------------------------ uploaded data

    @property
    def uploads_dir(self) -> Path:
        return self.runs_dir / "uploads"

    def unpack_upload(self, zip_path: str | Path) -> Path:
        """Unpack a user's .zip for a run in a fresh folder under runs/uploads/. Uploads no queued
        or running run needs are deleted first, so repeated uploads cannot fill the disk."""
        self.prune_uploads()
        folder = self.uploads_dir / uuid.uuid4().hex[:12]
        try:
            return extract_dataset_zip(zip_path, folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def discard_upload(self, dataset: str | Path) -> None:
        """Delete the unpacked upload a refused run would have used."""
        try:
            top = Path(dataset).resolve().relative_to(self.uploads_dir.resolve()).parts[0]
        except (ValueError, IndexError):
            return   # not an upload
        shutil.rmtree(self.uploads_dir / top, ignore_errors=True)

    def prune_uploads(self, *, grace_s: float = 600.0) -> None:
        """Delete unpacked uploads of finished runs, and those no run took within ``grace_s``
        (younger ones may belong to a request being checked right now)."""
        if not self.uploads_dir.is_dir():
            return
        with self._lock:
            jobs = self.jobs()
            active = [str(job.settings.get("dataset")) for job in jobs if job.state in ("queued", "running")]
            known = [str(job.settings.get("dataset")) for job in jobs]
            for folder in self.uploads_dir.iterdir():
                def uses(dataset: str) -> bool:
                    return dataset == str(folder) or dataset.startswith(str(folder) + os.sep)

                if any(map(uses, active)):
                    continue
                if any(map(uses, known)) or time.time() - folder.stat().st_mtime > grace_s:
                    shutil.rmtree(folder, ignore_errors=True)


def _pid_alive(pid: int | None) -> bool:
    """Is a run started by an earlier app process still going? (Checked by its command line,
    so a recycled pid is not mistaken for it.)"""
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
    return b"genexplorer.train" in cmdline


# ------------------------------------------------------- uploaded data sets

MAX_ZIP_BYTES = 200 * 1024 * 1024      # uncompressed, all members together
MAX_ZIP_MEMBERS = 100_000


def extract_dataset_zip(zip_path: str | Path, dest: Path) -> Path:
    """Unpack a user's .zip of IDX files or class folders of images into ``dest``, safely:
    no member may leave ``dest`` (no '..', no absolute paths, no links), and the declared
    sizes are checked before anything is written, so a zip bomb is refused unopened."""
    import shutil
    import zipfile

    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError):
        raise JobError("that file is not a readable .zip archive") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if not members:
            raise JobError("the .zip archive is empty")
        if len(members) > MAX_ZIP_MEMBERS:
            raise JobError(f"the .zip holds {len(members)} files; the limit is {MAX_ZIP_MEMBERS}")
        total = sum(m.file_size for m in members)
        if total > MAX_ZIP_BYTES:
            raise JobError(f"the .zip would unpack to {total / 1e6:.0f} MB; the limit is {MAX_ZIP_BYTES / 1e6:.0f} MB")
        for member in members:
            ratio = member.file_size / max(member.compress_size, 1)
            if ratio > 1000 and member.file_size > 10_000_000:
                raise JobError(f"{member.filename!r} expands {ratio:.0f} times: refused as a possible zip bomb")
            parts = Path(member.filename).parts
            if member.filename.startswith(("/", "\\")) or ".." in parts or (member.external_attr >> 28) == 0o12:
                raise JobError(f"the .zip member {member.filename!r} points outside the archive: refused")
        dest.mkdir(parents=True, exist_ok=True)
        written = 0
        for member in members:
            target = dest / member.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, open(target, "wb") as sink:
                while chunk := source.read(1 << 20):
                    written += len(chunk)
                    if written > MAX_ZIP_BYTES:  # the header lied about the sizes
                        sink.close()
                        shutil.rmtree(dest, ignore_errors=True)
                        raise JobError("the .zip unpacks to more than it declared: refused")
                    sink.write(chunk)
    # A zip of one folder: use that folder.
    entries = [p for p in dest.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else dest
