"""Pixel-by-pixel sampling and completion that a page watches as it happens.

An autoregressive model draws one pixel after another. A ``PixelJob`` holds one such drawing
(sampling from blank, or completing a picture's hidden pixels) and advances it a little each
time the page asks for a frame; nothing runs between requests, so a closed tab costs nothing
and an abandoned job simply expires. ``JobBoard`` keeps the jobs of everyone on the server,
with a cap so that one class's drawings cannot starve the other tabs.

No Gradio here: the UI wires components and the live route to these functions.
"""
from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from . import budget
from .explore import ExploreError, finite, seeded_generator
from .images import grid, png_bytes, upscale
from .models import GenerativeModel

PIXELS = 28 * 28
MAX_IMAGES = 36
JOB_ID = re.compile(r"^[0-9a-f]{16}$")
# How much drawing one frame may do: "live" as much as fits in a frame's compute budget,
# the slower paces a fixed number of pixels so a person can follow the raster order.
PACES = {"live": None, "row by row": 28, "pixel by pixel": 3}
FRAME_BUDGET_S = 0.04
IDLE_EXPIRY_S = 120.0
MAX_ACTIVE_JOBS = 24
# Colours of the frames: pixels still to draw are dark blue, the next one red, drawn ones grey.
PENDING_RGB = (20, 30, 90)
CURSOR_RGB = (230, 40, 40)


def check_autoregressive(model: GenerativeModel) -> None:
    """Only a model with an exact likelihood p(x) = prod_i p(x_i | x_<i) draws one pixel after another."""
    if not model.can("exact_likelihood"):
        raise ExploreError(f"a {model.kind} is not autoregressive: pick a pixelcnn checkpoint")


def check_hidden(hidden: torch.Tensor) -> torch.Tensor:
    """A bool mask of hidden pixels (1, 1, 28, 28): refused when it hides nothing or everything."""
    hidden = torch.as_tensor(hidden).bool().reshape(1, 1, 28, 28)
    count = int(hidden.sum())
    if count == 0:
        raise ExploreError("the mask hides nothing: hide part of the picture to complete it")
    if count == PIXELS:
        raise ExploreError("the mask hides the whole picture: that is sampling from scratch (see Generate)")
    return hidden


@dataclass
class Frame:
    """What the page shows after an advance."""
    picture: np.ndarray          # uint8 RGB (H, W, 3)
    position: int                # raster position reached, 0..784
    drawn: int                   # pixels drawn so far
    to_draw: int                 # pixels to draw in all (per image)
    compute_s: float             # seconds of drawing so far
    finished: bool

    def summary(self) -> dict:
        step_ms = 1000 * self.compute_s / max(self.drawn, 1)
        return {"position": self.position, "drawn": self.drawn, "to_draw": self.to_draw,
                "compute_s": round(self.compute_s, 3), "step_ms": round(step_ms, 3), "finished": self.finished}


