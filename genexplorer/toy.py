"""GAN training dynamics you can see: a tiny GAN on 1-D and 2-D toy data (logic only, no Gradio).

    from genexplorer.toy import ToyGAN, TOY_DATA, TOY_LOSSES
    g = ToyGAN(data="gaussian_1d", loss="nonsaturating", d_steps=1, seed=0)
    g.train(steps=500)      # generator steps, each after d_steps discriminator (critic) steps
    s = g.snapshot()        # plain numbers and arrays: what the page draws

The lessons (Goodfellow et al. 2014; Arjovsky, Chintala & Bottou 2017; Gulrajani et al. 2017): with the
saturating minimax loss a generator whose samples sit far from the data gets almost no gradient (the
Jensen-Shannon divergence is stuck at log 2 when the supports do not overlap); the non-saturating loss and
the Wasserstein critic give useful gradients; D(x) settles at 1/2 where the generator matches the data;
a mixture can collapse onto some of its modes; k discriminator steps per generator step change the game.

Beside the GAN, on the same data, a tiny diffusion model and a tiny flow (``ToyDiffusion``, ``ToyFlow``): they
walk points from noise to the data in any number of steps, with the image models' own step functions, and
``paths`` shows each point's way (diffusion's curved, the flow's straighter; ``bending`` measures it).
``walkers_beside(gan)`` makes both on the GAN's data, measured against its points: the toy lab's three learners.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from .explore.inputs import ExploreError, finite
from .models.diffusion import ddim_step, diffusion_path
from .models.flow import flow_step, straight_path
from .models.unet import time_embedding
from .training import AveragedWeights

TOY_DATA = ("gaussian_1d", "two_gaussians_1d", "disjoint_1d", "ring_2d", "moons_2d", "drawn_2d")
TOY_LOSSES = ("minimax", "nonsaturating", "wgan_clip", "wgan_gp")
DIMENSIONS = {name: 1 if name.endswith("_1d") else 2 for name in TOY_DATA}
# Where each mixture's modes are, to count how many the generator covers (mode collapse).
RING_CENTRES = [(2 * math.cos(2 * math.pi * k / 8), 2 * math.sin(2 * math.pi * k / 8)) for k in range(8)]
MODES = {"two_gaussians_1d": ([(-2.0,), (2.0,)], 0.3), "ring_2d": (RING_CENTRES, 0.05)}
MAX_POINTS = 10_000
# The lessons, as the toy lab's preset menu offers them: name -> ToyGAN keyword arguments (the diffusion model
# and the flow beside the GAN learn the same data from the same seed).
FEW_STEPS_LESSON = "few sampling steps: do straight paths win?"
PRESETS = {
    "a Gaussian, non-saturating loss": dict(data="gaussian_1d", loss="nonsaturating"),
    "disjoint supports: the minimax loss stalls": dict(data="disjoint_1d", loss="minimax", d_steps=5, lr_d=1e-2),
    "disjoint supports: the non-saturating loss moves": dict(data="disjoint_1d", loss="nonsaturating", d_steps=5, lr_d=1e-2),
    "disjoint supports: WGAN with weight clipping moves": dict(data="disjoint_1d", loss="wgan_clip", d_steps=5, lr_d=1e-2),
    "disjoint supports: WGAN-GP moves": dict(data="disjoint_1d", loss="wgan_gp", d_steps=5, lr_d=1e-2),
    "k = 1 discriminator step: minimax still learns": dict(data="disjoint_1d", loss="minimax", d_steps=1),
    "k = 20 discriminator steps: minimax stalls": dict(data="disjoint_1d", loss="minimax", d_steps=20),
    "two Gaussians: both modes?": dict(data="two_gaussians_1d", loss="nonsaturating"),
    "a ring of 8: mode collapse?": dict(data="ring_2d", loss="nonsaturating"),
    "a ring of 8, WGAN-GP": dict(data="ring_2d", loss="wgan_gp"),
    "two moons, WGAN-GP": dict(data="moons_2d", loss="wgan_gp"),
    FEW_STEPS_LESSON: dict(data="moons_2d", loss="nonsaturating"),
    "a ring of 8: does each learner cover every mode?": dict(data="ring_2d", loss="nonsaturating"),
}
# How many steps the diffusion model and the flow take from noise to data: SAMPLING_STEPS unless a lesson says.
SAMPLING_STEPS = 20
PRESET_SAMPLING_STEPS = {FEW_STEPS_LESSON: 4}
LIMITS = {"lr": (1e-6, 1.0), "clip": (1e-4, 10.0), "gp_weight": (0.0, 1000.0)}


class ToyError(ValueError):
    """A setting or a drawn distribution the toy cannot use; the message says why."""


@dataclass(frozen=True)
class ToySettings:
    data: str = "gaussian_1d"
    loss: str = "nonsaturating"
    d_steps: int | None = None        # None: 1 for the JS losses, 5 for the WGANs (the papers' settings)
    lr_d: float | None = None         # None: the loss's default
    lr_g: float | None = None
    clip: float = 0.01                # WGAN weight clipping, Arjovsky et al. 2017
    gp_weight: float = 10.0           # WGAN-GP's lambda, Gulrajani et al. 2017
    noise_dim: int | None = None      # None: the data's dimension, so z -> G(z) can be drawn
    width: int = 32
    batch: int = 256
    seed: int = 0


def _check_number(name: str, value, low: float, high: float) -> float:
    """A number from a setting -> float in [low, high], or a ToyError naming ``name`` (explore.finite's check)."""
    try:
        return finite(value, name, low, high)
    except ExploreError as exc:
        raise ToyError(str(exc)) from None


def check_points(points) -> torch.Tensor:
    """A drawn 2-D distribution: 2 to 10,000 finite points within +/-10 -> (N, 2) float tensor."""
    try:
        array = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise ToyError("the drawn points must be a list of [x, y] pairs") from None
    if array.size == 0:
        array = array.reshape(0, 2)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ToyError("the drawn points must be a list of [x, y] pairs")
    if len(array) < 2:
        raise ToyError(f"draw at least 2 points (got {len(array)}): a distribution needs some spread")
    if len(array) > MAX_POINTS:
        raise ToyError(f"at most {MAX_POINTS:,} drawn points, got {len(array):,}")
    if not np.isfinite(array).all() or np.abs(array).max() > 10:
        raise ToyError("the drawn points must be finite and within -10 to 10")
    return torch.from_numpy(array).float()


def data_points(data: str, points) -> torch.Tensor | None:
    """Check a toy data set's name; -> the drawn points (N, 2) for "drawn_2d", None for the others."""
    if data not in TOY_DATA:
        raise ToyError(f"unknown toy data {data!r}: use one of {', '.join(TOY_DATA)}")
    if data != "drawn_2d":
        return None
    if points is None:
        raise ToyError("draw some points first: the drawn distribution needs them")
    return check_points(points)


def sample_toy_data(data: str, n: int, generator: torch.Generator, points: torch.Tensor | None = None) -> torch.Tensor:
    """n points (n, d) of a toy data set; ``points``: the drawn ones, for "drawn_2d"."""
    g = generator
    if data == "gaussian_1d":
        return 2.0 + 0.5 * torch.randn(n, 1, generator=g)
    if data == "disjoint_1d":
        return 6.0 + 0.3 * torch.randn(n, 1, generator=g)
    if data == "two_gaussians_1d":
        sign = torch.randint(0, 2, (n, 1), generator=g).float() * 2 - 1
        return 2.0 * sign + 0.3 * torch.randn(n, 1, generator=g)
    if data == "ring_2d":
        centres = torch.tensor(RING_CENTRES)[torch.randint(0, 8, (n,), generator=g)]
        return centres + 0.05 * torch.randn(n, 2, generator=g)
    if data == "moons_2d":
        t = torch.rand(n, generator=g) * math.pi
        upper = torch.randint(0, 2, (n,), generator=g).bool()
        x = torch.where(upper, torch.cos(t), 1 - torch.cos(t))
        y = torch.where(upper, torch.sin(t), 0.5 - torch.sin(t))
        return torch.stack([x - 0.5, y - 0.25], 1) * 1.5 + 0.05 * torch.randn(n, 2, generator=g)
    picked = points[torch.randint(0, len(points), (n,), generator=g)]
    return picked + 0.05 * torch.randn(n, 2, generator=g)


def _mlp(inputs: int, width: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, width), nn.LeakyReLU(0.2), nn.Linear(width, width), nn.LeakyReLU(0.2),
                         nn.Linear(width, outputs))


