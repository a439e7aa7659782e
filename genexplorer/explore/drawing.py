"""One drawing -> every model's answer: what the Draw tab and its live channel show, asked here once.

The page sends the canvas; ``answer_drawing`` makes the picture the models see (as the dataset's pictures were
made), asks every model of the tab for its reconstruction (the VAE with its nats, the CVAE with the class it
guessed), the classifier for what it reads in the drawing and in each reconstruction, and the model with an exact
likelihood (the PixelCNN) for -log p(x); the handler only renders the answer. While a stroke goes on,
``answer_drawings`` answers a micro-batch of drawings (several students, two datasets) with the pictures alone:
each model runs once on every picture of its dataset, in the live previews' arithmetic (precision.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .. import precision
from ..data import dataset_info
from ..preprocess import BlankImageError
from .cache import ModelCache
from .inputs import as_batch, check_label, preprocess_picture
from .reconstruct import Reconstruction, classify_many, exact_nats, reconstruct, reconstruct_images

# The Draw tab's models, left to right: (role, title). A role is the checkpoint "<dataset>-<role>" (cache.py).
DRAWING_ROLES = (("ae", "AE"), ("vae", "VAE"), ("cvae", "CVAE"), ("dae", "Denoising AE"))
READER = ("classifier", "classifier")
EXACT = ("pixelcnn", "PixelCNN")

Reading = list[tuple[str, float]]     # a classifier's top 3: (class name, probability), most probable first


@dataclass
class Drawing:
    """One drawing to answer: the canvas (uint8 (H, W), white ink on black; None: nothing drawn), or with
    ``preprocessed`` a picture already made like the dataset's (a test example, uint8 (28, 28))."""
    pixels: np.ndarray | None
    dataset: str
    label: int | None = None           # the class the conditional models are told; None: their most likely
    preprocessed: bool = False

    def __post_init__(self):
        check_label(self.label, len(dataset_info(self.dataset).class_names))


@dataclass
class DrawingAnswer:
    """What the models make of one drawing. Lists follow ``roles`` (DRAWING_ROLES): None where a role has no model."""
    seen: np.ndarray | None            # uint8 (28, 28): the picture the models are given; None: nothing to see
    roles: tuple = DRAWING_ROLES       # (role, title) of each model asked, in order
    blank: str = ""                    # why nothing is seen (too small or faint); "" for an empty canvas
    pictures: list[np.ndarray | None] = field(default_factory=list)          # uint8 (28, 28) reconstructions
    results: list[Reconstruction | None] = field(default_factory=list)       # with their numbers (full answers)
    problems: list[str] = field(default_factory=list)   # a role without a checkpoint, or whose checkpoint is broken
    reading: Reading | None = None     # what the classifier reads in the drawing (None: no classifier)
    readings: list[Reading | None] = field(default_factory=list)             # ... and in each reconstruction
    exact_nats: tuple[str, float] | None = None   # (title, -log p(x) in nats) from a model with an exact likelihood

    @property
    def bound(self) -> tuple[str, float, float] | None:
        """(title, reconstruction nats, KL nats) of the first model with a bound on -log p(x) (the VAE's -ELBO)."""
        for (_, title), result in zip(self.roles, self.results):
            if result is not None and "rec_nats" in result.details:
                return title, result.details["rec_nats"], result.details["kl_nats"]
        return None


def _seen(drawing: Drawing, roles) -> DrawingAnswer:
    """An answer with the picture the models are given, and no model's answer yet."""
    if drawing.pixels is None:
        return DrawingAnswer(None, roles)
    if drawing.preprocessed:
        return DrawingAnswer(np.asarray(drawing.pixels, dtype=np.uint8), roles)
    try:
        return DrawingAnswer(preprocess_picture(drawing.pixels, drawing.dataset), roles)
    except BlankImageError as exc:
        return DrawingAnswer(None, roles, blank=str(exc))


def answer_drawing(drawing: Drawing, cache: ModelCache, *, roles=DRAWING_ROLES) -> DrawingAnswer:
    """Every model's full answer to one drawing: reconstructions with their numbers, the classifier's readings,
    the exact -log p(x). Checkpoints load from ``cache``; one that is missing or broken is a problem, not a failure."""
    answer = _seen(drawing, roles)
    if answer.seen is None:
        return answer
    x = as_batch(answer.seen)
    loaded, answer.problems = cache.load_roles(drawing.dataset, roles)
    answer.results = [reconstruct(loaded[title][1], x, label=drawing.label, name=loaded[title][0])
                      if title in loaded else None for _, title in roles]
    answer.pictures = [None if result is None else result.image for result in answer.results]
    shown = [answer.seen, *(picture for picture in answer.pictures if picture is not None)]
    read = read_pictures(shown, drawing.dataset, cache)     # the drawing, then each reconstruction: one pass
    if read is not None:
        answer.reading = read[0]
        rest = iter(read[1:])
        answer.readings = [None if picture is None else next(rest) for picture in answer.pictures]
    exact, _ = cache.load_roles(drawing.dataset, [EXACT])
    if exact:
        answer.exact_nats = (EXACT[1], exact_nats(exact[EXACT[1]][1], x))
    return answer


def answer_drawings(drawings: list[Drawing], cache: ModelCache, *, roles=DRAWING_ROLES) -> list[DrawingAnswer]:
    """The live previews of a micro-batch of drawings: the pictures alone (no numbers, no readings), each model
    once on every picture of its dataset, in the live previews' arithmetic (bfloat16 where the CPU has it)."""
    answers = [_seen(drawing, roles) for drawing in drawings]
    by_dataset: dict[str, list[int]] = {}
    for i, (drawing, answer) in enumerate(zip(drawings, answers)):
        answer.pictures = [None] * len(roles)
        if answer.seen is not None:
            by_dataset.setdefault(drawing.dataset, []).append(i)
    for dataset, members in by_dataset.items():
        loaded, problems = cache.load_roles(dataset, roles)
        x = torch.cat([as_batch(answers[i].seen) for i in members])
        labels = [drawings[i].label for i in members]
        for column, (_, title) in enumerate(roles):
            if title not in loaded:
                continue
            with precision.live_arithmetic():   # a preview: the answer at the stroke's end is in float32
                rebuilt = reconstruct_images(precision.live_model(loaded[title][1]), x, labels)
            for row, i in enumerate(members):
                answers[i].pictures[column] = rebuilt[row]
        for i in members:
            answers[i].problems = problems
    return answers


def read_pictures(pictures28: list, dataset: str, cache: ModelCache, *, top: int = 3) -> list[Reading] | None:
    """What the dataset's classifier reads in each picture (uint8 (28, 28)), in one pass; None when the dataset has
    no classifier (the app works without one, it only reads less)."""
    readers, _ = cache.load_roles(dataset, [READER])
    if not readers or not pictures28:
        return None if not readers else []
    return classify_many(readers[READER[1]][1], torch.cat([as_batch(p) for p in pictures28]), top=top)
