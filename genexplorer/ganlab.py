"""The toy lab's sessions: per page, one toy GAN and beside it a toy diffusion model and a toy flow on the
same data (genexplorer.toy), trained while the page watches.

Nothing trains between requests: each time the page asks for a frame, its toys take a few steps each
(or the one discriminator or generator step asked for) and answer snapshots as plain JSON numbers,
which the page draws on its own canvases; the diffusion and the flow walk their samples from noise to
data in the number of sampling steps the page asks for. A closed or hidden tab asks
for nothing, so its toy stops; an abandoned toy expires after two idle minutes. ``ToyBoard``
holds everyone's toys, caps how many train at once, and computes their frames within the CPU
budget that the PixelCNN drawings share (``genexplorer.budget``), so a class of toys cannot starve
the other tabs.

No Gradio here: the UI wires the page's controls and the live route to these functions.
"""
from __future__ import annotations

import json
import math
import re
import secrets
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from . import budget
from .explore import ExploreError
from .toy import (PRESET_SAMPLING_STEPS, PRESETS, SAMPLING_STEPS, TOY_DATA, TOY_LOSSES, ToyError, ToyGAN, ToyWalker,
                  toy_settings, walkers_beside)

MAX_TOYS = 300               # kept toys (a few hundred kB each), paused ones included
MAX_RUNNING = 12             # toys training at once (asked to play in the last few seconds)
RUNNING_WINDOW_S = 3.0
IDLE_EXPIRY_S = 120.0
# Training time one frame may take (the three toys together): FRAME_BUDGET_S, less what the last frame's pictures
# took beyond FRAME_TARGET_S - FRAME_BUDGET_S = 20 ms. On a busy CPU the toys train fewer steps a frame, and the
# page keeps its frame rate.
FRAME_BUDGET_S, FRAME_TARGET_S = 0.03, 0.05
MAX_SPEED = 50                # generator steps per frame at most
WALKER_STEPS_PER_G_STEP = 4   # diffusion and flow steps per generator step: they need more, and cheaper, steps
MAX_SAMPLING_STEPS = 100      # the page's slider: a frame walks WALK_POINTS points that many network passes, per toy
WALK_POINTS, WALKS = 256, 16  # samples drawn per frame, and how many of their paths the page draws
ACTIONS = ("play", "d_step", "g_step", "look")
MAX_HISTORY_POINTS = 200      # the curves sent per frame: the whole run, thinned to about a point per pixel
TOY_ID = re.compile(r"^[0-9a-f]{16}$")


def make_toy(data: str, loss: str, *, d_steps=None, lr_d=None, lr_g=None, clip=None, gp_weight=None,
             seed=0, points=None) -> ToyGAN:
    """A ToyGAN from the page's controls (numbers may arrive as floats or strings); a clear message
    for anything it cannot use. ``points``: the drawn distribution, a list of [x, y] or its JSON."""
    if data not in TOY_DATA:
        raise ExploreError(f"unknown toy data {data!r}: use one of {', '.join(TOY_DATA)}")
    if loss not in TOY_LOSSES:
        raise ExploreError(f"unknown loss {loss!r}: use one of {', '.join(TOY_LOSSES)}")
    settings = {"seed": _whole(seed, "seed", 0, 2 ** 31 - 1)}
    if d_steps is not None:
        settings["d_steps"] = _whole(d_steps, "k (discriminator steps per generator step)", 1, 100)
    for name, value in (("lr_d", lr_d), ("lr_g", lr_g), ("clip", clip), ("gp_weight", gp_weight)):
        if value is not None:
            settings[name] = value
    if isinstance(points, str):
        try:
            points = json.loads(points) if points.strip() else None
        except ValueError:
            raise ExploreError("the drawn points are not readable: clear them and draw again") from None
    if data == "drawn_2d" and not points:
        raise ExploreError("draw some points on the plane first (click or paint), then start")
    try:
        return ToyGAN(data=data, loss=loss, points=points if data == "drawn_2d" else None, **settings)
    except ToyError as exc:
        raise ExploreError(str(exc)) from None