def toy_settings(data: str = "gaussian_1d", loss: str = "nonsaturating", **settings) -> ToySettings:
    """A ToyGAN's settings, checked, with its defaults filled in; makes no networks (a lesson's controls need only this)."""
    if data not in TOY_DATA:
        data_points(data, None)   # raises, naming the known data
    if loss not in TOY_LOSSES:
        raise ToyError(f"unknown loss {loss!r}: use one of {', '.join(TOY_LOSSES)}")
    unknown = set(settings) - set(ToySettings.__dataclass_fields__)
    if unknown:
        raise ToyError(f"unknown settings {sorted(unknown)}")
    s = ToySettings(data=data, loss=loss, **settings)
    d_steps = s.d_steps if s.d_steps is not None else (5 if loss.startswith("wgan") else 1)
    if not isinstance(d_steps, int) or not 1 <= d_steps <= 100:
        raise ToyError(f"k (discriminator steps per generator step) must be a whole number from 1 to 100, got {d_steps!r}")
    # The papers' optimisers at rates that move a toy in hundreds of steps, not tens of thousands.
    lr_default = {"minimax": 1e-3, "nonsaturating": 1e-3, "wgan_clip": 5e-3, "wgan_gp": 1e-3}[loss]
    lr_d = _check_number("discriminator learning rate", s.lr_d if s.lr_d is not None else lr_default, *LIMITS["lr"])
    lr_g = _check_number("generator learning rate", s.lr_g if s.lr_g is not None else lr_default, *LIMITS["lr"])
    clip = _check_number("clip value", s.clip, *LIMITS["clip"])
    gp_weight = _check_number("gradient penalty weight", s.gp_weight, *LIMITS["gp_weight"])
    for name, value, low, high in (("width", s.width, 4, 256), ("batch", s.batch, 8, 4096)):
        if not isinstance(value, int) or not low <= value <= high:
            raise ToyError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    noise_dim = s.noise_dim if s.noise_dim is not None else DIMENSIONS[data]
    if not isinstance(noise_dim, int) or not 1 <= noise_dim <= 16:
        raise ToyError(f"noise size must be a whole number from 1 to 16, got {noise_dim!r}")
    return ToySettings(data, loss, d_steps, lr_d, lr_g, clip, gp_weight, noise_dim, s.width, s.batch, s.seed)


