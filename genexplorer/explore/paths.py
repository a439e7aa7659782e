"""What the Diffusion tab asks: a picture on the noising paths, too few steps, guidance, and what each family pays.

The diffusion model and the flow both noise a picture x along x_t = alpha(t) x + sigma(t) eps (t = 0: the picture,
t = 1: noise): the diffusion model on a variance-preserving curve (alpha^2 + sigma^2 = 1), the flow on the straight
line (alpha + sigma = 1). ``forward`` shows one picture on both paths at one t with the same noise eps; the other
functions draw samples: the same seed at a few step counts (``steps_strip``), a class x seed grid under guidance
(``guidance_grid``, ``row_agreement``), and the same seed through every generator (``every_generator``), with
the Frechet distances the bench measured (``frechet_figures``, read from assets/frechet.json).
"""
from __future__ import annotations

import functools
import json
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch

from ..data import ASSETS_DIR
from ..images import to_uint8
from ..models import GenerativeModel, build
from ..models.base import IMAGE_SHAPE
from .cache import ModelCache
from .drawing import read_pictures
from .inputs import ExploreError, check_label, finite, seeded_generator

STRIP_STEPS = (1, 2, 5, 10, 50)
GRID_SEEDS = 6
FRECHET_FILE = ASSETS_DIR / "frechet.json"
# The same seed through every generator, one row each: (role, title), the roles of cache.py.
COMPARED_ROLES = (("vae", "VAE"), ("gan", "GAN"), ("cgan", "cGAN"), ("pixelcnn", "PixelCNN"),
                  ("diffusion", "Diffusion"), ("flow", "Flow matching"))


# ------------------------------------------------------------------ the walkers and their settings

def check_walker(model: GenerativeModel) -> None:
    """Only a model that samples by denoising walks from noise to a picture in steps."""
    if not (model.can("samples") and model.can("denoises")):
        raise ExploreError(f"a {model.kind} does not walk from noise to pictures: pick a diffusion or flow checkpoint")


def check_steps(steps, most: int) -> int:
    return int(finite(steps, "number of steps", 1, most))


def check_guidance(guidance, model: GenerativeModel | None = None) -> float:
    """The guidance weight w, 0 to 10 (the page's range); a model trained without classes takes none."""
    weight = finite(guidance, "guidance weight w", 0, 10)
    if weight and model is not None and not model.conditional:
        raise ExploreError("this checkpoint was trained without classes: it cannot be guided (set w to 0)")
    return weight


def check_sampler(model: GenerativeModel, sampler: str | None) -> str:
    if sampler is None:
        return model.samplers[0]
    if sampler not in model.samplers:
        raise ExploreError(f"a {model.kind} steps with {' or '.join(model.samplers)}, not {sampler!r}")
    return sampler


def classes_for(model: GenerativeModel, count: int, label: int | None,
                generator: torch.Generator) -> torch.Tensor | None:
    """The classes a conditional model draws: ``label`` for every picture, or (None) classes drawn from the
    seed's generator; None for a model without classes."""
    if not model.conditional:
        return None
    if label is not None:
        return torch.full((count,), check_label(label, model.num_classes), dtype=torch.long)
    return torch.randint(model.num_classes, (count,), generator=generator)


def passes_per_picture(model: GenerativeModel, *, steps: int = 1, sampler: str | None = None,
                       guidance: float = 0.0) -> int:
    """Network passes one new picture costs: a walker's steps (twice with Heun, twice with guidance), one per
    pixel for a model with an exact likelihood (autoregressive), one pass of a decoder otherwise."""
    if model.can("samples") and model.can("denoises"):
        return model.network_passes(steps, sampler=sampler, guidance=guidance)
    if model.can("exact_likelihood"):
        return IMAGE_SHAPE[1] * IMAGE_SHAPE[2]
    return 1


@dataclass(frozen=True)
class WalkPlan:
    """One side of the comparison: which model, how many steps, which sampler."""
    title: str
    name: str
    model: GenerativeModel
    steps: int
    sampler: str | None = None



# ------------------------------------------------------------------ the forward process

