"""What the diffusion model and the flow share: both draw a picture in many small network steps.

Both noise a picture x along a Gaussian path, x_t = alpha(t) x + sigma(t) eps with eps ~ N(0, I), where t in
[0, 1] is the *noise level*: t = 0 is the picture, t = 1 pure noise (alpha near 0, sigma near 1). The same
U-Net (``unet.py``) reads (x_t, t, class) and is trained with a mean squared error; to draw, both start from
noise at t = 1 and walk down a grid of times to t = 0. What differs, each in its own module:

- the path: diffusion's cosine schedule (``diffusion.py``), the flow's straight line (``flow.py``);
- what the network answers: the noise eps (diffusion), the velocity x - eps (flow);
- one step from t down to s: DDIM / ancestral DDPM (diffusion), Euler / Heun (flow).

What they share, here: the U-Net, classifier-free guidance, the argument checks, the step loop that yields
each frame for the page's animation, inpainting (the known pixels put back at every step), the forward
process ``add_noise``, one-step ``denoise``, and the training loss. Pictures come in and go out in [0, 1];
inside, the path runs on pictures scaled to [-1, 1].
"""
from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import Iterator

import torch

from .base import IMAGE_SHAPE, GenerativeModel, ModelConfig, UnsupportedOperation
from .family import Family, option, spread
from .unet import GROUPS, UNet

MAX_STEPS = 1000          # network steps a sample may take (the page's slider: 1-1000 diffusion, 1-100 flow)
MAX_GUIDANCE = 20.0
MAX_SAMPLES = 1024
MAX_RESAMPLE = 20         # RePaint's jumps back per step (the paper uses 10)
MAX_WIDTH = 128

Frame = tuple[int, torch.Tensor, torch.Tensor]   # (steps done, x_t, predicted picture), both (n, 1, 28, 28) in [0, 1]


@dataclass
class IterativeConfig(ModelConfig):
    latent_dim: int = 1          # no latent code (kept for the shared config)
    conditional: bool = True     # with a "no class" index, so one network serves guidance
    width: int = 32              # U-Net channels at 28x28; twice this at 14x14 and 7x7
    attention: bool = True       # one self-attention block at 7x7
    class_dropout: float = 0.1   # share of training pictures shown as "no class" (conditional only)

    def validate(self) -> None:
        super().validate()
        if not GROUPS <= self.width <= MAX_WIDTH or self.width % GROUPS:
            raise ValueError(f"width must be a multiple of {GROUPS} from {GROUPS} to {MAX_WIDTH}, got {self.width}")
        if not 0.0 <= self.class_dropout <= 0.5:
            raise ValueError(f"class_dropout must be in [0, 0.5], got {self.class_dropout}")


def to_picture(x: torch.Tensor) -> torch.Tensor:
    """The path's [-1, 1] scale -> a picture in [0, 1] (clamped: noise overshoots)."""
    return ((x + 1) / 2).clamp(0, 1)


