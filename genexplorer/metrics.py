"""Image quality measures. Images are (B, 1, 28, 28) float in [0, 1]; results are (B,)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

# PSNR of identical images is infinite; cap it so tables and JSON stay finite.
MAX_PSNR = 100.0


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB, peak 1.0: 10 log10(1 / MSE)."""
    mse = (a - b).pow(2).flatten(1).mean(1)
    return (10.0 * torch.log10(1.0 / mse.clamp_min(10 ** (-MAX_PSNR / 10)))).clamp(max=MAX_PSNR)


def _gaussian_window(size: int = 7, sigma: float = 1.5) -> torch.Tensor:
    coords = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    g = torch.exp(-(coords ** 2) / (2 * sigma ** 2))
    g = g / g.sum()
    return (g[:, None] * g[None, :])[None, None]


def ssim(a: torch.Tensor, b: torch.Tensor, *, window: int = 7) -> torch.Tensor:
    """Structural similarity (Wang et al. 2004), Gaussian window 7x7 with sigma 1.5
    (the usual 11x11 is too big for 28x28 images), constants K1=0.01, K2=0.03, L=1.
    Mean over the valid region."""
    kernel = _gaussian_window(window).to(a.device, a.dtype)
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    mu_a, mu_b = F.conv2d(a, kernel), F.conv2d(b, kernel)
    var_a = F.conv2d(a * a, kernel) - mu_a ** 2
    var_b = F.conv2d(b * b, kernel) - mu_b ** 2
    cov = F.conv2d(a * b, kernel) - mu_a * mu_b
    ssim_map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return ssim_map.flatten(1).mean(1)