@functools.lru_cache(maxsize=None)
def default_path(kind: str) -> GenerativeModel:
    """An untrained model of ``kind`` (a walker family: "diffusion" or "flow"): its noising path is the
    family's default, fixed, not learned, so the forward process can be shown before any checkpoint exists."""
    model = build(kind)
    check_walker(model)
    return model


@dataclass
class Noised:
    """One picture on one model's path at noise level t."""
    title: str
    name: str | None           # the checkpoint; None: the family's default path (nothing to denoise with)
    noisy: np.ndarray          # uint8 (28, 28): x_t, clamped to [0, 1] to be shown
    seen: np.ndarray | None    # uint8 (28, 28): the picture the network sees in x_t (one pass), None without one
    alpha: float
    sigma: float
    snr: float                 # alpha^2 / sigma^2 (infinite at t = 0)

    @property
    def snr_db(self) -> float:
        return math.inf if self.snr == math.inf else (-math.inf if self.snr <= 0 else 10 * math.log10(self.snr))


def check_time(t) -> float:
    return finite(t, "noise level t", 0, 1)


def forward(x: torch.Tensor, t, seed, paths: list[tuple[str, str | None, GenerativeModel]]) -> list[Noised]:
    """x (1, 1, 28, 28) in [0, 1] noised to level t on each (title, checkpoint name or None, model)'s path, with
    the same noise eps (drawn from ``seed``), and what each checkpoint's network sees in it."""
    t = check_time(t)
    seeded_generator(seed)       # refuse a bad seed before any work
    answers = []
    with torch.inference_mode():
        for title, name, model in paths:
            check_walker(model)
            noisy = model.add_noise(x, t, generator=seeded_generator(seed))
            seen = to_uint8(model.denoise(noisy, t))[0] if name is not None else None
            alpha, sigma = model.scalars(t)
            snr = math.inf if sigma == 0 else alpha ** 2 / sigma ** 2
            answers.append(Noised(title, name, to_uint8(noisy.clamp(0, 1))[0], seen, alpha, sigma, snr))
    return answers


# ------------------------------------------------------------------ sampling

def _sample(plan: WalkPlan, count: int, seed, *, steps: int, label=None, guidance: float = 0.0,
            classes: torch.Tensor | None = None) -> torch.Tensor:
    generator = seeded_generator(seed)
    if classes is None:
        classes = classes_for(plan.model, count, label, generator)
    return plan.model.sample(count, classes, generator, steps=steps, guidance=guidance,
                             sampler=check_sampler(plan.model, plan.sampler))


@torch.inference_mode()
def steps_strip(plans: list[WalkPlan], seed, *, label: int | None = None,
                steps: tuple[int, ...] = STRIP_STEPS) -> np.ndarray:
    """The first picture of ``seed`` after each number of ``steps``, for each plan's model and sampler (the same
    start noise every time): uint8 (len(plans) * len(steps), 28, 28), one row per plan."""
    pictures = []
    for plan in plans:
        check_walker(plan.model)
        pictures += [_sample(plan, 1, seed, steps=count, label=label) for count in steps]
    return to_uint8(torch.cat(pictures)) if pictures else np.zeros((0, 28, 28), np.uint8)


class _Recent:
    """The last few grids, so a guidance slider moved back to a weight already seen answers at once."""

    def __init__(self, size: int = 24):
        self.size, self._items, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
            return self._items.get(key)

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_GRIDS = _Recent()


def guidance_grid(plan: WalkPlan, guidance, seed, *, columns: int = GRID_SEEDS) -> np.ndarray:
    """A conditional walker's class x seed grid: row c is class c, column j the seed ``seed + j`` (one batch of
    every class per seed), guided with weight w = ``guidance``, ``plan.steps`` steps.
    -> uint8 (num_classes * columns, 28, 28), row by row."""
    model = plan.model
    check_walker(model)
    if not model.conditional:
        raise ExploreError(f"{plan.name} was trained without classes: no class grid, no guidance")
    weight = check_guidance(guidance, model)
    seed = int(finite(seed, "seed", 0, 2 ** 31 - 1 - columns))
    sampler = check_sampler(model, plan.sampler)
    key = (plan.name, id(model), weight, seed, plan.steps, sampler, columns)
    cached = _GRIDS.get(key)
    if cached is not None:
        return cached
    classes = torch.arange(model.num_classes)
    with torch.inference_mode():
        by_seed = [_sample(plan, model.num_classes, seed + j, steps=plan.steps, guidance=weight, classes=classes)
                   for j in range(columns)]
    pictures = to_uint8(torch.stack(by_seed, dim=1).flatten(0, 1))    # (classes, seeds, ...) -> row by row
    _GRIDS.put(key, pictures)
    return pictures