def preset_settings(name: str) -> dict:
    """A lesson's settings with every control filled in (the toy's defaults where the preset is silent), and the
    diffusion's and flow's sampling steps."""
    if name not in PRESETS:
        raise ExploreError(f"unknown lesson {name!r}")
    s = toy_settings(**PRESETS[name])   # no networks: the page's controls are built from these at start-up
    return {"data": s.data, "loss": s.loss, "d_steps": s.d_steps, "lr_d": s.lr_d, "lr_g": s.lr_g,
            "clip": s.clip, "gp_weight": s.gp_weight, "steps": PRESET_SAMPLING_STEPS.get(name, SAMPLING_STEPS)}


def _whole(value, name: str, low: int, high: int) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ExploreError(f"{name} must be a whole number, got {value!r}") from None
    if not math.isfinite(number) or number != int(number) or not low <= number <= high:
        raise ExploreError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return int(number)


@dataclass
class LabToy:
    """One page's toys (a GAN, and the diffusion model and flow beside it) and when they were last asked for a frame."""
    toy: ToyGAN
    walkers: tuple[ToyWalker, ...] = ()   # () : made on the GAN's data by walkers_beside
    id: str = field(default_factory=lambda: secrets.token_hex(8))
    last_seen: float = field(default_factory=time.monotonic)
    last_played: float = -1e9     # when it last trained a step (the cap on running toys counts these)
    train_s: float = 0.0          # seconds of training so far

    def __post_init__(self):
        self._lock = threading.Lock()
        self.walkers = self.walkers or walkers_beside(self.toy)
        self._walker_frames: dict[str, tuple[tuple[int, int], dict]] = {}
        self._picture_s = 0.0      # what the last frame's snapshots took

    def act(self, action: str, speed: int, steps: int = SAMPLING_STEPS) -> dict:
        """Do ``action`` and answer the frame: play = up to ``speed`` generator steps (each after k
        discriminator steps) and WALKER_STEPS_PER_G_STEP times as many diffusion and flow steps, within the frame
        budget; d_step / g_step = one step of that GAN player only; look = nothing. The diffusion and the flow
        draw with ``steps`` sampling steps. A second tab on the same toy while it computes only gets the frame."""
        self.last_seen = time.monotonic()
        if self._lock.acquire(blocking=False):
            try:
                start = time.perf_counter()
                if action != "look":
                    self.last_played = time.monotonic()
                if action == "play":
                    self._play(speed)
                elif action in ("d_step", "g_step") and not self.toy.diverged:
                    (self.toy.d_step if action == "d_step" else self.toy.g_step)()
                self.train_s += time.perf_counter() - start
                return self._frame(steps)
            finally:
                self._lock.release()
        with self._lock:
            return self._frame(steps)

    def _play(self, speed: int) -> None:
        """Each toy in turn trains its steps until its share of the frame's budget is spent: an equal share of what
        the ones before it left (every toy takes at least one step, so none stands still under load)."""
        start = time.perf_counter()
        budget = min(FRAME_BUDGET_S, FRAME_TARGET_S - self._picture_s)
        turns = [(self.toy, speed)] + [(walker, speed * WALKER_STEPS_PER_G_STEP) for walker in self.walkers]
        for left, (learner, steps) in zip(range(len(turns), 0, -1), turns):
            began = time.perf_counter()
            share = (budget - (began - start)) / left
            for _ in range(steps):
                learner.train(1)
                if time.perf_counter() - began > share or learner.diverged:
                    break

    def _frame(self, steps: int) -> dict:
        """The GAN's frame, with the diffusion's and the flow's under "walkers" (theirs computed again only when
        they have trained or the sampling steps changed)."""
        start = time.perf_counter()
        out = frame_data(self.toy.snapshot(), self.train_s)
        out["walkers"] = {}
        for walker in self.walkers:
            key = (walker.step, steps)
            kept = self._walker_frames.get(walker.kind)
            if kept is None or kept[0] != key:
                snapshot = walker.snapshot(steps, points=WALK_POINTS, walks=WALKS)
                del snapshot["real"]          # the very points of the GAN's frame (walkers_beside)
                kept = self._walker_frames[walker.kind] = (key, frame_data(snapshot))
            out["walkers"][walker.kind] = kept[1]
        self._picture_s = time.perf_counter() - start
        return out


