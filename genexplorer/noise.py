"""Corruptions for the denoising autoencoder and the Noise tab.

All take and return x: (B, 1, 28, 28) float in [0, 1].
"""
from __future__ import annotations

import torch

NOISE_TYPES = ("gaussian", "salt_pepper", "masking")
# "mixed" draws one of NOISE_TYPES per image; it is a training setting only.
TRAINING_NOISE = ("none", "mixed") + NOISE_TYPES


def add_noise(x: torch.Tensor, noise: str, level, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Corrupt ``x``.

    noise: "gaussian" (level = sigma of added N(0, sigma^2) noise), "salt_pepper"
    (level = fraction of pixels set to 0 or 1, half each), or "masking" (level = nu,
    the probability that each pixel is zeroed, as in Vincent et al. 2010).
    level: a float, or a tensor (B,) giving one level per image.
    """
    if noise not in NOISE_TYPES:
        raise ValueError(f"unknown noise type {noise!r}: use one of {NOISE_TYPES}")
    level = torch.as_tensor(level, dtype=x.dtype, device=x.device)
    if not torch.isfinite(level).all() or (level < 0).any() or (level > 1 if noise != "gaussian" else level > 10).any():
        raise ValueError(f"noise level must be a number in [0, 1] for {noise} (got {level.tolist()})")
    level = level.reshape(-1, 1, 1, 1) if level.ndim == 1 else level
    if noise == "gaussian":
        added = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return (x + level * added).clamp(0.0, 1.0)
    draw = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    if noise == "masking":
        return torch.where(draw < level, torch.zeros_like(x), x)
    # salt_pepper: the lower half of the hit band is pepper (0), the upper half salt (1).
    out = torch.where(draw < level / 2, torch.zeros_like(x), x)
    return torch.where((draw >= level / 2) & (draw < level), torch.ones_like(x), out)


def corrupt_for_training(x: torch.Tensor, noise: str, max_level: float, *, generator=None) -> torch.Tensor:
    """Training-time corruption: each image gets a level drawn uniformly from [0, max_level],
    so the model learns to clean every strength the Noise tab's slider can ask for.
    noise: one of TRAINING_NOISE ("mixed": one of NOISE_TYPES drawn per image)."""
    if noise == "none":
        return x
    batch = x.shape[0]
    levels = torch.rand(batch, generator=generator, device=x.device) * max_level
    if noise != "mixed":
        return add_noise(x, noise, levels, generator=generator)
    choice = torch.randint(len(NOISE_TYPES), (batch,), generator=generator, device=x.device)
    out = x.clone()
    for index, picked_noise in enumerate(NOISE_TYPES):
        picked = choice == index
        if picked.any():
            out[picked] = add_noise(x[picked], picked_noise, levels[picked], generator=generator)
    return out