class IterativeModel(GenerativeModel):
    """A model that draws by walking from noise (t = 1) to a picture (t = 0) in ``steps`` network steps.

    Subclasses say what the path is (``alpha_sigma``), what the network learns to answer (``target``), how to
    read a clean picture from that answer (``clean``) and how one step goes (``step``)."""
    config_class = IterativeConfig
    abilities = frozenset({"samples", "fills_holes", "denoises"})
    #: the ways to step, the first one the default of ``sample``
    samplers: tuple[str, ...] = ()
    #: the sampler ``inpaint`` uses and its resampling jumps per step when none are asked
    inpaint_sampler: str = ""
    default_resample: int = 1
    #: the name of the training loss's one term
    loss_name: str = "mse"

    def __init__(self, config: IterativeConfig):
        super().__init__(config)
        self.network = UNet(config.width, config.num_classes if config.conditional else 0, config.attention)

    # ----- what each family says
    @abc.abstractmethod
    def alpha_sigma(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The path at noise level t (any shape, in [0, 1]): x_t = alpha x + sigma eps. -> (alpha, sigma)."""

    @abc.abstractmethod
    def target(self, picture: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """What the network learns to answer for x_t made of this picture and this noise."""

    @abc.abstractmethod
    def clean(self, x_t: torch.Tensor, answer: torch.Tensor, alpha: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """The picture the network's answer at x_t points to, where x_t = alpha x + sigma eps (each (B, 1, 1, 1)),
        on the [-1, 1] scale, not clamped."""

    @abc.abstractmethod
    def step(self, x_t: torch.Tensor, t: float, s: float, predict, sampler: str,
             generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        """One step down from noise level t to s < t. ``predict(x, t)`` is the (guided) network.
        -> (x_s, the predicted picture), both on the [-1, 1] scale."""

    def network_passes(self, steps: int, *, sampler: str | None = None, guidance: float = 0.0) -> int:
        """Network evaluations per picture: one per step, two with guidance (with and without the class)."""
        return steps * (2 if guidance else 1)

    # ----- no code, no encoder, no decoder
    def encode(self, x, y=None):
        raise UnsupportedOperation(f"a {self.kind} model has no encoder: its only code is the noise it starts from")

    def decode(self, z, y=None):
        raise UnsupportedOperation(f"a {self.kind} model has no decoder: use sample() to walk from noise to a picture")

    def reconstruct(self, x, y=None):
        raise UnsupportedOperation(f"a {self.kind} model has no code to reconstruct from: use inpaint() or denoise()")

    def prior_sample(self, n, *, generator=None):
        raise UnsupportedOperation(f"a {self.kind} model has no latent prior: sample() starts from noise pictures")

    # ----- the path
    def times(self, steps: int) -> list[float]:
        """The noise levels a walk of ``steps`` steps visits: steps + 1 values, evenly spaced from 1 down to 0
        (for diffusion, a sub-sequence of its continuous time: any number of steps, DDIM's idea)."""
        self._check_steps(steps)
        return [1 - k / steps for k in range(steps + 1)]

    def _path(self, t: float | torch.Tensor, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """alpha, sigma at t (a number or (B,)) as (B, 1, 1, 1) float tensors, ready to scale pictures."""
        t = torch.as_tensor(t, dtype=torch.float64).reshape(-1).expand(batch)
        alpha, sigma = self.alpha_sigma(t)
        shape = (batch, 1, 1, 1)
        return alpha.float().view(shape).to(self.device), sigma.float().view(shape).to(self.device)

    def scalars(self, t: float) -> tuple[float, float]:
        """alpha, sigma at one noise level, computed in double precision: a step's coefficients."""
        alpha, sigma = self.alpha_sigma(torch.tensor(float(t), dtype=torch.float64))
        return float(alpha), float(sigma)

    def signal_to_noise(self, t: float | torch.Tensor) -> float | torch.Tensor:
        """alpha(t)^2 / sigma(t)^2: infinite at t = 0, near 0 at t = 1. A number for a number, else a tensor."""
        values = self._check_times(t, None)
        alpha, sigma = self.alpha_sigma(values.double())
        snr = alpha ** 2 / sigma ** 2
        return float(snr) if isinstance(t, (int, float)) else snr.float()

    @torch.no_grad()
    def add_noise(self, x: torch.Tensor, t: float | torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """The forward process: a sample of x_t given the pictures x (B, 1, 28, 28) in [0, 1] at noise level t
        (a number, or (B,) values, in [0, 1]). Answered in the pictures' units (0 black, 1 white): t = 0 gives x
        back, t = 1 (nearly) pure noise of mean 1/2 and standard deviation 1/2. Not clamped, so its statistics
        are the path's: clamp to show it. The same generator seed gives the same noise at every t."""
        picture = self._pictures(x)
        times = self._check_times(t, picture.shape[0])
        noise = self._noise(picture.shape, generator)
        alpha, sigma = self._path(times, picture.shape[0])
        return (alpha * picture + sigma * noise + 1) / 2

    @torch.no_grad()
    def denoise(self, x_t: torch.Tensor, t: float | torch.Tensor, y=None) -> torch.Tensor:
        """One network pass: the picture the model sees in x_t (as ``add_noise`` gives it, (B, 1, 28, 28), any
        values) at noise level t -> (B, 1, 28, 28) in [0, 1]. The denoising autoencoder's job, at every t.
        y: the classes of a conditional model, None for "no class"."""
        x_t = self._check_images(torch.as_tensor(x_t, dtype=torch.float32)).to(self.device)
        if not torch.isfinite(x_t).all():
            raise ValueError("the noisy pictures contain NaN or infinite values")
        times = self._check_times(t, x_t.shape[0])
        classes = self._classes(y, x_t.shape[0])
        x_t = 2 * x_t - 1
        answer = self.network(x_t, times.float().to(self.device), classes)
        return to_picture(self.clean(x_t, answer, *self._path(times, x_t.shape[0])))

    # ----- training
    def training_pair(self, x: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, classes: torch.Tensor | None):
        """(the network's answer, its target) for pictures x (B, 1, 28, 28) in [0, 1], noise levels t (B,) and
        noise eps (B, 1, 28, 28): the network reads x_t = alpha x + sigma eps."""
        picture = 2 * x - 1
        alpha, sigma = self._path(t, x.shape[0])
        x_t = alpha * picture + sigma * noise
        return self.network(x_t, t.float().to(self.device), classes), self.target(picture, noise)

    def per_picture_loss(self, x, t, noise, classes) -> torch.Tensor:
        """Mean squared error of the network's answer per picture: (B,)."""
        answer, target = self.training_pair(x, t, noise, classes)
        return (answer - target).pow(2).flatten(1).mean(1)

    def loss(self, x, y=None):
        x = self._check_images(x).to(self.device, torch.float32)
        batch = x.shape[0]
        # Stratified noise levels, one in each 1/B of [0, 1] from a shared random offset: the batch covers
        # every t, a lower-variance estimate than B independent draws (Kingma et al. 2021, appendix I.1).
        t = (torch.rand(1, device=x.device) + torch.arange(batch, device=x.device) / batch) % 1
        classes = self._classes(y, batch)
        if classes is not None and self.training and self.config.class_dropout > 0:
            # Classifier-free guidance (Ho & Salimans 2022): some pictures are shown without their class, so
            # the same network also learns the unconditional answer.
            dropped = torch.rand(batch, device=x.device) < self.config.class_dropout
            classes = torch.where(dropped, torch.full_like(classes, self.num_classes), classes)
        mse = self.per_picture_loss(x, t, torch.randn_like(x), classes).mean()
        return {"loss": mse, self.loss_name: mse}

    # ----- drawing
    @torch.no_grad()
    def sample(self, n: int, y=None, generator: torch.Generator | None = None, *, steps: int = 50,
               guidance: float = 0.0, sampler: str | None = None) -> torch.Tensor:
        """n new pictures (n, 1, 28, 28) in [0, 1] after ``steps`` network steps (1 to 1000). y: (n,) classes (or
        one class) of a conditional model, None for classes drawn at random. guidance: the weight w of
        classifier-free guidance, 0 to 20 (0: the plain conditional model). sampler: ``samplers``' names."""
        *_, (_, last, _) = self.sample_steps(n, y, generator, steps=steps, guidance=guidance, sampler=sampler)
        return last

    def sample_steps(self, n: int, y=None, generator: torch.Generator | None = None, *, steps: int = 50,
                     guidance: float = 0.0, sampler: str | None = None) -> Iterator[Frame]:
        """``sample`` one step at a time: yields (k, x_t, predicted picture) after each step k = 1..steps, the
        noisy pictures at noise level t = 1 - k / steps and the picture the network sees in them, each
        (n, 1, 28, 28) in [0, 1]. The last frame's x_t is the sample. Arguments are checked at the call."""
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_SAMPLES:
            raise ValueError(f"n must be a whole number from 1 to {MAX_SAMPLES}, got {n!r}")
        sampler = self._check_sampler(sampler)
        self._check_steps(steps)
        if self.conditional and y is None:
            y = torch.randint(self.num_classes, (n,), generator=generator)
        classes = self._classes(y, n)
        self._check_guidance(guidance, classes)
        shape = (n, *IMAGE_SHAPE)
        return self._walk(self._noise(shape, generator), classes, steps, guidance, sampler, generator)

    @torch.no_grad()
    def inpaint(self, x: torch.Tensor, known: torch.Tensor, y=None, *, steps: int = 50,
                generator: torch.Generator | None = None, guidance: float = 0.0,
                resample: int | None = None) -> torch.Tensor:
        """Fill the hidden pixels: x (B, 1, 28, 28) in [0, 1], known the same shape (1 = keep, 0 = fill) ->
        (B, 1, 28, 28) in [0, 1] with the known pixels exactly as given. At each step the known pixels of x_t
        are replaced by the known part of the picture brought to the same noise level, so the network fills
        the rest to agree with it. ``resample``: that step is redone this many times, each time after jumping
        back up to its noise level (RePaint, Lugmayr et al. 2022), so the filled part has time to harmonise;
        None: the family's default. y: the classes, or None to let the known pixels say what the picture is."""
        *_, (_, last, _) = self.inpaint_steps(x, known, y, steps=steps, generator=generator, guidance=guidance,
                                              resample=resample)
        return last

    def inpaint_steps(self, x: torch.Tensor, known: torch.Tensor, y=None, *, steps: int = 50,
                      generator: torch.Generator | None = None, guidance: float = 0.0,
                      resample: int | None = None) -> Iterator[Frame]:
        """``inpaint`` one step at a time, frames as ``sample_steps``'."""
        original = torch.as_tensor(x, dtype=torch.float32).to(self.device)
        x = self._pictures(x)
        known = torch.as_tensor(known, dtype=torch.float32).to(self.device)
        if known.shape != x.shape:
            raise ValueError(f"the mask must have the pictures' shape {tuple(x.shape)}, got {tuple(known.shape)}")
        if not torch.isfinite(known).all():
            raise ValueError("the mask contains NaN or infinite values")
        known = known > 0.5
        kept = known.flatten(1).sum(1)
        if (kept == known[0].numel()).any():
            raise ValueError("the mask hides nothing in some picture: there is nothing to fill (0 = fill, 1 = keep)")
        if (kept == 0).any():
            raise ValueError("the mask hides everything in some picture: use sample() to draw from nothing")
        self._check_steps(steps)
        resample = self.default_resample if resample is None else resample
        if isinstance(resample, bool) or not isinstance(resample, int) or not 1 <= resample <= MAX_RESAMPLE:
            raise ValueError(f"resample must be a whole number from 1 to {MAX_RESAMPLE}, got {resample!r}")
        classes = self._classes(y, x.shape[0])
        self._check_guidance(guidance, classes)
        start = self._noise(x.shape, generator)
        return self._walk(start, classes, steps, guidance, self.inpaint_sampler, generator,
                          picture=x, known=known, resample=resample, original=original)

    def known_at(self, picture: torch.Tensor, t: float, start: torch.Tensor,
                 generator: torch.Generator | None) -> torch.Tensor:
        """The known pixels brought to noise level t, for inpainting: a fresh draw of the forward process
        (RePaint). The flow uses the walk's own start noise instead."""
        alpha, sigma = self.scalars(t)
        return alpha * picture + sigma * self._noise(picture.shape, generator)

    def jump_up(self, x_s: torch.Tensor, s: float, t: float, generator: torch.Generator | None) -> torch.Tensor:
        """From noise level s back up to t > s: a draw of x_t given x_s, the Gaussian the path implies,
        N(alpha_t / alpha_s x_s, sigma_t^2 - (alpha_t / alpha_s)^2 sigma_s^2)."""
        (alpha_s, sigma_s), (alpha_t, sigma_t) = self.scalars(s), self.scalars(t)
        ratio = alpha_t / alpha_s
        return ratio * x_s + math.sqrt(max(sigma_t ** 2 - ratio ** 2 * sigma_s ** 2, 0.0)) * self._noise(x_s.shape, generator)

    @torch.no_grad()
    def _walk(self, x: torch.Tensor, classes, steps: int, guidance: float, sampler: str, generator, *,
              picture: torch.Tensor | None = None, known: torch.Tensor | None = None,
              resample: int = 1, original: torch.Tensor | None = None) -> Iterator[Frame]:
        """The walk from x at t = 1 down to 0, a frame per step. Inpainting: ``picture`` the pictures on the path's
        scale, ``original`` the same in [0, 1] (what the known pixels show), ``known`` the pixels to keep."""
        # No train()/eval() switch: the U-Net has no dropout or batch norm, and a shared model may be
        # drawing for several users at once.
        start = x
        times = self.times(steps)

        def predict(x_t, t):
            return self._guided(x_t, t, classes, guidance)

        for k in range(steps):
            t, s = times[k], times[k + 1]
            for jump in range(resample):
                if known is not None:
                    x = torch.where(known, self.known_at(picture, t, start, generator), x)
                x_s, predicted = self.step(x, t, s, predict, sampler, generator)
                if jump < resample - 1:
                    x = self.jump_up(x_s, s, t, generator)
            x = x_s
            if known is None:
                yield k + 1, to_picture(x), to_picture(predicted)
                continue
            # The known pixels go back as they came, in [0, 1]: (2x - 1 + 1) / 2 is not always x in float32.
            shown = torch.where(known, original, to_picture(x)) if k == steps - 1 else to_picture(x)
            yield k + 1, shown, torch.where(known, original, to_picture(predicted))

    def _guided(self, x_t: torch.Tensor, t: float, classes: torch.Tensor | None, guidance: float) -> torch.Tensor:
        """The network's answer at (x_t, t), guided: (1 + w) answer(x, class) - w answer(x, no class), the
        convention of Ho & Salimans 2022 (w = 0: the conditional model alone; others write 1 + w as the scale)."""
        batch = x_t.shape[0]
        times = torch.full((batch,), t, device=self.device)
        if not guidance:
            return self.network(x_t, times, classes)
        none = torch.full_like(classes, self.num_classes)
        both = self.network(torch.cat([x_t, x_t]), torch.cat([times, times]), torch.cat([classes, none]))
        with_class, without = both.chunk(2)
        return with_class + guidance * (with_class - without)

    # ----- checks
    def _noise(self, shape, generator) -> torch.Tensor:
        return torch.randn(shape, generator=generator).to(self.device)

    def _pictures(self, x) -> torch.Tensor:
        """Pictures (B, 1, 28, 28) in [0, 1] -> the path's [-1, 1] scale, refusing NaN and values outside."""
        x = self._check_images(torch.as_tensor(x, dtype=torch.float32)).to(self.device)
        if not torch.isfinite(x).all():
            raise ValueError("the pictures contain NaN or infinite values")
        if x.min() < 0 or x.max() > 1:
            raise ValueError(f"pictures must be in [0, 1], got values from {float(x.min()):g} to {float(x.max()):g}")
        return 2 * x - 1

    @staticmethod
    def _check_times(t, batch: int | None) -> torch.Tensor:
        """t: a number or (B,) in [0, 1] -> (B,) float64 on the CPU (batch None: any length)."""
        if isinstance(t, bool):
            raise ValueError(f"t must be a noise level in [0, 1], got {t!r}")
        try:
            times = torch.as_tensor(t, dtype=torch.float64).reshape(-1).cpu()
        except (TypeError, ValueError, RuntimeError):
            raise ValueError(f"t must be a noise level in [0, 1] (a number or one per picture), got {t!r}") from None
        if batch is not None:
            if times.numel() == 1:
                times = times.expand(batch)
            if times.numel() != batch:
                raise ValueError(f"got {times.numel()} noise levels for {batch} pictures")
        if not torch.isfinite(times).all() or (times < 0).any() or (times > 1).any():
            raise ValueError("t must be a noise level in [0, 1] (0: the picture, 1: pure noise)")
        return times

    def _check_steps(self, steps) -> None:
        if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
            raise ValueError(f"steps must be a whole number from 1 to {MAX_STEPS}, got {steps!r}")

    def _check_sampler(self, sampler: str | None) -> str:
        if sampler is None:
            return self.samplers[0]
        if sampler not in self.samplers:
            raise ValueError(f"a {self.kind} model samples with {' or '.join(map(repr, self.samplers))}, not {sampler!r}")
        return sampler

    def _check_guidance(self, guidance, classes) -> None:
        if isinstance(guidance, bool) or not isinstance(guidance, (int, float)) or not math.isfinite(guidance) \
                or not 0 <= guidance <= MAX_GUIDANCE:
            raise ValueError(f"guidance must be a number from 0 to {MAX_GUIDANCE:g}, got {guidance!r}")
        if guidance and not self.conditional:
            raise ValueError("guidance needs a class-conditional model: this one was trained without classes")
        if guidance and (classes == self.num_classes).any():
            raise ValueError("guidance pushes towards a class: pass y, the classes to draw")

    def _classes(self, y, batch: int) -> torch.Tensor | None:
        """The classes a conditional model reads, (B,) int64, checked; y None -> the "no class" index. None for
        an unconditional model (which ignores y, as every family does)."""
        if not self.conditional:
            return None
        if y is None:
            return torch.full((batch,), self.num_classes, dtype=torch.long, device=self.device)
        return self._labels(y, batch)


# ------------------------------------------------------------ the families' shared declaration

@dataclass
class IterativeOptions:
    width: int = option(32, "U-Net channels at 28x28 (twice this at 14x14 and 7x7); a multiple of 8", low=8, high=128)
    attention: bool = option(True, "one self-attention block at 7x7")
    conditional: bool = option(True, "class-conditional, with classifier-free guidance at sampling")
    class_dropout: float = option(0.1, "share of training pictures shown without their class (for guidance)",
                                  low=0.0, high=0.5)


class IterativeFamily(Family):
    """Diffusion and flow train alike: one Adam step on the loss, the U-Net averaged by --ema (it matters a
    lot for their samples), a test loss over fixed noise levels and a preview of guided-free samples."""
    Options = IterativeOptions
    default_lr = 1e-3
    averaged = "network"
    judged = True
    #: the preview's steps: enough for a readable picture, cheap enough for every epoch
    preview_steps = 20
    #: test pictures the test loss is measured on (spread over the test set), each at its own noise level
    evaluated = 1000

    def check_options(self, options) -> None:
        if options.width % GROUPS:
            raise ValueError(f"--width must be a multiple of {GROUPS}, got {options.width}")

    def checkpoint_notes(self, config, metrics):
        notes = [f"U-Net of width {config['width']}" + (", attention at 7x7" if config.get("attention") else "")
                 + (f", class-conditional (class dropped {config['class_dropout']:.0%} of the time, for guidance)"
                    if config.get("conditional") else "")]
        if "test_loss" in metrics:
            notes.append(f"test loss {metrics['test_loss']:.4f}" + (
                f", Frechet distance of 1,000 samples at {self.preview_steps} steps {metrics['test_frechet']:.1f}"
                if "test_frechet" in metrics else ""))
        return notes

    @torch.no_grad()
    def evaluate(self, model: IterativeModel, images: torch.Tensor, labels: torch.Tensor) -> dict:
        """test_loss: the training loss's mean squared error on up to ``evaluated`` test pictures, picture i at
        noise level (i + 1/2) / N (every t, evenly) with noise from a fixed seed: the same draw every epoch."""
        chosen = spread(images, min(self.evaluated, len(images)))
        x, y = images[chosen].float(), labels[chosen]
        count = len(x)
        t = (torch.arange(count, dtype=torch.float64) + 0.5) / count
        noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(0))
        total = 0.0
        for lo in range(0, count, 250):
            part = slice(lo, lo + 250)
            classes = model._classes(y[part] if model.conditional else None, len(x[part]))
            losses = model.per_picture_loss(x[part].to(model.device), t[part], noise[part].to(model.device), classes)
            total += float(losses.sum())
        return {"test_loss": round(total / count, 5)}

    @torch.no_grad()
    def samples_for_judge(self, model: IterativeModel, n: int, generator: torch.Generator) -> torch.Tensor:
        """The judge's samples at ``preview_steps`` steps, unguided (1,000 at 50 steps would take a width-32
        model about 2.5 minutes of one core each epoch; at 20 about 1)."""
        return model.sample(n, generator=generator, steps=self.preview_steps)

    @torch.no_grad()
    def preview(self, model: IterativeModel, test_x, test_y, generator) -> tuple[torch.Tensor, int]:
        """64 samples at ``preview_steps`` steps, unguided, a conditional model's classes in turn (8 columns)."""
        labels = torch.arange(64) % model.num_classes if model.conditional else None
        return model.sample(64, labels, generator, steps=self.preview_steps), 8