def frame_data(snapshot: dict, train_s: float | None = None) -> dict:
    """A snapshot as JSON-ready numbers, rounded (a frame stays ~20-40 kB per toy), the curves thinned."""
    out = {}
    for key, value in snapshot.items():
        if key == "history":
            step = max(1, math.ceil(len(value) / MAX_HISTORY_POINTS))
            kept = value[::step] + ([value[-1]] if value and (len(value) - 1) % step else [])
            out[key] = {k: [_number(r[k]) for r in kept] for k in (kept[0] if kept else ())}
        elif isinstance(value, np.ndarray):
            out[key] = np.round(value.astype(np.float64), 3).tolist()
        elif isinstance(value, float):
            out[key] = _number(value)
        else:
            out[key] = value
    if train_s is not None:
        out["train_s"] = round(train_s, 3)
    return out


def _number(value: float):
    """JSON has no NaN: a number not yet measured (before the first step) goes as null."""
    return round(float(value), 5) if math.isfinite(value) else None


class ToyBoard:
    """Every page's toy, by id (unguessable); toys unseen for two minutes are dropped, and at most
    ``max_running`` train at once (the others get a clear message and stay as they are)."""

    def __init__(self, *, max_toys: int = MAX_TOYS, max_running: int = MAX_RUNNING,
                 idle_expiry_s: float = IDLE_EXPIRY_S, slots: threading.Semaphore | None = None):
        self.max_toys = max_toys
        self.max_running = max_running
        self.idle_expiry_s = idle_expiry_s
        self._toys: dict[str, LabToy] = {}
        self._lock = threading.Lock()
        self._compute = slots if slots is not None else budget.INTERACTIVE

    def _expire(self) -> None:
        now = time.monotonic()
        for toy_id in [i for i, toy in self._toys.items() if now - toy.last_seen > self.idle_expiry_s]:
            del self._toys[toy_id]

    def add(self, toy: ToyGAN, *, replaces: str | None = None) -> LabToy:
        """Keep a new toy; ``replaces`` (the same page's previous toy) goes first."""
        held = LabToy(toy)   # its diffusion model and flow are made here, outside the board's lock
        with self._lock:
            self._expire()
            if replaces:
                self._toys.pop(replaces, None)
            if len(self._toys) >= self.max_toys:
                raise ExploreError(f"{len(self._toys)} toy labs are open on this server (the limit is "
                                   f"{self.max_toys}): try again in two minutes")
            self._toys[held.id] = held
        return held

    def get(self, toy_id) -> LabToy:
        if not isinstance(toy_id, str) or not TOY_ID.match(toy_id):
            raise ExploreError("not a GAN lab toy id")
        with self._lock:
            self._expire()
            held = self._toys.get(toy_id)
        if held is None:
            raise ExploreError("this toy has expired (unseen for two minutes): press Reset to start again")
        return held

    def running(self, *, besides: LabToy | None = None) -> int:
        now = time.monotonic()
        with self._lock:
            return sum(now - t.last_played < RUNNING_WINDOW_S for t in self._toys.values() if t is not besides)

    def frame(self, toy_id, action: str = "look", speed=1, steps=SAMPLING_STEPS) -> dict:
        if action not in ACTIONS:
            raise ExploreError(f"unknown action {action!r}: use one of {', '.join(ACTIONS)}")
        speed = _whole(speed, "speed (generator steps per frame)", 1, MAX_SPEED)
        steps = _whole(steps, "sampling steps (of the diffusion and the flow)", 1, MAX_SAMPLING_STEPS)
        held = self.get(toy_id)
        if action == "play" and self.running(besides=held) >= self.max_running:
            raise ExploreError(f"{self.max_running} toy labs are training on this server right now (the limit): "
                               "yours is paused as it is; press Play again in a few seconds")
        with self._compute:
            return held.act(action, speed, steps)

    def __len__(self) -> int:
        return len(self._toys)