@dataclass
class PixelJob:
    """One drawing in progress: ``count`` pictures filled in raster order at the same time."""
    model_name: str
    model: GenerativeModel
    known: torch.Tensor                  # bool (count, 1, 28, 28): pixels given, never drawn
    images: torch.Tensor                 # float (count, 1, 28, 28), filled in place
    pace: str
    generator: torch.Generator           # the seed's: the same seed draws the same pictures
    id: str = field(default_factory=lambda: secrets.token_hex(8))
    compute_s: float = 0.0
    position: int = 0
    finished: bool = False
    last_seen: float = field(default_factory=time.monotonic)

    def __post_init__(self):
        self.to_draw = int((~self.known[0]).sum())
        self._steps = self.model.complete_steps(self.images, self.known.float(), generator=self.generator, every=1)
        self._lock = threading.Lock()

    def advance(self, *, budget_s: float = FRAME_BUDGET_S, pixels: int | None = None) -> Frame:
        """Draw for up to ``budget_s`` seconds (or exactly ``pixels`` pixels), then return a frame.
        A request that finds the job busy (a second tab on the same job) only gets the frame."""
        self.last_seen = time.monotonic()
        if self._lock.acquire(blocking=False):
            try:
                self._run(budget_s, pixels)
            finally:
                self._lock.release()
        return self.frame()

    def next_frame(self) -> Frame:
        """One frame at the job's pace: what the board's ``advance`` asks of every kind of job."""
        pixels = PACES[self.pace]
        return self.advance(pixels=pixels) if pixels else self.advance()

    def run_to_end(self) -> Frame:
        with self._lock:
            self._run(None, None)
        return self.frame()

    def _run(self, budget_s, pixels) -> None:
        start = time.perf_counter()
        done = 0
        with torch.inference_mode():
            while not self.finished:
                try:
                    position, images = next(self._steps)
                except StopIteration:
                    self.finished = True
                    break
                self.images = images
                self.position = position
                if position >= PIXELS:
                    self.finished = True
                    break
                done += 1
                if pixels is not None and done >= pixels:
                    break
                if pixels is None and budget_s is not None and time.perf_counter() - start >= budget_s:
                    break
        self.compute_s += time.perf_counter() - start
        if self.finished:
            self.position = PIXELS

    def frame(self, *, scale: int = 3) -> Frame:
        drawn = int((~self.known[0]).flatten()[: self.position].sum())
        return Frame(self.picture(scale=scale), self.position, drawn, self.to_draw, self.compute_s, self.finished)

    def picture(self, *, scale: int = 3) -> np.ndarray:
        """The pictures side by side as RGB, pixels still to draw tinted, the next one marked."""
        grey = (self.images.detach().clamp(0, 1) * 255).round().to(torch.uint8)[:, 0].numpy()   # (n, 28, 28)
        rgb = np.repeat(grey[..., None], 3, axis=-1)
        if not self.finished:
            order = np.arange(PIXELS).reshape(28, 28)
            pending = (~self.known[:, 0].numpy()) & (order >= self.position)[None]
            rgb[pending] = PENDING_RGB
            cursor = np.zeros_like(pending)
            cursor.reshape(len(cursor), -1)[:, min(self.position, PIXELS - 1)] = True
            rgb[cursor & pending] = CURSOR_RGB
        columns = int(np.ceil(np.sqrt(len(rgb)))) if len(rgb) > 4 else len(rgb)
        channels = [grid(rgb[..., k], ncols=columns) for k in range(3)]
        return upscale(np.stack(channels, axis=-1), scale)

    def result(self) -> np.ndarray:
        """uint8 (count, 28, 28): the pictures as they stand."""
        return (self.images.detach().clamp(0, 1) * 255).round().to(torch.uint8)[:, 0].numpy()


def _count(value) -> int:
    return int(finite(value, "number of pictures", 1, MAX_IMAGES))


def _pace(pace: str) -> str:
    if pace not in PACES:
        raise ExploreError(f"unknown pace {pace!r}: use one of {', '.join(PACES)}")
    return pace


def sample_job(name: str, model: GenerativeModel, count, seed, *, pace: str = "live") -> PixelJob:
    """A job drawing ``count`` new pictures from blank."""
    check_autoregressive(model)
    count = _count(count)
    images = torch.zeros(count, 1, 28, 28)
    known = torch.zeros_like(images, dtype=torch.bool)
    return _job(name, model, images, known, seed, pace)


def complete_job(name: str, model: GenerativeModel, x: torch.Tensor, hidden: torch.Tensor, count, seed, *,
                 pace: str = "live") -> PixelJob:
    """A job completing ``count`` copies of x (1, 1, 28, 28) whose ``hidden`` pixels are drawn anew."""
    check_autoregressive(model)
    count = _count(count)
    hidden = check_hidden(hidden)
    if not torch.isfinite(torch.as_tensor(x)).all():
        raise ExploreError("the picture contains NaN or infinite values")
    images = torch.where(hidden, torch.zeros_like(x), x).expand(count, -1, -1, -1).clone()
    known = (~hidden).expand(count, -1, -1, -1).clone()
    return _job(name, model, images, known, seed, pace)


