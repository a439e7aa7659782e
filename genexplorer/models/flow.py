"""Flow matching (Lipman et al. 2023) on the straight path of rectified flow (Liu et al. 2023): a U-Net learns
the velocity that carries noise to a picture along a straight line.

The path mixes a picture x (on the [-1, 1] scale) and noise eps ~ N(0, I) linearly: x_t = (1 - t) x + t eps,
with t the noise level as in the diffusion model (t = 0: the picture, t = 1: the noise; the papers run their
clock the other way, their time 1 - t, so one slider and one step grid serve both families here). Along it
x moves at the constant velocity x - eps, from the noise towards the picture as t falls; the network v(x_t, t,
class) is trained with the mean squared error to that velocity. Its answer is the average of the velocities
of every (picture, noise) line through x_t, a field whose paths do not cross; they are nearly straight, so a
few Euler steps x_s = x_t + (t - s) v already land near a picture (Heun's method: two passes a step, closer).
Guidance, inpainting and the step loop are shared with the diffusion model (``iterative.py``).
"""
from __future__ import annotations


import torch

from .iterative import IterativeFamily, IterativeModel


class Flow(IterativeModel):
    """x: (B, 1, 28, 28) in [0, 1]. ``sample``, ``sample_steps``, ``inpaint``, ``add_noise``, ``denoise`` and
    ``signal_to_noise`` are described in ``iterative.IterativeModel``; samplers "euler" (default) and "heun"."""
    kind = "flow"
    samplers = ("euler", "heun")
    inpaint_sampler = "euler"
    default_resample = 1
    loss_name = "velocity_mse"

    def alpha_sigma(self, t):
        return straight_path(t)

    def target(self, picture, noise):
        return picture - noise          # the straight line's velocity, from the noise to the picture

    def clean(self, x_t, answer, alpha, sigma):
        # Follow the velocity the rest of the way: t more units of it take x_t to t = 0.
        return x_t + sigma * answer

    def known_at(self, picture, t, start, generator):
        """The matching idea: the known pixels on their own straight line, from the walk's start noise to the
        picture, at noise level t (no fresh noise: the flow's walk is deterministic)."""
        alpha, sigma = self.scalars(t)
        return alpha * picture + sigma * start

    def step(self, x_t, t, s, predict, sampler, generator):
        return flow_step(x_t, t, s, predict, sampler)

    def network_passes(self, steps, *, sampler=None, guidance=0.0):
        per_step = 2 if self._check_sampler(sampler) == "heun" else 1
        return per_step * super().network_passes(steps, guidance=guidance)


def straight_path(t):
    """(alpha, sigma) = (1 - t, t): x_t = (1 - t) x + t eps, the straight line from the picture to the noise."""
    return 1 - t, t


def flow_step(x_t: torch.Tensor, t: float, s: float, predict, sampler: str) -> tuple[torch.Tensor, torch.Tensor]:
    """One step from noise level t down to s < t along the velocity predict(x, t), any shape: Euler, or Heun
    (the average of the velocities at both ends of the Euler step; two passes). -> (x_s, the predicted x_0,
    where the first velocity leads in t more units). The toy lab's flow takes the same step."""
    velocity = predict(x_t, t)
    x_s = x_t + (t - s) * velocity
    if sampler == "heun":
        x_s = x_t + (t - s) * (velocity + predict(x_s, s)) / 2
    return x_s, x_t + t * velocity


class FlowFamily(IterativeFamily):
    model_class = Flow
    title = "flow matching (rectified flow)"
