"""The one edge function of the sketch-to-picture lesson: pictures -> thin white strokes on black.

pix2pix learns from (edges(x), x) pairs made from the training images, and the page applies the same function to
what a person draws, so a hand-drawn outline and the training sketches look alike. For a filled shape the
result is its outline (the silhouette's inner boundary, one pixel wide) plus strong inner edges (a collar, a
sole's line); a drawing that is already thin strokes comes back nearly as it was, since a stroke one or two
pixels wide is all boundary. No Gradio, no learning: plain tensor operations.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

SILHOUETTE_LEVEL = 0.08     # Fashion-MNIST's dark garments are still garment: a low threshold
INNER_EDGE_LEVEL = 0.35     # inner edges: a grey-level step of at least this (0-1 scale, Sobel-normalised)


def _check(x: torch.Tensor) -> torch.Tensor:
    x = torch.as_tensor(x)
    if x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28):
        raise ValueError(f"expected pictures of shape (B, 1, 28, 28), got {tuple(x.shape)}")
    x = x.float()
    if not torch.isfinite(x).all():
        raise ValueError("the pictures contain NaN or infinite values")
    return x.clamp(0.0, 1.0)


def edges(x: torch.Tensor) -> torch.Tensor:
    """x: (B, 1, 28, 28) in [0, 1] -> (B, 1, 28, 28) of 0 and 1: the outline and the strong inner edges."""
    x = _check(x)
    silhouette = (x > SILHOUETTE_LEVEL).float()
    # Erosion with a 3x3 cross (4-neighbourhood): a pixel stays if it and its four neighbours are inside.
    cross = torch.tensor([[0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 0.0]]).reshape(1, 1, 3, 3)
    eroded = (F.conv2d(silhouette, cross, padding=1) >= 5).float()
    outline = silhouette - eroded
    sobel_x = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]).reshape(1, 1, 3, 3) / 4
    gx = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), sobel_x)
    gy = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), sobel_x.transpose(2, 3))
    inner = ((gx.pow(2) + gy.pow(2)).sqrt() > INNER_EDGE_LEVEL).float() * eroded
    return torch.maximum(outline, inner)


def is_blank(sketch: torch.Tensor) -> torch.Tensor:
    """(B,) bool: a sketch with nothing drawn (fewer than 4 edge pixels)."""
    return _check(sketch).flatten(1).gt(0.5).sum(1) < 4