class ToyGAN:
    """One small GAN: generator and discriminator (critic) MLPs, trained one visible step at a time."""

    def __init__(self, data: str = "gaussian_1d", loss: str = "nonsaturating", *, points=None, **settings):
        self.points = data_points(data, points)
        self.settings = s = toy_settings(data, loss, **settings)
        self.dim = DIMENSIONS[data]
        self.generator_rng = torch.Generator().manual_seed(s.seed)
        torch.manual_seed(s.seed)
        self.G, self.D = _mlp(s.noise_dim, s.width, self.dim), _mlp(self.dim, s.width, 1)
        if loss == "wgan_clip":
            # RMSprop, as in the WGAN paper: momentum-free updates suit the clipped critic.
            self.opt_d = torch.optim.RMSprop(self.D.parameters(), lr=s.lr_d)
            self.opt_g = torch.optim.RMSprop(self.G.parameters(), lr=s.lr_g)
        else:
            # WGAN-GP: Adam without momentum (beta1 = 0, Gulrajani et al. 2017, algorithm 1); DCGAN: beta1 0.5.
            betas = (0.0, 0.9) if loss == "wgan_gp" else (0.5, 0.999)
            self.opt_d = torch.optim.Adam(self.D.parameters(), lr=s.lr_d, betas=betas)
            self.opt_g = torch.optim.Adam(self.G.parameters(), lr=s.lr_g, betas=betas)
        self.step, self.history, self.diverged = 0, [], ""
        self.d_loss = self.g_loss = self.g_grad_norm = float("nan")
        # Fixed samples for the pictures and the measures, so frames do not flicker.
        self._real_view = self.sample_real(512)
        self._noise_view = self._noise(512)

    # ------------------------------------------------------------------ data
    def sample_real(self, n: int) -> torch.Tensor:
        return sample_toy_data(self.settings.data, n, self.generator_rng, self.points)

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.settings.noise_dim, generator=self.generator_rng)

    # ------------------------------------------------------------------ one step of each player
    def d_step(self) -> float:
        """One discriminator (critic) step on a fresh batch: (1) update D."""
        s = self.settings
        real = self.sample_real(s.batch)
        with torch.no_grad():
            fake = self.G(self._noise(s.batch))
        real_out, fake_out = self.D(real), self.D(fake)
        if s.loss.startswith("wgan"):
            # The critic maximises E[C(x)] - E[C(G(z))], an estimate of W1 when C is 1-Lipschitz.
            loss = fake_out.mean() - real_out.mean()
            if s.loss == "wgan_gp":
                # The gradient penalty keeps C near 1-Lipschitz on lines between real and fake points. One-sided
                # (only slopes above 1 are penalised; Gulrajani et al. 2017, appendix): with the two-sided
                # penalty, a 1-D critic whose slope has the wrong sign must pass through slope 0, penalised by
                # the full weight, to turn round, and on these toys it stays stuck.
                mix = torch.rand(s.batch, 1, generator=self.generator_rng)
                between = (mix * real + (1 - mix) * fake).requires_grad_(True)
                (grad,) = torch.autograd.grad(self.D(between).sum(), between, create_graph=True)
                loss = loss + s.gp_weight * F.relu(grad.norm(dim=1) - 1).pow(2).mean()
        else:
            loss = (F.binary_cross_entropy_with_logits(real_out, torch.ones_like(real_out))
                    + F.binary_cross_entropy_with_logits(fake_out, torch.zeros_like(fake_out)))
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        if s.loss == "wgan_clip":
            with torch.no_grad():
                for p in self.D.parameters():
                    p.clamp_(-s.clip, s.clip)   # weight clipping: a crude way to keep C Lipschitz
        self.d_loss = float(loss.detach())
        return self.d_loss

    def g_loss_of(self, fake_out: torch.Tensor) -> torch.Tensor:
        loss = self.settings.loss
        if loss == "minimax":
            # min log(1 - D(G(z))) = -softplus(logit): flat where D is sure the sample is fake
            return -F.softplus(fake_out).mean()
        if loss == "nonsaturating":
            return F.softplus(-fake_out).mean()        # -log D(G(z))
        return -fake_out.mean()                        # WGAN: raise the critic's score of the fakes

    def g_step(self) -> float:
        """One generator step: (2) update G; records the norm of its gradient."""
        fake_out = self.D(self.G(self._noise(self.settings.batch)))
        loss = self.g_loss_of(fake_out)
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.g_grad_norm = float(torch.sqrt(sum(p.grad.pow(2).sum() for p in self.G.parameters())))
        self.opt_g.step()
        self.g_loss = float(loss.detach())
        self.step += 1
        return self.g_loss

    def train(self, steps: int = 1) -> None:
        """``steps`` generator steps, each after k discriminator steps. A run whose numbers turn NaN
        stops, keeps its last state and says so in ``diverged`` (the page pauses with that message)."""
        if not isinstance(steps, int) or not 0 <= steps <= 100_000:
            raise ToyError(f"steps must be a whole number from 0 to 100,000, got {steps!r}")
        if self.diverged:
            return
        for _ in range(steps):
            for _ in range(self.settings.d_steps):
                self.d_step()
            self.g_step()
            if not all(math.isfinite(v) for v in (self.d_loss, self.g_loss, self.g_grad_norm)):
                self.diverged = (f"training diverged at step {self.step} (the losses became NaN or infinite); "
                                 "lower the learning rates and reset")
                return

    # ------------------------------------------------------------------ what the page shows
    @torch.no_grad()
    def fakes(self, n: int = 512) -> torch.Tensor:
        return self.G(self._noise_view[:n])

    @torch.no_grad()
    def snapshot(self) -> dict:
        """Plain numbers and arrays (numpy): the current state, its measures, and their history."""
        real, fake = self._real_view, self.fakes()
        w1 = wasserstein_1(real, fake)
        js = js_estimate(real, fake)
        d_real = self._d_prob(real)
        record = {"step": self.step, "w1": w1, "js": js, "d_loss": self.d_loss, "g_loss": self.g_loss,
                  "g_grad_norm": self.g_grad_norm, "d_real": float(d_real.mean())}
        if not self.history or self.history[-1]["step"] != self.step:
            self.history.append(record)
            del self.history[:-2000]
        out = {**record, "dim": self.dim, "data": self.settings.data, "loss": self.settings.loss,
               "d_steps": self.settings.d_steps, "real": real.numpy(), "fake": fake.numpy(),
               "history": list(self.history), "diverged": self.diverged}
        if self.settings.data in MODES:
            centres, spread = MODES[self.settings.data]
            out["modes"], out["modes_covered"] = len(centres), modes_covered(fake, centres, spread)
        out.update(self._view_1d(real, fake) if self.dim == 1 else self._view_2d(real, fake))
        return out

    def _d_prob(self, x: torch.Tensor) -> torch.Tensor:
        """D's output as the page plots it: the probability of 'real' (JS losses), the critic's score (WGAN)."""
        out = self.D(x)[:, 0]
        return out if self.settings.loss.startswith("wgan") else torch.sigmoid(out)

    def _view_1d(self, real, fake) -> dict:
        low = float(min(real.min(), fake.min(), -1.0)) - 0.5
        high = float(max(real.max(), fake.max(), 1.0)) + 0.5
        grid = torch.linspace(low, high, 200)[:, None]
        z = torch.linspace(-2.5, 2.5, 21)[:, None] if self.settings.noise_dim == 1 else None
        view = {"grid": grid[:, 0].numpy(), "d_on_grid": self._d_prob(grid).numpy(),
                "real_density": kde_1d(real[:, 0], grid[:, 0]).numpy(),
                "fake_density": kde_1d(fake[:, 0], grid[:, 0]).numpy()}
        if z is not None:
            view["z"], view["g_of_z"] = z[:, 0].numpy(), self.G(z)[:, 0].numpy()
        return view

    def _view_2d(self, real, fake) -> dict:
        both = torch.cat([real, fake])
        low, high = both.min(0).values - 0.5, both.max(0).values + 0.5
        xs, ys = torch.linspace(float(low[0]), float(high[0]), 40), torch.linspace(float(low[1]), float(high[1]), 40)
        plane = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), -1).reshape(-1, 2)
        view = {"plane_x": xs.numpy(), "plane_y": ys.numpy(), "d_on_plane": self._d_prob(plane).reshape(40, 40).numpy()}
        if self.settings.noise_dim == 2:
            # The generator's warped grid: the image of a regular grid of z.
            axis = torch.linspace(-2, 2, 15)
            z = torch.stack(torch.meshgrid(axis, axis, indexing="xy"), -1).reshape(-1, 2)
            view["z_grid_image"] = self.G(z).reshape(15, 15, 2).numpy()
        # Where the generator's loss pushes each fake point: minus its gradient with respect to the point.
        with torch.enable_grad():
            points = fake[:64].clone().requires_grad_(True)
            (grad,) = torch.autograd.grad(self.g_loss_of(self.D(points)) * len(points), points)
        view["arrows_from"], view["arrows"] = points.detach().numpy(), (-grad).numpy()
        return view


