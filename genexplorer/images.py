"""Small image helpers: tensors -> uint8 arrays, grids and PNG bytes. No model logic."""
from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image

PIXEL_SCALE = 5          # the page's 28x28 pictures are sent as 140x140 PNGs, crisp squares


def to_uint8(images) -> np.ndarray:
    """(B, 1, 28, 28) or (1, 28, 28) or (28, 28) float in [0, 1] -> uint8 (B, 28, 28) or (28, 28)."""
    if isinstance(images, torch.Tensor):
        images = images.detach().cpu().float().numpy()
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4:
        images = images[:, 0]
    elif images.ndim == 3 and images.shape[0] == 1:
        images = images[0]
    return (np.clip(np.nan_to_num(images), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def grid(images, *, ncols: int, pad: int = 2, pad_value: int = 40) -> np.ndarray:
    """uint8 (B, H, W) -> one uint8 picture with the images in rows of ``ncols``."""
    images = to_uint8(images) if not (isinstance(images, np.ndarray) and images.dtype == np.uint8) else images
    if images.ndim == 2:
        images = images[None]
    count, height, width = images.shape
    nrows = max(1, -(-count // ncols))
    out = np.full((nrows * (height + pad) + pad, ncols * (width + pad) + pad), pad_value, dtype=np.uint8)
    for index, picture in enumerate(images):
        row, col = divmod(index, ncols)
        top, left = pad + row * (height + pad), pad + col * (width + pad)
        out[top: top + height, left: left + width] = picture
    return out


def upscale(array: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling: pixels stay crisp squares."""
    return np.repeat(np.repeat(array, factor, axis=0), factor, axis=1)


def png_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", optimize=False, compress_level=1)
    return buffer.getvalue()
