"""Filling hidden pixels: each model the way it can (code optimisation under a bound, one pass of a hole filler,
pixel by pixel under an exact likelihood, projection through an autoencoder), the preset holes, and the score."""
from __future__ import annotations

import numpy as np
import torch

from ..images import to_uint8
from ..models import GenerativeModel
from .inputs import ExploreError, finite
from .reconstruct import best_class

# Hidden regions for inpainting, as the benchmarks and the Upload tab name them.
MASKS = ("centre", "bottom", "right")


def inpaint(model: GenerativeModel, x: torch.Tensor, hidden: torch.Tensor, *, iterations: int = 100,
            label: int | None = None, seed: int = 0) -> np.ndarray:
    """Fill the hidden pixels of x (1, 1, 28, 28); hidden is a bool mask of the same shape.
    Returns uint8 (28, 28). The method is ``inpaint_batch``'s."""
    hidden = hidden.bool().reshape(1, 1, 28, 28)
    if hidden.sum() == 0:
        return to_uint8(x)[0]
    labels = None if label is None else torch.tensor([label])
    return to_uint8(inpaint_batch(model, x, hidden, iterations=iterations, labels=labels, seed=seed))[0]


def inpaint_batch(model: GenerativeModel, x: torch.Tensor, hidden: torch.Tensor, *, iterations: int = 100,
                  labels: torch.Tensor | None = None, seed: int = 0) -> torch.Tensor:
    """Fill the hidden pixels of each image of x (B, 1, 28, 28); hidden is a bool mask,
    (1, 1, 28, 28) for all or (B, 1, 28, 28). Each model the way it can:

    a bound on -log p(x) (VAE/CVAE): find the code z that best explains the known pixels under the prior,
    maximising log p(known | z) + log p(z) by gradient steps on z (starting from the encoding of the image with
    its hole blanked); an exact likelihood (PixelCNN): draw one completion (from ``seed``), pixel by pixel; a
    sampler that denoises (diffusion, flow): walk from noise with the known pixels put back at every step (its
    default steps, from ``seed``; unguided, the known pixels say what the picture is); a hole filler (context
    encoder): paint the hole in one pass; an encoder and decoder (AE/DAE): iterate reconstruct-and-keep-
    known-pixels, the classic projection method. Known pixels are kept exactly.
    Each image's code is optimised on its own (Adam works elementwise), so a batch gives
    the same pictures as one image at a time. Returns float (B, 1, 28, 28) in [0, 1].
    """
    hidden = hidden.bool().expand_as(x)
    known = ~hidden
    start = torch.where(hidden, torch.zeros_like(x), x)
    y = labels if model.conditional else None
    if y is None and model.conditional and model.can("encodes"):   # a CVAE: the class its bound likes best
        y = torch.tensor([best_class(model, image[None])[0] for image in start])
    iterations = int(finite(iterations, "iterations", 1, 1000))
    if model.can("bound_likelihood"):
        filled = _optimise_code(model, x, known, start, y, iterations)
    elif model.can("exact_likelihood"):
        with torch.inference_mode():            # one completion, pixel by pixel, seeded: the same picture each time
            filled = model.complete(x, known.float(), generator=torch.Generator().manual_seed(seed)).clamp(0, 1)
    elif model.can("fills_holes") and model.can("samples") and model.can("denoises"):
        with torch.inference_mode():            # one walk from noise, seeded: the same picture each time
            filled = model.inpaint(x, known.float(), y, generator=torch.Generator().manual_seed(seed))
    elif model.can("fills_holes"):
        filled = model.inpaint(x, known)        # one pass: the hole painted from its context
    elif model.can("encodes") and model.can("decodes"):
        with torch.no_grad():
            current = start
            for _ in range(min(iterations, 50)):
                current = torch.where(hidden, model.reconstruct(current, y), x)
            filled = current
    else:
        raise ExploreError(f"a {model.kind} cannot fill a hole: it has no likelihood, no hole filler and no encoder")
    return torch.where(hidden, filled.detach(), x)


def _optimise_code(model, x, known, start, y, iterations: int) -> torch.Tensor:
    """The decoded code that best explains the known pixels: gradient steps on z from the blanked picture's code."""
    from torch.nn import functional as F

    with torch.no_grad():
        z = model.encode(start, y).clone()
    z.requires_grad_(True)
    optimizer = torch.optim.Adam([z], lr=0.08)
    target = x.clamp(0, 1)
    for _ in range(iterations):
        logits = model.decode_logits(z, y)
        nll = F.binary_cross_entropy_with_logits(logits[known], target[known], reduction="sum")
        loss = nll + 0.5 * z.pow(2).sum()
        # Gradient for z alone: the shared model's parameters (and other users) are untouched.
        (z.grad,) = torch.autograd.grad(loss, [z])
        optimizer.step()
    with torch.no_grad():
        return model.decode(z, y)


def preset_mask(name: str) -> torch.Tensor:
    """A bool (1, 1, 28, 28) mask of hidden pixels: "centre" (the middle 14x14),
    "bottom" (the lower half) or "right" (the right half)."""
    hidden = torch.zeros(1, 1, 28, 28, dtype=torch.bool)
    if name == "centre":
        hidden[..., 7:21, 7:21] = True
    elif name == "bottom":
        hidden[..., 14:, :] = True
    elif name == "right":
        hidden[..., :, 14:] = True
    else:
        raise ExploreError(f"unknown mask {name!r}: use one of {MASKS}")
    return hidden


def hidden_psnr(result: np.ndarray, truth: np.ndarray, hidden: torch.Tensor) -> float:
    """PSNR (dB) over the hidden pixels only: how well the hole was filled."""
    mask = hidden.reshape(28, 28).numpy()
    error = ((result.astype(np.float32) - truth.astype(np.float32)) / 255.0)[mask]
    mse = float((error ** 2).mean()) if error.size else 0.0
    return 100.0 if mse <= 1e-10 else float(10 * np.log10(1.0 / mse))