# ------------------------------------------------------------------ toy diffusion and flow

TIME_FEATURES = 16      # sinusoidal features of the noise level t the toy networks read beside x_t
MAX_SAMPLING_STEPS = 1000
# The walkers draw with an average of their weights, as the image models can (--ema): DDIM's walk amplifies the
# last Adam step's jitter (two Gaussians, 1,000 steps: W1 0.96 from the last weights, 0.28 from the average).
EMA_DECAY = 0.99


class ToyWalker:
    """What the toy diffusion and flow share: an MLP (x_t, t) -> answer, trained on a toy data set with the image
    models' loss, and the walk from noise (t = 1) to data (t = 0) with the image models' own step functions
    (``models.diffusion.ddim_step``, ``models.flow.flow_step``). The data stay in their own units: the walk
    starts from N(0, I) and ends on the ring of radius 2, the Gaussians at +/-2, ...

        d = ToyDiffusion("ring_2d", seed=0)
        d.train(500)               # Adam steps on fresh batches
        d.sample(512, steps=20)    # (512, 2)
        d.paths(16, steps=20)      # (16, 21, 2): each point's way from noise to data
    """
    kind = ""
    #: the ways to step, the first the default
    samplers: tuple[str, ...] = ()

    def __init__(self, data: str = "gaussian_1d", seed: int = 0, *, points=None, width: int = 64,
                 batch: int = 256, lr: float = 2e-3):
        self.points = data_points(data, points)
        for name, value, low, high in (("width", width, 4, 512), ("batch", batch, 8, 4096), ("seed", seed, 0, 2 ** 31)):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ToyError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
        lr = _check_number("learning rate", lr, *LIMITS["lr"])
        self.data, self.seed, self.batch, self.dim = data, seed, batch, DIMENSIONS[data]
        self.generator_rng = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        self.net = _mlp(self.dim + TIME_FEATURES, width, self.dim)
        # fused: one kernel for the whole update; at this size Adam's per-tensor steps cost more than the network
        self.opt = torch.optim.Adam(self.net.parameters(), lr=lr, fused=True)
        self.average = AveragedWeights(self.net, EMA_DECAY)
        self.step = 0
        self.loss = float("nan")
        self.history: list[dict] = []
        self.diverged = ""
        # A fixed draw of the data for the pictures and the measures (its own generator: training's is untouched).
        self.show(sample_toy_data(data, 512, torch.Generator().manual_seed(seed + 1), self.points))

    def show(self, real: torch.Tensor) -> None:
        """Draw and measure against these data points (n, d) from now on; the box around them is where the
        diffusion's predicted clean point is clamped to (ToyDiffusion.walk_step)."""
        self._real_view, self._box = real, (real.min(0).values - 1, real.max(0).values + 1)

    # ----- what each family says
    def alpha_sigma(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def target(self, x: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def walk_step(self, x_t, t: float, s: float, predict, sampler: str, generator, at: dict) -> torch.Tensor:
        """One step from noise level t down to s; ``at``: the path's (alpha, sigma) at each level of the walk."""
        raise NotImplementedError

    # ----- training
    def sample_real(self, n: int) -> torch.Tensor:
        return sample_toy_data(self.data, n, self.generator_rng, self.points)

    def answer(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The network at (x_t (n, d), t (n,)) -> (n, d)."""
        return self.net(torch.cat([x_t, time_embedding(t, TIME_FEATURES)], dim=1))

    def train(self, steps: int = 1) -> None:
        """``steps`` Adam steps, each on a fresh batch at stratified noise levels. A run whose loss turns NaN stops
        and says so in ``diverged``, as the toy GAN does."""
        if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= 100_000:
            raise ToyError(f"steps must be a whole number from 0 to 100,000, got {steps!r}")
        g, batch = self.generator_rng, self.batch
        for _ in range(0 if self.diverged else steps):
            x = self.sample_real(batch)
            t = (torch.rand(1, generator=g) + torch.arange(batch) / batch) % 1
            noise = torch.randn(x.shape, generator=g)
            alpha, sigma = (v.float()[:, None] for v in self.alpha_sigma(t.double()))
            loss = F.mse_loss(self.answer(alpha * x + sigma * noise, t), self.target(x, noise))
            self.step += 1
            self.loss = float(loss.detach())
            if not math.isfinite(self.loss):   # before the step: the average the pictures use stays as it was
                self.diverged = (f"training diverged at step {self.step} (the loss became NaN or infinite); "
                                 "lower the learning rate and reset")
                return
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            self.average.update(self.net)

    # ----- drawing
    @torch.inference_mode()
    def paths(self, n: int = 16, steps: int = 50, *, sampler: str | None = None,
              generator: torch.Generator | None = None) -> torch.Tensor:
        """n walks from noise to data: (n, steps + 1, d), [:, 0] the start noise N(0, I), [:, -1] the samples.
        Without a generator each call starts from the same noise (the model's seed), so frames do not flicker."""
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_POINTS:
            raise ToyError(f"n must be a whole number from 1 to {MAX_POINTS:,}, got {n!r}")
        if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_SAMPLING_STEPS:
            raise ToyError(f"sampling steps must be a whole number from 1 to {MAX_SAMPLING_STEPS:,}, got {steps!r}")
        sampler = self.samplers[0] if sampler is None else sampler
        if sampler not in self.samplers:
            raise ToyError(f"the toy {self.kind} samples with {' or '.join(self.samplers)}, not {sampler!r}")
        g = generator if generator is not None else torch.Generator().manual_seed(self.seed)
        # The walk's noise levels, their time features and the path's (alpha, sigma), once per walk, not per step:
        # at this size the network is cheap and the small tensors around it are what costs.
        levels = torch.linspace(1, 0, steps + 1, dtype=torch.float64)
        times = [1 - k / steps for k in range(steps + 1)]
        features = dict(zip(times, time_embedding(levels, TIME_FEATURES)))
        at = dict(zip(times, zip(*(v.tolist() for v in self.alpha_sigma(levels)))))
        x = torch.randn(n, self.dim, generator=g)
        walk = [x]

        def predict(x_t, t):
            return self.average.module(torch.cat([x_t, features[t].expand(len(x_t), -1)], dim=1))

        for k in range(steps):
            x = self.walk_step(x, times[k], times[k + 1], predict, sampler, g, at)
            walk.append(x)
        return torch.stack(walk, dim=1)

    def sample(self, n: int = 512, steps: int = 50, *, sampler: str | None = None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """n samples (n, d): the ends of ``paths``."""
        return self.paths(n, steps, sampler=sampler, generator=generator)[:, -1]

    @torch.inference_mode()
    def snapshot(self, steps: int = 20, *, sampler: str | None = None, points: int = 512, walks: int = 16) -> dict:
        """Plain numbers and arrays (numpy), what the page draws: the data, ``points`` samples at ``steps`` steps,
        ``walks`` of their paths, W1 to the data, modes covered, the loss and its history; 1-D also the data's and
        the samples' densities on a grid that holds the walks."""
        real = self._real_view[:points]
        paths = self.paths(min(points, len(real)), steps, sampler=sampler)
        fake = paths[:, -1]
        record = {"step": self.step, "loss": self.loss, "w1": wasserstein_1(real, fake)}
        if not self.history or self.history[-1]["step"] != self.step:
            self.history.append(record)
            del self.history[:-2000]
        out = {**record, "kind": self.kind, "dim": self.dim, "data": self.data, "steps": steps, "real": real.numpy(),
               "fake": fake.numpy(), "paths": paths[:walks].numpy(), "bending": bending(paths[:walks]),
               "history": list(self.history), "diverged": self.diverged}
        if self.data in MODES:
            centres, spread = MODES[self.data]
            out["modes"], out["modes_covered"] = len(centres), modes_covered(fake, centres, spread)
        if self.dim == 1:
            seen = torch.cat([real[:, 0], fake[:, 0], paths[:walks].flatten()])
            grid = torch.linspace(float(seen.min()) - 0.5, float(seen.max()) + 0.5, 200)
            out.update(grid=grid.numpy(), real_density=kde_1d(real[:, 0], grid).numpy(),
                       fake_density=kde_1d(fake[:, 0], grid).numpy())
        return out


class ToyDiffusion(ToyWalker):
    """A tiny diffusion model (cosine schedule, noise prediction) on toy data; samplers "ddim" and "ddpm"."""
    kind = "diffusion"
    samplers = ("ddim", "ddpm")

    def alpha_sigma(self, t):
        return diffusion_path(t)

    def target(self, x, noise):
        return noise

    def walk_step(self, x_t, t, s, predict, sampler, generator, at):
        # The predicted clean point is clamped to the data's box widened by 1, as the image model clamps its
        # predicted picture to [0, 1]: near t = 1 it is the noise divided by alpha ~ 0.01, and one step would
        # carry the network's error, multiplied, far from everything.
        x_s, _ = ddim_step(x_t, predict(x_t, t), at[t], at[s], eta=float(sampler == "ddpm"),
                           noise=lambda: torch.randn(x_t.shape, generator=generator), clip=self._box)
        return x_s


class ToyFlow(ToyWalker):
    """A tiny flow (straight path, velocity prediction) on toy data; samplers "euler" and "heun"."""
    kind = "flow"
    samplers = ("euler", "heun")

    def alpha_sigma(self, t):
        return straight_path(t)

    def target(self, x, noise):
        return x - noise

    def walk_step(self, x_t, t, s, predict, sampler, generator, at):
        return flow_step(x_t, t, s, predict, sampler)[0]


def walkers_beside(gan: ToyGAN) -> tuple[ToyDiffusion, ToyFlow]:
    """A toy diffusion model and a toy flow on the GAN's data (its drawn points too) and seed, drawn and measured
    against the very points the GAN's pictures show: the toy lab's three learners."""
    points = gan.points.tolist() if gan.points is not None else None
    walkers = tuple(walker(gan.settings.data, gan.settings.seed, points=points) for walker in (ToyDiffusion, ToyFlow))
    for walker in walkers:
        walker.show(gan._real_view)
    return walkers


def bending(paths: torch.Tensor) -> float:
    """How far walks (n, steps + 1, d) bend from straight lines walked at constant speed: Liu et al. 2023's
    straightness, E ||(x_end - x_start) - dx/dt||^2 over the steps, divided by E ||x_end - x_start||^2 so it
    has no units. 0 for straight lines at constant speed, as the page draws them against t; it grows with
    curves, with zigzags and with a pace that speeds up or slows down."""
    steps = paths.shape[1] - 1
    direct = paths[:, -1] - paths[:, 0]                                  # (n, d)
    pace = (paths[:, 1:] - paths[:, :-1]) * steps                        # (n, steps, d)
    return float((pace - direct[:, None]).pow(2).sum(2).mean() / direct.pow(2).sum(1).mean().clamp(min=1e-12))


# ------------------------------------------------------------------ measures

def wasserstein_1(a: torch.Tensor, b: torch.Tensor, *, points_2d: int = 128) -> float:
    """W1 between two point sets of equal size (the empirical distributions). 1-D: exact, the mean gap
    between the sorted samples. 2-D: exact too, on the first ``points_2d`` points of each, as the optimal
    one-to-one matching (equal weights make optimal transport an assignment problem); a few ms."""
    n = min(len(a), len(b))
    a, b = a[:n].double(), b[:n].double()
    if a.shape[1] == 1:
        return float((a[:, 0].sort().values - b[:, 0].sort().values).abs().mean())
    from scipy.optimize import linear_sum_assignment

    n = min(n, points_2d)
    cost = torch.cdist(a[:n], b[:n]).numpy()
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


def kde_1d(samples: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Gaussian kernel density on a grid (Silverman's bandwidth)."""
    bandwidth = 1.06 * float(samples.std()) * len(samples) ** -0.2 + 1e-3
    z = (grid[:, None] - samples[None, :]) / bandwidth
    return torch.exp(-0.5 * z ** 2).mean(1) / (bandwidth * math.sqrt(2 * math.pi))


def js_estimate(a: torch.Tensor, b: torch.Tensor, *, bins: int = 60) -> float:
    """Jensen-Shannon divergence (nats, at most log 2) between the two samples' histograms on a shared grid:
    coarse, but it shows the lesson: log 2 while the supports do not overlap, then it falls."""
    both = torch.cat([a, b])
    low, high = both.min(0).values, both.max(0).values + 1e-6
    def histogram(x):
        cells = ((x - low) / (high - low) * bins).long().clamp(0, bins - 1)
        index = cells[:, 0] if x.shape[1] == 1 else cells[:, 0] * bins + cells[:, 1]
        counts = torch.bincount(index, minlength=bins ** x.shape[1]).double()
        return counts / counts.sum()
    p, q = histogram(a), histogram(b)
    m = 0.5 * (p + q)
    def kl(x, y):
        keep = x > 0
        return float((x[keep] * (x[keep] / y[keep]).log()).sum())
    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


def modes_covered(fake: torch.Tensor, centres, spread: float, *, share: float = 0.02) -> int:
    """How many of a mixture's modes hold at least ``share`` of the fakes within 3 standard deviations."""
    centres = torch.tensor(centres, dtype=fake.dtype)
    near = torch.cdist(fake, centres) < 3 * spread
    return int((near.float().mean(0) >= share).sum())
