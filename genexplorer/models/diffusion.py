"""Denoising diffusion (DDPM, Ho et al. 2020): a U-Net learns to predict the noise in a noised picture.

The forward process noises a picture x (on the [-1, 1] scale) in closed form at any noise level t in [0, 1]:
x_t = sqrt(alpha_bar(t)) x + sqrt(1 - alpha_bar(t)) eps, eps ~ N(0, I), with the cosine schedule of Nichol &
Dhariwal 2021 in continuous time (t = 0: the picture; t = 1: pure noise). The network eps(x_t, t, class) is
trained with the mean squared error to eps: Ho et al.'s "simple" loss, denoising score matching at every noise
level (the denoising autoencoder's cousin) and a reweighted ELBO of a deep hierarchical VAE (the VAE's).

Drawing walks from noise down any number of noise levels, 1 to 1000 (a sub-sequence of the continuous time):
DDIM (Song et al. 2021, eta = 0: deterministic given the start noise) or ancestral DDPM (eta = 1: fresh noise
at every step). Classifier-free guidance and RePaint inpainting are shared with the flow (``iterative.py``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .family import option
from .iterative import IterativeConfig, IterativeFamily, IterativeModel, IterativeOptions

SCHEDULES = ("cosine", "linear")
# alpha_bar is kept above this: at t = 1 the cosine reaches 0 and x_0 = (x_t - sigma eps) / alpha would divide
# by it. 1e-4 is a signal-to-noise ratio of -40 dB, pure noise to the eye (Nichol & Dhariwal clip beta at 0.999).
ALPHA_BAR_MIN = 1e-4
COSINE_OFFSET = 0.008   # s in Nichol & Dhariwal 2021, eq. 17: keeps the first steps' noise from being too small


def cosine_alpha_bar(t: torch.Tensor) -> torch.Tensor:
    """f(t) / f(0), f(t) = cos^2((t + s) / (1 + s) * pi / 2): Nichol & Dhariwal 2021, eq. 17. Near 1 at t = 0,
    0 at t = 1, falling slowly at both ends, so fewer steps are spent on pictures that are already pure noise."""
    f = torch.cos((t + COSINE_OFFSET) / (1 + COSINE_OFFSET) * math.pi / 2) ** 2
    return f / math.cos(COSINE_OFFSET / (1 + COSINE_OFFSET) * math.pi / 2) ** 2


def linear_alpha_bar(t: torch.Tensor) -> torch.Tensor:
    """Ho et al. 2020's betas, rising linearly from 1e-4 to 0.02 over 1000 steps, in continuous time:
    prod (1 - beta) = exp(-integral of beta) = exp(-1000 (b0 t + (b1 - b0) t^2 / 2)) (Song et al. 2021's VP SDE).
    Most of the picture is gone by t = 0.5: the reason the cosine schedule was proposed."""
    b0, b1 = 1e-4, 0.02
    return torch.exp(-1000 * (b0 * t + (b1 - b0) * t ** 2 / 2))


def alpha_bar(t: torch.Tensor, schedule: str = "cosine") -> torch.Tensor:
    """The schedule's alpha_bar at t (any shape), kept in [ALPHA_BAR_MIN, 1]."""
    return (cosine_alpha_bar if schedule == "cosine" else linear_alpha_bar)(t).clamp(ALPHA_BAR_MIN, 1.0)


def diffusion_path(t: torch.Tensor, schedule: str = "cosine") -> tuple[torch.Tensor, torch.Tensor]:
    """(alpha, sigma) = (sqrt(alpha_bar), sqrt(1 - alpha_bar)) at t: x_t = alpha x + sigma eps."""
    share = alpha_bar(t, schedule)
    return share.sqrt(), (1 - share).sqrt()


@dataclass
class DiffusionConfig(IterativeConfig):
    schedule: str = "cosine"     # how alpha_bar falls with t: "cosine" or "linear"

    def validate(self) -> None:
        super().validate()
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")


class Diffusion(IterativeModel):
    """x: (B, 1, 28, 28) in [0, 1]. ``sample``, ``sample_steps``, ``inpaint``, ``add_noise``, ``denoise`` and
    ``signal_to_noise`` are described in ``iterative.IterativeModel``; samplers "ddim" (default) and "ddpm"."""
    kind = "diffusion"
    config_class = DiffusionConfig
    samplers = ("ddim", "ddpm")
    # RePaint resamples with ancestral steps: the fresh noise is what lets the filled part settle.
    inpaint_sampler = "ddpm"
    default_resample = 5
    loss_name = "noise_mse"

    def alpha_bar(self, t: torch.Tensor) -> torch.Tensor:
        """The share of the picture's variance left at noise level t (any shape): from 1 at t = 0 to 1e-4 at 1."""
        return alpha_bar(t, self.config.schedule)

    def alpha_sigma(self, t):
        return diffusion_path(t, self.config.schedule)

    def target(self, picture, noise):
        return noise

    def clean(self, x_t, answer, alpha, sigma):
        # x_t = alpha x + sigma eps, solved for x with the predicted eps
        return (x_t - sigma * answer) / alpha

    def step(self, x_t, t, s, predict, sampler, generator):
        eta = 1.0 if sampler == "ddpm" else 0.0
        return ddim_step(x_t, predict(x_t, t), self.scalars(t), self.scalars(s), eta=eta, clip=(-1.0, 1.0),
                         noise=lambda: self._noise(x_t.shape, generator))


def ddim_step(x_t: torch.Tensor, eps: torch.Tensor, at_t: tuple[float, float], at_s: tuple[float, float], *,
              eta: float, noise, clip: tuple | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One step from noise level t down to s < t given the predicted noise eps, any shape. at_t, at_s: the path's
    (alpha, sigma) at t and s; eta: 0 for DDIM, 1 for ancestral DDPM; noise(): a draw of N(0, I) the shape of
    x_t, called only when eta > 0; clip: (low, high), numbers or tensors, the range the predicted clean x_0 is
    clamped to (None: not clamped).
    -> (x_s, the predicted x_0). The toy lab's diffusion takes the same step."""
    (alpha_t, sigma_t), (alpha_s, sigma_s) = at_t, at_s
    x0 = (x_t - sigma_t * eps) / alpha_t
    if clip is not None:
        x0 = x0.clamp(*clip)
        # The noise that agrees with the clamped x_0, so the two stay one consistent x_t.
        eps = (x_t - alpha_t * x0) / sigma_t
    if sigma_s == 0:
        return x0, x0
    # DDIM's update (Song et al. 2021, eq. 12): x_s = alpha_s x_0 + sqrt(sigma_s^2 - c^2) eps + c z with
    # c = eta sigma_s / sigma_t sqrt(1 - alpha_t^2 / alpha_s^2). eta = 1 makes c^2 the variance of DDPM's
    # posterior q(x_s | x_t, x_0) (Ho et al. 2020, eq. 7): ancestral sampling on a sub-sequence of times.
    c = eta * sigma_s / sigma_t * math.sqrt(max(1 - (alpha_t / alpha_s) ** 2, 0.0))
    x_s = alpha_s * x0 + math.sqrt(max(sigma_s ** 2 - c ** 2, 0.0)) * eps
    if c:
        x_s = x_s + c * noise()
    return x_s, x0


# ------------------------------------------------------------ the family

@dataclass
class DiffusionOptions(IterativeOptions):
    schedule: str = option("cosine", "how the noise grows with t: cosine (Nichol & Dhariwal 2021) or DDPM's linear",
                           choices=SCHEDULES)


class DiffusionFamily(IterativeFamily):
    model_class = Diffusion
    Options = DiffusionOptions
    title = "diffusion (DDPM / DDIM)"
