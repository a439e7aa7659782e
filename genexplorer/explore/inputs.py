"""What a user sends, checked (numbers, seeds, classes, pictures), and the shipped test pictures the tabs start from."""
from __future__ import annotations

import functools
import math

import numpy as np
import torch

from ..data import dataset_info, load_dataset
from ..preprocess import preprocess


class ExploreError(ValueError):
    """A request the explorer cannot serve; the message is meant for the page."""


def inference(function):
    """Run ``function`` under torch.inference_mode: the pages only ever read the shared models."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with torch.inference_mode():
            return function(*args, **kwargs)
    return wrapper


def as_batch(image) -> torch.Tensor:
    """(28, 28) / (1, 28, 28) / (B, 1, 28, 28), uint8 or float -> float (B, 1, 28, 28) in [0, 1]."""
    tensor = torch.as_tensor(np.array(image) if not isinstance(image, torch.Tensor) else image)
    if tensor.dtype == torch.uint8:
        tensor = tensor.float() / 255.0
    tensor = tensor.float()
    while tensor.ndim < 4:
        tensor = tensor.unsqueeze(0)
    if tuple(tensor.shape[1:]) != (1, 28, 28):
        raise ExploreError(f"expected a 28x28 image, got shape {tuple(tensor.shape)}")
    return tensor.clamp(0.0, 1.0)


def preprocess_picture(image, dataset: str) -> np.ndarray:
    """Any picture (a canvas, a photo; PIL or array, ink dark or light) -> uint8 (28, 28), made the way the dataset's
    pictures were made. BlankImageError (preprocess.py) when there is nothing to see."""
    style = dataset_info(dataset).preprocess_style
    return np.round(preprocess(image, style=style).numpy()[0] * 255).astype(np.uint8)


def finite(value, what: str, low: float, high: float) -> float:
    """A number a user typed or sent -> float in [low, high]; anything else (text, NaN, infinity, out of range)
    raises ExploreError naming ``what``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ExploreError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise ExploreError(f"{what} must be between {low} and {high}, got {value!r}")
    return number


def check_label(label: int | None, num_classes: int) -> int | None:
    """A class number for a model of ``num_classes`` classes (None stays None: "the most likely one")."""
    if label is not None and not 0 <= label < num_classes:
        raise ExploreError(f"class must be between 0 and {num_classes - 1}")
    return label


def seeded_generator(seed) -> torch.Generator:
    """A user's seed (an integer in [0, 2**31 - 1], checked) -> a torch.Generator seeded with it."""
    return torch.Generator().manual_seed(int(finite(seed, "seed", 0, 2 ** 31 - 1)))


_TEST_SETS: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def test_set(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """The shipped test split of a dataset (cached: the maps and examples share it)."""
    if dataset not in _TEST_SETS:
        _TEST_SETS[dataset] = load_dataset(dataset, "test")
    return _TEST_SETS[dataset]


def examples(dataset: str, per_class: int = 1, *, offset: int = 0) -> list[tuple[np.ndarray, int]]:
    """A few test images per class, in class order: (uint8 (28, 28), label)."""
    images, labels = test_set(dataset)
    out = []
    for label in range(len(dataset_info(dataset).class_names)):
        where = np.flatnonzero(labels == label)
        for i in range(per_class):
            if len(where):
                index = where[(offset + i) % len(where)]
                out.append((images[index], label))
    return out


def mean_image(dataset: str) -> torch.Tensor:
    """The average test image (1, 1, 28, 28): the simple inpainting baseline."""
    images, _ = test_set(dataset)
    return torch.from_numpy(images.mean(0) / 255.0).float().reshape(1, 1, 28, 28)
