"""Sketch to picture (logic only, no Gradio): a drawing on the canvas, or a test item, becomes an edge map the
way pix2pix's training sketches were made (genexplorer.edges), and the pix2pix models translate it."""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from .edges import edges, is_blank
from .explore import ExploreError
from .images import to_uint8
from .models import GenerativeModel

# (checkpoint role "<dataset>-<role>", title), left to right on the page
TRANSLATORS = (("pix2pix", "pix2pix (L1 + adversarial)"), ("pix2pix-l1", "L1 only (the blur)"))


def drawing_to_sketch(pixels: np.ndarray) -> torch.Tensor:
    """The canvas (uint8 (H, W), white strokes on black) shrunk whole to 28x28, as the training pictures fill
    their frame, then through the same edge function as the training sketches: (1, 1, 28, 28) of 0 and 1."""
    pixels = np.asarray(pixels, dtype=np.uint8)
    if pixels.ndim != 2 or pixels.max() == 0:
        raise ExploreError("the sketch is blank: draw the outline of a piece of clothing (or a digit)")
    small = np.asarray(Image.fromarray(pixels).resize((28, 28), Image.BOX), dtype=np.float32) / 255.0
    sketch = edges(torch.from_numpy(small)[None, None])
    if is_blank(sketch).any():
        raise ExploreError("the sketch is too small or too faint: draw a larger outline")
    return sketch


def picture_to_sketch(picture28: np.ndarray) -> torch.Tensor:
    """A test picture (uint8 (28, 28)) -> its edge map, exactly as pix2pix was trained."""
    return edges(torch.from_numpy(np.asarray(picture28, dtype=np.float32) / 255.0)[None, None])


def translate_all(models: dict[str, tuple[str, GenerativeModel]], sketch: torch.Tensor) -> dict[str, np.ndarray]:
    """{title: uint8 (28, 28) picture} for every loaded translator."""
    return {title: to_uint8(model.translate(sketch))[0] for title, (_, model) in models.items()}