def _job(name, model, images, known, seed, pace) -> PixelJob:
    return PixelJob(name, model, known, images, _pace(pace), seeded_generator(seed))


class JobBoard:
    """Every job on the server, by id; jobs unseen for two minutes are dropped. A job is anything with an
    ``id``, ``finished``, ``last_seen`` (time.monotonic) and ``next_frame()``: a PixelJob here, the diffusion and
    flow walks of walks.py."""

    def __init__(self, *, max_active: int = MAX_ACTIVE_JOBS, idle_expiry_s: float = IDLE_EXPIRY_S,
                 slots: threading.Semaphore | None = None):
        self.max_active = max_active
        self.idle_expiry_s = idle_expiry_s
        self._jobs: dict = {}     # id -> job
        self._lock = threading.Lock()
        # The CPU budget (shared with the GAN lab's toys): however many people watch drawings, at most
        # budget.INTERACTIVE_SLOTS frames are computed at once, never the cores the other tabs need.
        self._compute = slots if slots is not None else budget.INTERACTIVE

    def _expire(self) -> None:
        now = time.monotonic()
        for job_id in [i for i, job in self._jobs.items() if now - job.last_seen > self.idle_expiry_s]:
            del self._jobs[job_id]

    def add(self, job, *, replaces: str | None = None):
        """Keep ``job``; ``replaces`` (the same user's previous job) is dropped first.
        Past the cap of unfinished jobs: a clear message, nothing kept."""
        with self._lock:
            self._expire()
            if replaces:
                self._jobs.pop(replaces, None)
            active = sum(not j.finished for j in self._jobs.values())
            if active >= self.max_active:
                raise ExploreError(f"{active} pictures are being drawn on this server right now (the limit is "
                                   f"{self.max_active}): try again in a few seconds")
            self._jobs[job.id] = job
        return job

    def get(self, job_id):
        if not isinstance(job_id, str) or not JOB_ID.match(job_id):
            raise ExploreError("not a drawing job id")
        with self._lock:
            self._expire()
            job = self._jobs.get(job_id)
        if job is None:
            raise ExploreError("this drawing has expired (unseen for two minutes): start it again")
        return job

    def advance(self, job_id):
        """The job's next frame (``job.next_frame()``), computed within the shared CPU budget."""
        job = self.get(job_id)
        with self._compute:
            return job.next_frame()

    def __len__(self) -> int:
        return len(self._jobs)


def frame_png(frame: Frame) -> bytes:
    return png_bytes(frame.picture)


def receptive_field_picture(*, layers: int = 3, size: int = 11, scale: int = 20) -> np.ndarray:
    """Which pixels one output of a PixelCNN may look at, found by asking autograd (not drawn by hand):
    uint8 RGB, a size x size window around the predicted pixel (red); pixels it sees in light blue,
    pixels it may not see (itself, those after it) dark."""
    from .models import build

    torch.manual_seed(0)
    model = build("pixelcnn", {"channels": 8, "layers": layers})
    x = torch.rand(1, 1, 28, 28, requires_grad=True)
    row = col = 14
    model.logits(x)[0, 0, row, col].backward()
    seen = (x.grad[0, 0] != 0).numpy()
    half = size // 2
    window = seen[row - half: row + half + 1, col - half: col + half + 1]
    rgb = np.where(window[..., None], np.array([150, 200, 255], np.uint8), np.array([40, 40, 50], np.uint8))
    rgb[half, half] = (230, 40, 40)
    big = upscale(rgb, scale)
    big[::scale] = 0          # grid lines between pixels
    big[:, ::scale] = 0
    return big
