"""Quality measures: PSNR, SSIM, the median-filter baseline, the Frechet distance and the
importance-weighted likelihood. Images are (B, 1, 28, 28) float in [0, 1]; results are (B,)."""
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


def masked_psnr(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """PSNR in dB over the pixels where ``mask`` (bool, broadcastable to a) is true: (B,).
    Scores an inpainting on the hole alone."""
    mask = mask.expand_as(a).flatten(1).float()
    mse = ((a - b).pow(2).flatten(1) * mask).sum(1) / mask.sum(1).clamp_min(1)
    return (10.0 * torch.log10(1.0 / mse.clamp_min(10 ** (-MAX_PSNR / 10)))).clamp(max=MAX_PSNR)


def median_filter(x: torch.Tensor, size: int = 3) -> torch.Tensor:
    """The classic denoising baseline: each pixel replaced by the median of its size x size
    neighbourhood (borders replicated). x: (B, 1, 28, 28) -> the same shape."""
    pad = size // 2
    padded = F.pad(x, (pad, pad, pad, pad), mode="replicate")
    patches = F.unfold(padded, size)                       # (B, size*size, 28*28)
    return patches.median(dim=1).values.reshape(x.shape)


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (N, D), as FID does
    (Heusel et al. 2017): |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)).

    tr((S_a S_b)^(1/2)) is computed as the sum of the square roots of the eigenvalues of
    the symmetric S_a^(1/2) S_b S_a^(1/2), which has the same spectrum, in float64."""
    a, b = features_a.double(), features_b.double()
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = torch.cov(a.T), torch.cov(b.T)
    values, vectors = torch.linalg.eigh(cov_a)
    sqrt_a = vectors @ torch.diag(values.clamp_min(0).sqrt()) @ vectors.T
    cross = torch.linalg.eigvalsh(sqrt_a @ cov_b @ sqrt_a).clamp_min(0).sqrt().sum()
    return float((mu_a - mu_b).pow(2).sum() + cov_a.trace() + cov_b.trace() - 2 * cross)


@torch.no_grad()
def importance_weighted_nll(model, x: torch.Tensor, y: torch.Tensor | None = None, *, k: int = 100,
                            generator: torch.Generator | None = None) -> torch.Tensor:
    """-log p(x) in nats per image, estimated with k importance samples from the VAE's
    posterior (Burda et al. 2016): log p(x) ~ logsumexp_i [log p(x|z_i) + log p(z_i) -
    log q(z_i|x)] - log k, a lower bound on log p(x) that tightens as k grows (k = 1 is the
    ELBO). model: a vae or cvae; x: (B, 1, 28, 28) in [0, 1] -> (B,)."""
    mu, logvar = model.posterior(x, y)
    log_2pi = torch.log(torch.tensor(2 * torch.pi))
    log_weights = []
    for _ in range(k):
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
        z = mu + torch.exp(0.5 * logvar) * eps
        # Bernoulli log-likelihood of the grey pixels, summed over the 784 pixels.
        log_px = -F.binary_cross_entropy_with_logits(model.decode_logits(z, y), x, reduction="none").flatten(1).sum(1)
        log_pz = -0.5 * (z.pow(2) + log_2pi).sum(1)
        log_qz = -0.5 * (eps.pow(2) + log_2pi + logvar).sum(1)
        log_weights.append(log_px + log_pz - log_qz)
    log_px_estimate = torch.logsumexp(torch.stack(log_weights), dim=0) - torch.log(torch.tensor(float(k)))
    return -log_px_estimate
