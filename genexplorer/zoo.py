"""The autoencoder zoo of the lectures, side by side (logic only, no Gradio): one picture through PCA-16, a dense
AE, the conv AE, an overcomplete AE and a sparse AE, with their errors; the same for pure noise and for the
picture shifted, so the lessons show:

- an overcomplete code with no regulariser can copy its input: it rebuilds noise as well as a digit;
- the undercomplete codes (PCA, dense, conv) pull noise towards something digit-like;
- under a shift, the dense AE (which sees pixels, not patterns) degrades faster than the conv AE;
- the sparse AE's code, although as wide, keeps only a few units active.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .explore import ExploreError, as_batch, finite, seeded_generator
from .images import to_uint8
from .metrics import psnr
from .models import GenerativeModel

# (checkpoint role "<dataset>-<role>", title) in the order the page shows them.
ZOO = (("pca", "PCA-16"), ("ae-dense", "dense AE"), ("ae", "conv AE"), ("ae-over", "overcomplete AE"),
       ("ae-sparse", "sparse AE"))
INPUTS = ("your picture", "pure noise", "your picture, shifted")
MAX_SHIFT = 10
ACTIVE_THRESHOLD = 1e-3


@dataclass
class ZooResult:
    title: str
    name: str
    picture: np.ndarray          # uint8 (28, 28)
    mse: float
    psnr: float
    code_width: int
    active: int | None           # units above the threshold, for a ReLU (non-negative) code


def noise_picture(seed) -> np.ndarray:
    """Uniform noise, each pixel in [0, 255]: a picture no training image looks like."""
    generator = seeded_generator(seed)
    return to_uint8(torch.rand(1, 1, 28, 28, generator=generator))[0]


def shifted(picture: np.ndarray, dx, dy) -> np.ndarray:
    """The picture moved dx pixels right and dy down, what leaves the frame dropped, black coming in."""
    dx = int(finite(dx, "horizontal shift", -MAX_SHIFT, MAX_SHIFT))
    dy = int(finite(dy, "vertical shift", -MAX_SHIFT, MAX_SHIFT))
    out = np.zeros_like(picture)
    h, w = picture.shape
    out[max(dy, 0): h + min(dy, 0), max(dx, 0): w + min(dx, 0)] = \
        picture[max(-dy, 0): h + min(-dy, 0), max(-dx, 0): w + min(-dx, 0)]
    return out


def inputs_for(picture: np.ndarray, dx, dy, noise_seed) -> dict[str, np.ndarray]:
    picture = np.asarray(picture, dtype=np.uint8)
    if picture.shape != (28, 28):
        raise ExploreError(f"expected a 28x28 picture, got {picture.shape}")
    if picture.max() == 0:
        raise ExploreError("the picture is blank: draw something (Draw tab) or pick a test example")
    return {INPUTS[0]: picture, INPUTS[1]: noise_picture(noise_seed), INPUTS[2]: shifted(picture, dx, dy)}


@torch.inference_mode()
def through(title: str, name: str, model: GenerativeModel, picture: np.ndarray) -> ZooResult:
    x = as_batch(picture)
    z = model.encode(x)
    recon = model.decode(z)
    relu_code = getattr(model.config, "code_activation", "linear") == "relu"
    active = int((z.abs() > ACTIVE_THRESHOLD).sum()) if relu_code else None
    return ZooResult(title, name, to_uint8(recon)[0], float((recon - x).pow(2).mean()), float(psnr(recon, x)[0]),
                     model.latent_dim, active)


def run_zoo(models: dict[str, tuple[str, GenerativeModel]], inputs: dict[str, np.ndarray]) -> dict[str, list[ZooResult]]:
    """{input name: [one result per model, in the models' order]}; models: {title: (checkpoint name, model)}."""
    return {label: [through(title, name, model, picture) for title, (name, model) in models.items()]
            for label, picture in inputs.items()}


@torch.inference_mode()
def code_strip(model: GenerativeModel, picture: np.ndarray, *, scale: int = 6) -> tuple[np.ndarray, int, int]:
    """A code drawn as a near-square grid of cells (bright = large), and (active units, width):
    the sparse AE's few active units against the overcomplete AE's many."""
    z = model.encode(as_batch(picture))[0].abs()
    width = z.numel()
    columns = math.ceil(math.sqrt(width))
    rows = math.ceil(width / columns)
    cells = torch.zeros(rows * columns)
    cells[:width] = z / z.max().clamp_min(1e-8)
    image = (cells.reshape(rows, columns) * 255).round().to(torch.uint8).numpy()
    image = np.kron(image, np.ones((scale, scale), dtype=np.uint8))
    return image, int((z > ACTIVE_THRESHOLD).sum()), width


def errors_table(results: dict[str, list[ZooResult]]) -> str:
    """Markdown: one row per model, the error on each input (PSNR in dB, higher = closer), the code's width."""
    labels = list(results)
    models = results[labels[0]] if labels else []
    lines = ["| model | code width | " + " | ".join(f"{label}: PSNR (dB)" for label in labels) + " |",
             "|---|---|" + "---|" * len(labels)]
    for index, first in enumerate(models):
        width = f"{first.code_width:,}" + (" (overcomplete)" if first.code_width > 784 else "")
        cells = []
        for label in labels:
            result = results[label][index]
            cells.append(f"{result.psnr:.1f}" + (f" ({result.active:,} active)" if result.active is not None else ""))
        lines.append(f"| {first.title} (`{first.name}`) | {width} | " + " | ".join(cells) + " |")
    return "\n".join(lines)

