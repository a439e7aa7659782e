"""Diffusion and flow sampling that a page watches as it happens: walks from noise (t = 1) to pictures (t = 0).

A ``WalkJob`` holds the walks of several models from the same seed (the same classes and the same start noise)
and advances them on one clock, the noise level t: each frame moves the clock down by at most 1 / MAX_FRAMES and
steps every walk still above it, the one furthest behind first, within a frame's compute budget. So the models
side by side always show the same noise level, whatever their numbers of steps: a 1-step walk lands at once, a
1,000-step walk takes as long as its passes cost. As with the PixelCNN's drawings (``pixels.py``), nothing runs
between the page's requests, and the jobs live on a ``pixels.JobBoard`` (a cap, expiry, the shared CPU slots).

No Gradio here: the UI wires components and the live route to these functions.
"""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch

from .explore.inputs import ExploreError, finite, seeded_generator
from .explore.paths import WalkPlan, check_guidance, check_sampler, check_walker, classes_for
from .images import grid, to_uint8
from .models import GenerativeModel
from .models.base import IMAGE_SHAPE
from .pixels import FRAME_BUDGET_S

MAX_FRAMES = 60           # the clock's smallest step is 1/60 of the way: short walks still take a few seconds
MAX_PICTURES = 16
EPSILON = 1e-9


@dataclass
class Walk:
    """One model's walk: ``steps`` steps of ``sampler`` from the start noise, frame by frame."""
    title: str
    name: str
    model: GenerativeModel
    steps: int
    sampler: str
    guidance: float
    frames: Iterator                      # model.sample_steps(...): (k, x_t, predicted picture)
    x: torch.Tensor                       # (n, 1, 28, 28) in [0, 1]: x_t now (the start noise at first)
    predicted: torch.Tensor | None = None  # the picture the network sees in x_t (None before the first pass)
    done: int = 0
    compute_s: float = 0.0

    @property
    def t(self) -> float:
        return 1 - self.done / self.steps

    @property
    def finished(self) -> bool:
        return self.done >= self.steps

    def step(self) -> None:
        started = time.perf_counter()
        self.done, self.x, self.predicted = next(self.frames)
        self.compute_s += time.perf_counter() - started

    def summary(self) -> dict:
        passes = self.model.network_passes(self.done, sampler=self.sampler, guidance=self.guidance) if self.done else 0
        return {"title": self.title, "name": self.name, "sampler": self.sampler, "step": self.done,
                "steps": self.steps, "t": round(self.t, 4), "passes": passes,
                "compute_ms": round(1000 * self.compute_s, 1)}


@dataclass
class WalkFrame:
    """What the page shows after an advance: per walk, x_t and the predicted picture as grids."""
    pictures: list[tuple[np.ndarray, np.ndarray]]    # uint8 (H, W) each
    walks: list[dict]                                # Walk.summary() each
    clock: float
    finished: bool

    def summary(self) -> dict:
        return {"walks": self.walks, "t": round(self.clock, 4), "finished": self.finished}


@dataclass
class WalkJob:
    """The walks of one request, advanced together on the noise-level clock."""
    walks: list[Walk]
    seed: int = 0
    label: int | None = None              # the class asked for (None: drawn from the seed)
    id: str = field(default_factory=lambda: secrets.token_hex(8))
    clock: float = 1.0
    finished: bool = False
    last_seen: float = field(default_factory=time.monotonic)

    def __post_init__(self):
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        return len(self.walks[0].x)

    def next_frame(self, *, budget_s: float | None = FRAME_BUDGET_S) -> WalkFrame:
        """Move the clock one notch (once every walk has reached it) and step the walks behind it for up to
        ``budget_s`` seconds (at least one step). A request that finds the job busy only gets the frame."""
        self.last_seen = time.monotonic()
        if self._lock.acquire(blocking=False):
            try:
                if all(walk.t <= self.clock + EPSILON for walk in self.walks):
                    self.clock = max(0.0, self.clock - 1 / MAX_FRAMES)
                self._run(budget_s)
            finally:
                self._lock.release()
        return self.frame()

    def run_to_end(self) -> WalkFrame:
        with self._lock:
            self.clock = 0.0
            self._run(None)
        return self.frame()

    def _run(self, budget_s: float | None) -> None:
        started = time.perf_counter()
        with torch.inference_mode():
            while True:
                behind = [walk for walk in self.walks if not walk.finished and walk.t > self.clock + EPSILON]
                if not behind:
                    break
                max(behind, key=lambda walk: walk.t).step()
                if budget_s is not None and time.perf_counter() - started >= budget_s:
                    break
        self.finished = all(walk.finished for walk in self.walks)

    def frame(self) -> WalkFrame:
        columns = _columns(self.count)
        pictures = []
        for walk in self.walks:
            predicted = walk.predicted if walk.predicted is not None else torch.zeros_like(walk.x)
            pictures.append((grid(to_uint8(walk.x), ncols=columns), grid(to_uint8(predicted), ncols=columns)))
        return WalkFrame(pictures, [walk.summary() for walk in self.walks], self.clock, self.finished)

    def plans(self) -> list[WalkPlan]:
        """What each walk was asked to do, to draw the same again (at other step counts)."""
        return [WalkPlan(walk.title, walk.name, walk.model, walk.steps, walk.sampler) for walk in self.walks]

    def results(self) -> list[np.ndarray]:
        """Each walk's pictures as they stand: uint8 (n, 28, 28)."""
        return [to_uint8(walk.x) for walk in self.walks]


def _columns(count: int) -> int:
    """Square-ish grids (4 pictures: 2 x 2): they fill the page's square picture boxes."""
    return int(np.ceil(np.sqrt(count)))


def walk_job(plans: list[WalkPlan], count, seed, *, label: int | None = None, guidance: float = 0.0) -> WalkJob:
    """A job walking every plan's model from the same seed: ``count`` pictures each, of class ``label`` (None:
    classes drawn from the seed), guided with weight ``guidance``. Every walk starts from the same noise."""
    if not plans:
        raise ExploreError("no diffusion or flow checkpoint to walk: train one on the Train tab")
    count = int(finite(count, "number of pictures", 1, MAX_PICTURES))
    walks = []
    for plan in plans:
        check_walker(plan.model)
        sampler = check_sampler(plan.model, plan.sampler)
        weight = check_guidance(guidance, plan.model)
        generator = seeded_generator(seed)
        classes = classes_for(plan.model, count, label, generator)
        # What sample_steps draws first from the generator is the start noise: the same draw, to show it.
        start = torch.randn((count, *IMAGE_SHAPE), generator=generator.clone_state())
        frames = plan.model.sample_steps(count, classes, generator, steps=plan.steps, guidance=weight, sampler=sampler)
        walks.append(Walk(plan.title, plan.name, plan.model, plan.steps, sampler, weight, frames,
                          ((start + 1) / 2).clamp(0, 1)))
    return WalkJob(walks, int(seed), label)
