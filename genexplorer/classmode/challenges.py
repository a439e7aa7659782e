"""What the class mode asks of a drawing: the models' reading of it, and the challenges scored on that reading.

The models come in through a ``Judge`` (the real one, from the shipped checkpoints, is in ``judge.py``), so the
class store and its tests run without checkpoints. Every drawing is read once, in full (the classifier's
probabilities, the VAE's reconstruction error, its place on the 2-D map and how far that is from the test set),
so any challenge can score it from the stored reading, without the models.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np


class ChallengeError(ValueError):
    """A challenge the app cannot score; the message says what to send instead."""


class Judge(Protocol):
    """The models behind a class of one dataset. ``picture``: uint8 (28, 28), white ink on black, as the
    dataset's images were made (``genexplorer.preprocess``)."""

    def read(self, picture: np.ndarray) -> tuple[str, list[float]]:
        """-> (the classifier's reading (a class name), the probability of every class, in class order)."""

    def rebuild_error(self, picture: np.ndarray) -> float:
        """-> the VAE's reconstruction error: mean squared error per pixel, pixels in [0, 1]."""

    def map_position(self, picture: np.ndarray) -> tuple[float, float]:
        """-> where the picture's code falls on the dataset's 2-D latent map."""

    def nearest_distance(self, x: float, y: float) -> float:
        """-> the distance from (x, y) to the nearest test-set code on that map."""

    def rebuilds(self, picture: np.ndarray) -> list[tuple[str, np.ndarray]]:
        """-> (a model's title, its reconstruction: uint8 (28, 28)) for each model the board shows on demand."""


@dataclass(frozen=True)
class Reading:
    """Everything the models say about one drawing."""
    label: str                          # the classifier's reading
    probabilities: tuple[float, ...]    # every class's probability, in class order
    rebuild_error: float                # the VAE's mean squared error per pixel
    map_x: float                        # the drawing's place on the 2-D latent map
    map_y: float
    emptiness: float                    # the distance from there to the nearest test-set code

    @property
    def probability(self) -> float:
        """The probability of the class read."""
        return max(self.probabilities)

    def as_dict(self) -> dict:
        return {**asdict(self), "probabilities": list(self.probabilities), "probability": self.probability}


def read_picture(judge: Judge, picture: np.ndarray) -> Reading:
    """Ask every model about one drawing (uint8 (28, 28))."""
    label, probabilities = judge.read(picture)
    error = float(judge.rebuild_error(picture))
    x, y = (float(v) for v in judge.map_position(picture))
    emptiness = float(judge.nearest_distance(x, y))
    probabilities = tuple(float(p) for p in probabilities)
    if not all(math.isfinite(v) for v in (*probabilities, error, x, y, emptiness)):
        raise ChallengeError("the models gave a number that is not finite for this drawing")
    return Reading(str(label), probabilities, error, x, y, emptiness)


KINDS = ("read_as", "fool", "rebuild", "empty_map")
REBUILD_GOALS = ("worst", "best")


@dataclass(frozen=True)
class Challenge:
    """A task the app can score; a higher score ranks first.

    read_as:   draw something the classifier reads as ``target``; score: the probability of ``target``.
    fool:      draw a ``drawn`` the classifier reads as ``target``; score: the probability of ``target``
               (whether it is really a ``drawn`` is for the class to judge on the board).
    rebuild:   draw something the VAE rebuilds ``goal`` ("worst" or "best"); score: the reconstruction error
               (worst) or one minus it (best), the error being a mean squared error per pixel in [0, 1].
    empty_map: land on an empty part of the 2-D map; score: the distance to the nearest test-set code.
    """
    kind: str
    target: int | None = None
    drawn: int | None = None
    goal: str | None = None

    @classmethod
    def from_request(cls, spec, class_names: tuple[str, ...]) -> "Challenge":
        """A challenge as sent by the page, e.g. {"kind": "fool", "drawn": 4, "target": 9}, checked."""
        if not isinstance(spec, dict):
            raise ChallengeError('a challenge is an object such as {"kind": "read_as", "target": 3}')
        kind = spec.get("kind")
        if kind not in KINDS:
            raise ChallengeError(f"unknown challenge kind {kind!r}: use one of {', '.join(KINDS)}")
        wanted = {"read_as": {"target"}, "fool": {"target", "drawn"}, "rebuild": {"goal"}, "empty_map": set()}[kind]
        extra = set(spec) - wanted - {"kind"}
        if extra:
            raise ChallengeError(f"a {kind} challenge takes {', '.join(sorted(wanted)) or 'nothing else'}, "
                                 f"not {', '.join(sorted(map(str, extra)))}")
        fields = {name: _class_index(spec.get(name), name, class_names)
                  for name in ("target", "drawn") if name in wanted}
        if kind == "rebuild":
            if spec.get("goal") not in REBUILD_GOALS:
                raise ChallengeError(f"goal must be one of {', '.join(REBUILD_GOALS)}")
            fields["goal"] = spec["goal"]
        if kind == "fool" and fields["target"] == fields["drawn"]:
            raise ChallengeError("to fool the classifier, the class read must differ from the class drawn")
        return cls(kind, **fields)

    def prompt(self, class_names: tuple[str, ...]) -> str:
        """The task in words, for the students' bar and the board."""
        if self.kind == "read_as":
            return f"Draw something the classifier reads as {class_names[self.target]}"
        if self.kind == "fool":
            return f"Fool the classifier: draw a {class_names[self.drawn]} it reads as {class_names[self.target]}"
        if self.kind == "rebuild":
            return f"Draw something the VAE rebuilds {self.goal}"
        return "Land on an empty part of the map"

    def score(self, reading: Reading) -> float:
        if self.kind in ("read_as", "fool"):
            return reading.probabilities[self.target]
        if self.kind == "rebuild":
            return reading.rebuild_error if self.goal == "worst" else 1.0 - reading.rebuild_error
        return reading.emptiness

    def fields(self) -> dict:
        """The challenge as stored: {"kind": ..., and the fields it uses}; Challenge(**fields) rebuilds it."""
        return {name: value for name, value in asdict(self).items() if value is not None}

    def as_dict(self, class_names: tuple[str, ...]) -> dict:
        return {**self.fields(), "prompt": self.prompt(class_names)}


def _class_index(value, name: str, class_names: tuple[str, ...]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < len(class_names):
        raise ChallengeError(f"{name} must be a class number from 0 to {len(class_names) - 1}")
    return value