def row_agreement(pictures: np.ndarray, dataset: str, cache: ModelCache, class_names: list[str]) -> list[float] | None:
    """The share of each row of a class grid (row c asked for class c) that the dataset's classifier reads as
    class c; None without a classifier."""
    readings = read_pictures(list(pictures), dataset, cache, top=1)
    if readings is None:
        return None
    columns = len(pictures) // len(class_names)
    read = [reading[0][0] for reading in readings]
    return [sum(name == asked for name in read[c * columns:(c + 1) * columns]) / columns
            for c, asked in enumerate(class_names)]


# ------------------------------------------------------------------ what each family pays

@dataclass
class GeneratorRow:
    title: str
    name: str
    pictures: np.ndarray        # uint8 (count, 28, 28)
    passes: int                 # network passes per picture
    milliseconds: float         # measured now, for all ``count`` pictures at once
    frechet: dict | None        # {"frechet", "samples", ...} from assets/frechet.json, None: not measured yet


def frechet_figures(path=None) -> dict:
    """{"figures": {checkpoint name: {"frechet": distance, "samples": count, ...}}, "floors": {dataset: the same
    for training images against test images}} as the bench measured them (devtools/frechet_figures.py writes the
    file from BENCHMARKS.md); both empty when there is no such file."""
    try:
        data = json.loads((path or FRECHET_FILE).read_text())
    except (OSError, ValueError):
        data = {}
    data = data if isinstance(data, dict) else {}
    return {key: data[key] if isinstance(data.get(key), dict) else {} for key in ("figures", "floors")}


def every_generator(models: dict[str, tuple[str, GenerativeModel]], count, seed, *,
                    walks: dict[str, tuple[int, str | None]], figures: dict) -> list[GeneratorRow]:
    """``count`` pictures from ``seed`` by each {title: (name, model)}: walkers with walks[title] = (steps,
    sampler), unguided; a conditional model draws classes 0, 1, 2, ... so the rows compare. Timed one by one."""
    count = int(finite(count, "number of pictures", 1, 12))
    seeded_generator(seed)
    rows = []
    for title, (name, model) in models.items():
        classes = torch.arange(count) % model.num_classes if model.conditional else None
        steps, sampler = walks.get(title, (1, None))
        walker = model.can("samples") and model.can("denoises")
        started = time.perf_counter()
        with torch.inference_mode():
            if walker:
                plan = WalkPlan(title, name, model, steps, sampler)
                pictures = _sample(plan, count, seed, steps=steps, classes=classes)
            else:
                pictures = model.sample(count, classes, seeded_generator(seed))
        milliseconds = 1000 * (time.perf_counter() - started)
        passes = passes_per_picture(model, steps=steps, sampler=sampler if walker else None)
        figure = walk_figure(figures.get(name), steps, sampler or model.samplers[0]) if walker else figures.get(name)
        rows.append(GeneratorRow(title, name, to_uint8(pictures.clamp(0, 1)), passes, milliseconds, figure))
    return rows


def walk_figure(figure: dict | None, steps: int, sampler: str) -> dict | None:
    """A walker's figure at these steps and sampler when the bench measured them; else its own figure, which says
    its steps and sampler (the page shows them, so a 50-step figure is not read as a 5-step one)."""
    if not figure or not isinstance(figure.get("walks"), dict):
        return figure
    measured = figure["walks"].get(f"{sampler} {int(steps)}")
    return figure if measured is None else {**figure, "frechet": measured, "sampler": sampler, "steps": int(steps)}
