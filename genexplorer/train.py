"""Training loops and the command line.

    python -m genexplorer.train --model vae --dataset fashion --latent-dim 16 --epochs 20 \
        --device auto --seed 0 --out checkpoints/fashion-vae

``fit(settings, on_step=...)`` is the one loop: the CLI, the app's training tab and the
tests all drive it. Each epoch ends with an atomic checkpoint (marked incomplete until
the last epoch), a sample grid and a line in ``progress.jsonl``.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
import torch.nn.functional as F

from . import checkpoints
from .data import dataset_info, load_dataset, load_font_digits
from .images import grid, png_bytes, to_uint8
from .metrics import frechet_distance, psnr
from .models import AUTOREGRESSIVE_KINDS, ENCODER_KINDS, GAN_KINDS, IMAGE_TO_IMAGE_KINDS, MODELS, GenerativeModel, build
from .models.context import BOTTLENECKS
from .noise import TRAINING_NOISE

SAMPLES_FILE = "samples.png"
PROGRESS_FILE = "progress.jsonl"
# The test images scored after each epoch; the final epoch scores the whole test set.
EPOCH_EVAL_IMAGES = 2000
LIMITS = {"epochs": (1, 1000), "batch_size": (1, 4096), "latent_dim": (1, 4096), "hidden": (0, 4096), "blocks": (0, 8)}


@dataclass
class TrainSettings:
    model: str = "vae"
    dataset: str = "mnist"
    out: str = ""
    data_dir: str | None = None
    latent_dim: int | None = None       # None: the family's default (16; 100 for the GAN)
    epochs: int = 10
    batch_size: int = 128
    lr: float | None = None             # None: 1e-3 for encoders, 2e-4 for the GAN
    beta: float = 1.0
    noise: str | None = None            # dae only; default "mixed"
    noise_level: float = 0.5
    conditional: bool = False
    width: int | None = None            # conv width: channels (encoders) or GAN width
    device: str = "auto"
    seed: int = 0
    overwrite: bool = False
    resume: bool = False
    max_steps: int | None = None        # stop early after this many steps (smoke tests)
    threads: int | None = None
    log_dir: str | None = None
    latent_maps: bool = True            # compute PCA/UMAP maps of the test set at the end
    architecture: str = "conv"          # ae/dae: "conv" or "dense" (the autoencoder zoo)
    hidden: int | None = None           # ae/dae: the dense layer's width (0 for a dense AE: one layer each way)
    code_activation: str = "linear"     # ae/dae: "relu" for a non-negative code (sparse AE)
    l1: float = 0.0                     # ae/dae: the sparse AE's L1 weight on the code
    adversarial_weight: float | None = None   # context, pix2pix: the adversarial term's weight (0: the L2 / L1-only twin)
    bottleneck: str | None = None       # context: "dense", "channelwise" (the paper's channel-wise FC layer) or "unet"
    class_loss_weight: float | None = None   # cgan: the auxiliary classifier's weight (None: 1; 0: off)
    augment: str | None = None          # "geometry" or "handwriting": each training picture varied anew each time (augment())
    lr_schedule: str = "constant"       # "cosine": the learning rate falls along half a cosine to 0 over this run's steps
    ema: float | None = None            # GANs: the checkpoint's generator is this exponential moving average of G's weights
    class_every_layer: bool = False     # cvae: the class fed to every decoder layer, not to its input alone
    blocks: int = 0                     # conv ae/dae/vae/cvae: residual 3x3 blocks at each resolution (deeper nets)
    font_digits: bool = False           # mnist: add assets/font_digits.npz (digits drawn from fonts) to the training set

    def validate(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}: use one of {sorted(MODELS)}")
        for name, (low, high) in LIMITS.items():
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int) and low <= value <= high):
                raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
        if self.lr is not None and not (math.isfinite(self.lr) and 0 < self.lr <= 1):
            raise ValueError(f"learning rate must be in (0, 1], got {self.lr}")
        if not (isinstance(self.l1, (int, float)) and math.isfinite(self.l1) and 0 <= self.l1 <= 100):
            raise ValueError(f"the L1 weight must be in [0, 100], got {self.l1}")
        zoo = self.architecture != "conv" or self.code_activation != "linear" or self.l1 > 0 or self.hidden is not None
        if zoo and self.model not in ("ae", "dae"):
            raise ValueError("--architecture, --hidden, --code-activation and --l1 are autoencoder settings (ae or dae)")
        if self.adversarial_weight is not None:
            if self.model not in ("context", "pix2pix"):
                raise ValueError("--adversarial-weight is a setting of the context encoder and pix2pix")
            if not (isinstance(self.adversarial_weight, (int, float)) and 0 <= self.adversarial_weight <= 10):
                raise ValueError(f"the adversarial weight must be in [0, 10], got {self.adversarial_weight}")
        if self.class_loss_weight is not None:
            if not (self.model == "cgan" or (self.model == "gan" and self.conditional)):
                raise ValueError("--class-loss-weight is a setting of the class-conditional GAN (cgan)")
            if not (isinstance(self.class_loss_weight, (int, float)) and 0 <= self.class_loss_weight <= 10):
                raise ValueError(f"the class loss weight must be in [0, 10], got {self.class_loss_weight}")
        if self.ema is not None:
            if self.model not in GAN_KINDS:
                raise ValueError("--ema is a GAN setting: the generator's weights averaged over the steps")
            if not (isinstance(self.ema, (int, float)) and 0 < self.ema < 1):
                raise ValueError(f"the EMA decay must be between 0 and 1 (e.g. 0.999), got {self.ema}")
        if self.font_digits and self.dataset != "mnist":
            raise ValueError("--font-digits adds digits to the mnist training set: use it with --dataset mnist")
        if self.blocks and (self.model not in ("ae", "dae", "vae", "cvae") or self.architecture != "conv"):
            raise ValueError("--blocks deepens the convolutional ae, dae, vae and cvae")
        if self.blocks and self.class_every_layer:
            raise ValueError("--class-every-layer is a decoder of its own, without residual blocks")
        if self.class_every_layer and not (self.model == "cvae" or (self.model == "vae" and self.conditional)):
            raise ValueError("--class-every-layer is a setting of the conditional VAE (cvae)")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"unknown learning-rate schedule {self.lr_schedule!r}: use one of {LR_SCHEDULES}")
        if self.augment is not None and self.augment not in AUGMENTATIONS:
            raise ValueError(f"unknown augmentation {self.augment!r}: use one of {AUGMENTATIONS}")
        if self.bottleneck is not None and (self.model != "context" or self.bottleneck not in BOTTLENECKS):
            raise ValueError(f"--bottleneck is a context encoder setting: one of {BOTTLENECKS}")
        if not (math.isfinite(self.beta) and 0 <= self.beta <= 100):
            raise ValueError(f"beta must be in [0, 100], got {self.beta}")
        if self.noise is not None and self.noise not in TRAINING_NOISE:
            raise ValueError(f"unknown noise {self.noise!r}: use one of {TRAINING_NOISE}")
        if not (math.isfinite(self.noise_level) and 0 <= self.noise_level <= 1):
            raise ValueError(f"noise level must be in [0, 1], got {self.noise_level}")
        if not self.out:
            raise ValueError("give an output folder (--out checkpoints/<dataset>-<name>)")


@dataclass
class Progress:
    """What on_step hears. ``phase`` is "step", "epoch" (an epoch ended and was saved) or "done"."""
    phase: str
    epoch: int
    epochs: int
    step: int
    steps_per_epoch: int
    losses: dict = field(default_factory=dict)
    images_per_s: float = 0.0
    eta_s: float = 0.0
    metrics: dict = field(default_factory=dict)
    message: str = ""

    def line(self) -> str:
        terms = " ".join(f"{k} {v:.4g}" for k, v in self.losses.items())
        return (f"epoch {self.epoch}/{self.epochs} step {self.step}/{self.steps_per_epoch} {terms} | "
                f"{self.images_per_s:.0f} img/s | {format_seconds(self.eta_s)} left")


class TrainingError(RuntimeError):
    """Training cannot go on (diverged, no data...); the message says why."""


class TrainingStopped(Exception):
    """should_stop() asked the loop to end after the last saved epoch."""


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


def pick_device(name: str = "auto") -> torch.device:
    """"auto" -> CUDA, then Apple MPS, then CPU. Any other name is checked, not trusted."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("CUDA was asked for but this machine has no usable CUDA GPU; use --device cpu or auto")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError("MPS was asked for but is not available here; use --device cpu or auto")
    return device


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return str(device)


@dataclass(frozen=True)
class Distributed:
    """Where this process stands in a ``torchrun`` launch (RANK, WORLD_SIZE, LOCAL_RANK in the
    environment); one process on its own is rank 0 of 1, and then nothing here does anything."""
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @classmethod
    def from_env(cls) -> "Distributed":
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        if world_size <= 1:
            return cls()
        return cls(int(os.environ["RANK"]), world_size, int(os.environ.get("LOCAL_RANK", "0")))

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def start(self, device_name: str) -> torch.device:
        """This process's device (its own GPU under torchrun), and the process group: NCCL between
        GPUs, gloo between CPU processes."""
        device = pick_device(device_name)
        if self.active and device.type == "cuda":
            device = torch.device("cuda", self.local_rank)
            torch.cuda.set_device(device)
        if self.active and not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        return device

    def barrier(self) -> None:
        if self.active:
            dist.barrier()

    def mean_of(self, sums: dict[str, float], count: int, device) -> dict[str, float]:
        """Per-key means over every process's ``sums`` of ``count`` values each."""
        if not self.active:
            return {k: v / max(count, 1) for k, v in sums.items()}
        keys = sorted(sums)
        totals = torch.tensor([sums[k] for k in keys] + [float(count)], dtype=torch.float64, device=device)
        dist.all_reduce(totals)
        return {k: float(totals[i] / max(float(totals[-1]), 1.0)) for i, k in enumerate(keys)}

    def stop(self) -> None:
        if self.active and dist.is_initialized():
            dist.destroy_process_group()


class _Loss(nn.Module):
    """model.loss as a forward(): DistributedDataParallel averages the gradients of what its forward computed."""

    def __init__(self, model: GenerativeModel):
        super().__init__()
        self.model = model

    def forward(self, x, y):
        return self.model.loss(x, y)


@contextmanager
def _swapped(model: nn.Module, modules: dict[str, nn.Module]):
    """Run with some of model's submodules replaced (by their DDP wrappers); the model itself, its
    state_dict included, is left as it was."""
    saved = {name: model._modules[name] for name in modules}
    model._modules.update(modules)
    try:
        yield
    finally:
        model._modules.update(saved)


def make_step(model: GenerativeModel, optimizers, device: torch.device, where: Distributed) -> Callable:
    """step(x, y, amp) -> loss terms: the plain training step, or under torchrun the same step with the
    gradients averaged over every process by DistributedDataParallel (both networks of a GAN)."""
    if model.kind in IMAGE_TO_IMAGE_KINDS:
        if where.active:
            raise TrainingError(f"{model.kind} training runs in one process: start it without torchrun")
        if model.adversarial:
            return lambda x, y, amp: _adversarial_fill_step(model, optimizers, x, y, amp)
        return lambda x, y, amp: _encoder_step(model, optimizers, x, y, amp)
    is_gan = model.kind in GAN_KINDS
    if is_gan:
        # A WGAN's critic takes critic_steps batches for each generator update (n_critic).
        every = model.config.critic_steps if model.config.wasserstein else 1
        state = {"batches": 0, "g_loss": 0.0}

        def plain_gan_step(x, y, amp):
            state["batches"] += 1
            terms = _gan_step(model, optimizers, x, y, amp, update_g=state["batches"] % every == 0,
                              last_g_loss=state["g_loss"])
            state["g_loss"] = terms["g_loss"]
            return terms
    if not where.active:
        if is_gan:
            return plain_gan_step
        return lambda x, y, amp: _encoder_step(model, optimizers, x, y, amp)
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [device.index] if device.type == "cuda" else None
    if is_gan:
        wrapped = {name: DistributedDataParallel(getattr(model, name), device_ids=device_ids)
                   for name in ("generator", "discriminator")}

        def gan_step(x, y, amp):
            with _swapped(model, wrapped):
                return plain_gan_step(x, y, amp)
        return gan_step
    runner = DistributedDataParallel(_Loss(model), device_ids=device_ids)
    return lambda x, y, amp: _encoder_step(model, optimizers, x, y, amp, loss=runner)


AUGMENTATIONS = ("geometry", "handwriting")
LR_SCHEDULES = ("constant", "cosine")


# With --ema the checkpoint's generator is the average; the generator being trained goes here, for --resume.
LIVE_GENERATOR_FILE = "live_generator.safetensors"


class AveragedGenerator:
    """An exponential moving average of a GAN generator's weights (Yazici et al. 2019, "The unusual effectiveness
    of averaging in GAN training"): G's weights circle around a good point while the two players chase each other,
    and their average sits nearer it. Batch-norm statistics are copied, not averaged."""

    def __init__(self, generator: nn.Module, decay: float):
        import copy

        self.module = copy.deepcopy(generator).eval().requires_grad_(False)
        self.decay = decay

    @torch.no_grad()
    def update(self, generator: nn.Module) -> None:
        for mine, theirs in zip(self.module.parameters(), generator.parameters()):
            mine.lerp_(theirs, 1.0 - self.decay)
        for mine, theirs in zip(self.module.buffers(), generator.buffers()):
            mine.copy_(theirs)


def set_learning_rate(optimizers, lr: float) -> None:
    """Every parameter group of every optimizer in ``optimizers`` at rate ``lr``."""
    for optimizer in optimizers:
        for group in optimizer.param_groups:
            group["lr"] = lr


def lr_factor(schedule: str, step: int, total_steps: int) -> float:
    """The share of the base learning rate for a step (0-based) of a run of total_steps. cosine: half a cosine
    from 1 to 0 (Loshchilov & Hutter 2017, one cycle): big steps while far from a minimum, small ones at the end,
    so the last epoch's weights settle instead of jumping around (the digits' context encoder's hole PSNR moved
    by +-0.5 dB from one epoch to the next at a constant rate). A resumed run starts a new cycle over its own
    remaining steps."""
    if schedule == "constant" or total_steps <= 0:
        return 1.0
    return 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / total_steps))


def random_affine(x: torch.Tensor, *, shift: float = 2.0, degrees: float = 10.0, scale: float = 0.1,
                  shear: float = 0.0) -> torch.Tensor:
    """Each picture of x (B, 1, 28, 28) moved by its own small random shift (pixels), turn and slant (degrees)
    and scale (a fraction), bilinear, black outside."""
    batch = x.shape[0]

    def uniform(most: float) -> torch.Tensor:
        return (torch.rand(batch, device=x.device) * 2 - 1) * most

    angle, slant = uniform(math.radians(degrees)), torch.tan(uniform(math.radians(shear)))
    factor = 1 + uniform(scale)
    cos, sin = torch.cos(angle) / factor, torch.sin(angle) / factor
    moved_x, moved_y = uniform(shift * 2 / 28), uniform(shift * 2 / 28)      # pixels -> [-1, 1] units
    # rotation-and-scale, then a horizontal slant (italic writing): [[cos, -sin + slant*cos], [sin, cos + slant*sin]]
    theta = torch.stack([torch.stack([cos, -sin + slant * cos, moved_x], 1),
                         torch.stack([sin, cos + slant * sin, moved_y], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def random_strokes(x: torch.Tensor) -> torch.Tensor:
    """Each picture's strokes made thicker or thinner by its own random amount (a blend towards a 3x3
    dilation or erosion), then blurred by its own random amount (sigma 0 to 1 pixel): pens, canvases and
    photos differ from MNIST's scanned pen strokes in just these ways."""
    batch = x.shape[0]
    thicker = F.max_pool2d(x, 3, stride=1, padding=1)
    thinner = -F.max_pool2d(-x, 3, stride=1, padding=1)
    # -0.5 (half-way to the erosion: a full one wipes out a 1-2 pixel stroke) ... +1 (the whole dilation)
    amount = torch.rand(batch, 1, 1, 1, device=x.device) * 1.5 - 0.5
    x = x + amount.clamp(min=0) * (thicker - x) + (-amount).clamp(min=0) * (thinner - x)
    sigma = torch.rand(batch, device=x.device)
    offsets = torch.arange(-2, 3, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-offsets[None, :] ** 2 / (2 * sigma[:, None].clamp(min=1e-3) ** 2))   # (B, 5)
    kernel = kernel / kernel.sum(1, keepdim=True)
    # separable blur, one kernel per picture: the pictures as channels of one grouped convolution
    as_channels = x.reshape(1, batch, 28, 28)
    rows = F.conv2d(F.pad(as_channels, (2, 2, 0, 0)), kernel.reshape(batch, 1, 1, 5), groups=batch)
    both = F.conv2d(F.pad(rows, (0, 0, 2, 2)), kernel.reshape(batch, 1, 5, 1), groups=batch)
    return both.reshape(batch, 1, 28, 28).clamp(0, 1)


def random_coarseness(x: torch.Tensor, share: float = 0.3) -> torch.Tensor:
    """A random ``share`` of the pictures made coarse: shrunk to 7-14 pixels a side and blown up again
    (bilinear), as a small canvas, a low-resolution camera or an 8x8 scan gives them."""
    batch = x.shape[0]
    chosen = torch.rand(batch, device=x.device) < share
    if not chosen.any():
        return x
    size = int(torch.randint(7, 15, (1,)))
    coarse = F.interpolate(F.interpolate(x[chosen], size=(size, size), mode="area"), size=(28, 28), mode="bilinear",
                           align_corners=False)
    out = x.clone()
    out[chosen] = coarse
    return out


def augment(x: torch.Tensor, kind: str) -> torch.Tensor:
    """--augment: "geometry" moves each picture a little (shift 2 px, turn 10 degrees, scale 10 %) every time it
    is seen: more variety from the 4,500 digits. "handwriting" moves it further (3 px, 15 degrees, 15 %, slant
    15 degrees), varies its strokes (random_strokes) and makes some coarse (random_coarseness): for the reader of
    drawings and photos people make."""
    if kind == "geometry":
        return random_affine(x)
    return random_coarseness(random_strokes(random_affine(x, shift=3.0, degrees=15.0, scale=0.15, shear=15.0)))


def model_settings(s: TrainSettings, num_classes: int) -> dict:
    """The model config dict a training run builds, from the CLI's flat settings."""
    settings: dict = {"num_classes": num_classes}
    if s.latent_dim is not None:
        settings["latent_dim"] = s.latent_dim
    if s.model in GAN_KINDS:
        if s.width is not None:
            settings["width"] = s.width
        settings["conditional"] = s.conditional or s.model == "cgan"
        settings["projection"] = settings["conditional"]
        if settings["conditional"]:
            settings["class_loss_weight"] = 1.0 if s.class_loss_weight is None else s.class_loss_weight
            settings["class_planes_in_d"] = False     # y reaches D through the projection and the class head only
        return settings
    if s.width is not None:
        settings["channels"] = s.width
    if s.model == "pixelcnn":
        settings.pop("latent_dim", None)    # no latent code
        settings["conditional"] = s.conditional
        return settings
    if s.blocks:
        settings["blocks"] = s.blocks
    if s.model in ("vae", "cvae"):
        settings["beta"] = s.beta
        if s.class_every_layer:
            settings["class_every_layer"] = True
    if s.model == "pca":
        return {k: v for k, v in settings.items() if k in ("num_classes", "latent_dim")}
    if s.model in ("context", "pix2pix"):
        settings.pop("latent_dim", None)
        if s.width is not None:
            settings["channels"] = s.width
        if s.adversarial_weight is not None:
            settings["adversarial_weight"] = s.adversarial_weight
        if s.bottleneck is not None and s.model == "context":
            settings["bottleneck"] = s.bottleneck
        return settings
    if s.model in ("ae", "dae"):
        settings.update(architecture=s.architecture, code_activation=s.code_activation, l1=s.l1)
        if s.hidden is not None:
            settings["hidden"] = s.hidden
        noise = s.noise or ("mixed" if s.model == "dae" else "none")
        settings["noise"] = noise
        settings["noise_level"] = s.noise_level if noise != "none" else 0.0
    if s.model != "cvae":
        settings["conditional"] = s.conditional
    return settings


# The papers' learning rates: DCGAN (Radford et al. 2016), WGAN (Arjovsky et al. 2017), WGAN-GP (Gulrajani et al. 2017).
DEFAULT_LR = {"gan": 2e-4, "cgan": 2e-4, "wgan": 5e-5, "wgan-gp": 1e-4}


def _optimizers(model: GenerativeModel, lr: float) -> dict[str, torch.optim.Optimizer]:
    if model.kind == "wgan":
        # RMSprop, as the WGAN paper: momentum and the clipped critic do not mix well.
        return {"d": torch.optim.RMSprop(model.discriminator.parameters(), lr=lr),
                "g": torch.optim.RMSprop(model.generator.parameters(), lr=lr)}
    if model.kind == "wgan-gp":
        # Adam without momentum (beta1 = 0), the WGAN-GP paper's algorithm 1.
        return {"d": torch.optim.Adam(model.discriminator.parameters(), lr=lr, betas=(0.0, 0.9)),
                "g": torch.optim.Adam(model.generator.parameters(), lr=lr, betas=(0.0, 0.9))}
    if model.kind in GAN_KINDS:
        # DCGAN paper's Adam settings: lr 2e-4, beta1 0.5 keep the two players stable.
        return {
            "d": torch.optim.Adam(model.discriminator.parameters(), lr=lr, betas=(0.5, 0.999)),
            "g": torch.optim.Adam(model.generator.parameters(), lr=lr, betas=(0.5, 0.999)),
        }
    if model.kind in IMAGE_TO_IMAGE_KINDS and model.adversarial:
        # The filler and its discriminator, each its own Adam (DCGAN's beta1 0.5, as the context encoder paper).
        return {"g": torch.optim.Adam(model.generator_parameters(), lr=lr, betas=(0.5, 0.999)),
                "d": torch.optim.Adam(model.discriminator.parameters(), lr=lr, betas=(0.5, 0.999))}
    return {"model": torch.optim.Adam(model.parameters(), lr=lr)}


def _adversarial_fill_step(model, optimizers, x, y, amp: bool) -> dict[str, float]:
    """One batch of a context encoder with its discriminator: the filler's joint loss (L2 on the hole plus the
    adversarial term) first, then the discriminator on real against filled pictures. In this order the filler's
    backward pass still sees the discriminator's weights it was computed with."""
    terms = model.loss(x)
    optimizers["g"].zero_grad(set_to_none=True)
    terms["loss"].backward()
    optimizers["g"].step()
    optimizers["d"].zero_grad(set_to_none=True)
    terms["d_loss"].backward()
    optimizers["d"].step()
    return {k: float(v.detach()) for k, v in terms.items()}


def _encoder_step(model, optimizers, x, y, amp: bool, *, loss=None) -> dict[str, float]:
    optimizer = optimizers["model"]
    with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=amp):
        terms = (loss or model.loss)(x, y if model.conditional or model.trains_on_labels else None)
    optimizer.zero_grad(set_to_none=True)
    terms["loss"].backward()
    optimizer.step()
    return {k: float(v.detach()) for k, v in terms.items()}


def _gan_step(model, optimizers, x, y, amp: bool, *, update_g: bool = True, last_g_loss: float = 0.0) -> dict[str, float]:
    """One batch: (1) a D (critic) update, then (2) a G update unless ``update_g`` is false (a WGAN
    updates G once every critic_steps batches; its g_loss is then the last one)."""
    y = y if model.conditional else None
    # (1) update D: push D(x) towards 1 and D(G(z)) towards 0 (WGAN: widen C(x) - C(G(z))).
    d_terms = model.discriminator_loss(x, y)
    optimizers["d"].zero_grad(set_to_none=True)
    d_terms["loss"].backward()
    optimizers["d"].step()
    if model.kind == "wgan":
        model.clip_critic()
    g_loss = last_g_loss
    if update_g:
        # (2) update G: the non-saturating loss, push D(G(z)) towards 1 (WGAN: raise C(G(z))).
        g_terms = model.generator_loss(x.shape[0])
        optimizers["g"].zero_grad(set_to_none=True)
        g_terms["loss"].backward()
        optimizers["g"].step()
        g_loss = float(g_terms["loss"].detach())
    return {"d_loss": float(d_terms["loss"].detach()), "g_loss": g_loss,
            **{k: float(v.detach()) for k, v in d_terms.items() if k != "loss"}}


def _epoch_order(count: int, epoch: int, seed: int, where: Distributed, device) -> torch.Tensor:
    """This process's images for an epoch, in order: all of them shuffled, or under torchrun its
    DistributedSampler shard (every process the same number, the last ones padded by repeats)."""
    if not where.active:
        return torch.randperm(count, device=device)
    from torch.utils.data.distributed import DistributedSampler

    sampler = DistributedSampler(range(count), num_replicas=where.world_size, rank=where.rank, shuffle=True, seed=seed)
    sampler.set_epoch(epoch)
    return torch.tensor(list(sampler), device=device)


@torch.no_grad()
def evaluate(model: GenerativeModel, images: torch.Tensor, labels: torch.Tensor, *, batch_size: int = 500) -> dict:
    """Test metrics of an encoder model: per-pixel MSE, PSNR, and for VAEs the -ELBO terms (nats).
    images: (N, 1, 28, 28) float in [0, 1]."""
    if model.kind == "classifier":
        return _evaluate_classifier(model, images, labels, batch_size=batch_size)
    if model.kind in AUTOREGRESSIVE_KINDS:
        return _evaluate_likelihood(model, images, labels, batch_size=batch_size)
    if model.kind == "context_encoder":
        return _evaluate_filling(model, images, batch_size=batch_size)
    if model.kind == "pix2pix":
        return _evaluate_translation(model, images, batch_size=batch_size)
    if model.kind not in ENCODER_KINDS:
        return {}
    model.eval()
    totals: dict[str, float] = {}
    generator = torch.Generator().manual_seed(0)
    for start in range(0, len(images), batch_size):
        x = images[start: start + batch_size]
        y = labels[start: start + batch_size] if model.conditional else None
        recon = model.reconstruct(x, y)
        batch_terms = {"mse": (recon - x).pow(2).mean(dim=(1, 2, 3)), "psnr": psnr(recon, x)}
        if model.kind in ("vae", "cvae"):
            rec, kl = model.elbo_terms(x, y, generator=generator if x.device.type == "cpu" else None)
            batch_terms.update(rec_nats=rec, kl_nats=kl, neg_elbo_nats=rec + kl)
        for key, value in batch_terms.items():
            totals[key] = totals.get(key, 0.0) + float(value.sum())
    model.train()
    return {f"test_{k}": round(v / len(images), 5) for k, v in totals.items()}


@torch.no_grad()
def _evaluate_likelihood(model, images: torch.Tensor, labels: torch.Tensor, *, batch_size: int) -> dict:
    """Exact test negative log-likelihood of an autoregressive model, nats per image."""
    model.eval()
    nats = 0.0
    for start in range(0, len(images), batch_size):
        y = labels[start: start + batch_size] if model.conditional else None
        nats += float(model.nll(images[start: start + batch_size], y).sum())
    model.train()
    return {"test_nll_nats": round(nats / len(images), 5)}


@torch.no_grad()
def _evaluate_filling(model, images: torch.Tensor, *, batch_size: int) -> dict:
    """A hole filler on the benchmark's hole, the centred 14x14 square: PSNR on the hidden pixels alone."""
    from .metrics import masked_psnr
    from .models.context import centre_hole

    model.eval()
    hidden = centre_hole().to(images.device)
    total = 0.0
    for start in range(0, len(images), batch_size):
        x = images[start: start + batch_size]
        total += float(masked_psnr(model.inpaint(x, ~hidden), x, hidden).sum())
    model.train()
    return {"test_hole_psnr": round(total / len(images), 5)}


@torch.no_grad()
def _evaluate_translation(model, images: torch.Tensor, *, batch_size: int) -> dict:
    """pix2pix on the test pictures' own edge maps: mean absolute error and PSNR of the translations."""
    from .edges import edges

    model.eval()
    l1 = peak = 0.0
    for start in range(0, len(images), batch_size):
        x = images[start: start + batch_size]
        out = model.translate(edges(x))
        l1 += float((out - x).abs().mean(dim=(1, 2, 3)).sum())
        peak += float(psnr(out, x).sum())
    model.train()
    return {"test_l1": round(l1 / len(images), 5), "test_psnr": round(peak / len(images), 5)}


@torch.no_grad()
def _evaluate_classifier(model, images: torch.Tensor, labels: torch.Tensor, *, batch_size: int) -> dict:
    """Test accuracy and cross-entropy (nats per image) of a classifier."""
    model.eval()
    correct, nats = 0.0, 0.0
    for start in range(0, len(images), batch_size):
        logits = model.logits(images[start: start + batch_size])
        y = labels[start: start + batch_size].to(logits.device)
        correct += float((logits.argmax(1) == y).sum())
        nats += float(torch.nn.functional.cross_entropy(logits, y, reduction="sum"))
    model.train()
    return {"test_accuracy": round(correct / len(images), 5), "test_cross_entropy_nats": round(nats / len(images), 5)}


FRECHET_SAMPLES = 1000


class SampleJudge:
    """The Frechet distance of a GAN's samples to the test images, on the features of the dataset's
    shipped classifier (a small FID): written each epoch beside the losses, so a run shows whether
    its losses say anything about its pictures (a WGAN critic's does; a DCGAN's D and G losses hardly)."""

    def __init__(self, classifier: GenerativeModel, test_x: torch.Tensor, count: int = FRECHET_SAMPLES):
        self.classifier = classifier.eval()
        self.count = count
        self.reference = self._features(test_x[:count])

    @torch.no_grad()
    def _features(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.classifier.device).float()
        return torch.cat([self.classifier.features(x[i: i + 500]) for i in range(0, len(x), 500)])

    @torch.no_grad()
    def __call__(self, model: GenerativeModel, seed: int = 0) -> float:
        was_training = model.training
        model.eval()
        samples = model.sample(self.count, generator=torch.Generator().manual_seed(seed + 1))
        model.train(was_training)
        return frechet_distance(self._features(samples.cpu()), self.reference)

    @classmethod
    def for_dataset(cls, dataset: str, test_x: torch.Tensor, log: Callable[[str], None]) -> "SampleJudge | None":
        try:
            classifier = checkpoints.load(f"{dataset}-classifier", allow_paths=False)
        except (checkpoints.CheckpointError, ValueError) as exc:
            log(f"no per-epoch Frechet distance: {dataset}-classifier cannot be loaded ({exc})")
            return None
        return cls(classifier, test_x.cpu())


@torch.no_grad()
def sample_grid(model: GenerativeModel, test_x: torch.Tensor, test_y: torch.Tensor, seed: int = 0) -> np.ndarray:
    """The picture saved each epoch: for encoders, test images over their reconstructions,
    then prior samples; for the GAN, 64 samples from fixed noise; for the classifier, the
    test images it misreads first."""
    was_training = model.training
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    if model.kind == "classifier":
        # A classifier draws nothing: show the test images it misreads (then the others).
        predicted = torch.cat([model.logits(test_x[i: i + 1000]).argmax(1) for i in range(0, len(test_x), 1000)])
        order = torch.argsort((predicted == test_y.to(predicted.device)).int(), stable=True)[:64]
        model.train(was_training)
        return grid(to_uint8(test_x[order.to(test_x.device)].cpu()), ncols=8)
    if model.kind == "pix2pix":
        # Test pictures, their edge maps, and the translations: three rows of 16.
        from .edges import edges

        pick = torch.linspace(0, len(test_x) - 1, 16).long().to(test_x.device)
        x = test_x[pick]
        sketch = edges(x)
        pictures = torch.cat([x.cpu(), sketch.cpu(), model.translate(sketch).cpu()])
        model.train(was_training)
        return grid(to_uint8(pictures), ncols=16)
    if model.kind in IMAGE_TO_IMAGE_KINDS:
        # Test pictures, the same pictures with the centre hole, and the filled ones: three rows of 16.
        from .models.context import centre_hole

        pick = torch.linspace(0, len(test_x) - 1, 16).long().to(test_x.device)
        x = test_x[pick]
        hidden = centre_hole().to(x.device)
        pictures = torch.cat([x.cpu(), torch.where(hidden, torch.full_like(x, 0.5), x).cpu(), model.inpaint(x, ~hidden).cpu()])
        model.train(was_training)
        return grid(to_uint8(pictures), ncols=16)
    if model.kind in ENCODER_KINDS:
        # Spread over the test set: the shipped MNIST split is stored sorted by class.
        pick = torch.linspace(0, len(test_x) - 1, 16).long().to(test_x.device)
        x, y = test_x[pick], test_y[pick]
        recon = model.reconstruct(x, y if model.conditional else None)
        labels = torch.arange(16) % model.num_classes if model.conditional else None
        samples = model.sample(32, labels.repeat(2) if labels is not None else None, generator=generator)
        pictures = torch.cat([x.cpu(), recon.cpu(), samples.cpu()])
    else:
        labels = torch.arange(64) % model.num_classes if model.conditional else None
        pictures = model.sample(64, labels, generator=generator).cpu()
    model.train(was_training)
    return grid(to_uint8(pictures), ncols=16 if model.kind in ENCODER_KINDS else 8)


@torch.no_grad()
def latent_maps(model: GenerativeModel, test_x: torch.Tensor, test_y: torch.Tensor, *, use_umap: bool = True,
                log: Callable[[str], None] = print) -> dict[str, torch.Tensor]:
    """2-D coordinates of the test set's codes, stored beside the checkpoint so the app
    never runs UMAP while someone waits. Keys: "labels", "pca" (N, 2), "pca_mean",
    "pca_components" (2, latent_dim), and "umap" (N, 2) when umap-learn is installed
    and the latent has more than two dimensions."""
    model.eval()
    codes = torch.cat([model.encode(test_x[i: i + 1000], test_y[i: i + 1000] if model.conditional else None).cpu()
                       for i in range(0, len(test_x), 1000)]).double()
    mean = codes.mean(0)
    if codes.shape[1] >= 2:
        # PCA by SVD: the two directions of largest spread.
        _, _, v = torch.linalg.svd(codes - mean, full_matrices=False)
        components = v[:2]
    else:
        components = torch.eye(codes.shape[1], 2).T
    maps = {
        "labels": test_y.cpu().to(torch.int64),
        "pca": ((codes - mean) @ components.T).float(),
        "pca_mean": mean.float(),
        "pca_components": components.float(),
    }
    if use_umap and codes.shape[1] > 2:
        try:
            import umap  # optional: only needed where checkpoints are made
        except ImportError:
            log("umap-learn is not installed: storing the PCA map only")
        else:
            start = time.time()
            reducer = umap.UMAP(n_components=2, n_neighbors=15, min_dist=0.1, random_state=0)
            maps["umap"] = torch.from_numpy(reducer.fit_transform(codes.float().numpy())).float()
            log(f"UMAP map of {len(codes)} codes computed in {time.time() - start:.1f} s")
    model.train()
    return maps


def _to_float_images(array: np.ndarray, device) -> torch.Tensor:
    return torch.from_numpy(array).to(device).float().div_(255.0).unsqueeze(1)


def fit(settings: TrainSettings, *, on_step: Callable[[Progress], None] | None = None,
        should_stop: Callable[[], bool] | None = None, log: Callable[[str], None] = print) -> Path:
    """Train a model as ``settings`` say and return the checkpoint folder.

    on_step(progress) is called every few steps and after every epoch; should_stop()
    is polled every step and, when true, ends the run (the last finished epoch stays
    saved, marked incomplete) by raising TrainingStopped.

    Under ``torchrun`` each process trains on its shard of the data with a share of the batch
    (--batch-size stays the total over all processes), the gradients are averaged every step,
    and only rank 0 logs, evaluates and writes the checkpoint.
    """
    settings.validate()
    started = time.time()
    out = Path(settings.out)
    if settings.threads:
        torch.set_num_threads(settings.threads)
    where = Distributed.from_env()
    try:
        result = _fit(settings, where, started, out, on_step if where.is_main else None, should_stop,
                      log if where.is_main else (lambda message: None))
        # Every process is done with gloo's threads before any tears the group down: without this a
        # process that leaves first can abort the other at exit ("terminate called without an active exception").
        where.barrier()
        return result
    finally:
        where.stop()


def _fit(settings: TrainSettings, where: Distributed, started: float, out: Path, on_step, should_stop, log) -> Path:
    device = where.start(settings.device)
    log(f"device: {describe_device(device)}" + (f", {where.world_size} processes" if where.active else ""))
    resume_from = None
    if out.exists() and (out / checkpoints.CONFIG_FILE).exists():
        if settings.resume:
            resume_from = out
        elif not settings.overwrite:
            raise FileExistsError(f"{out} already holds a checkpoint: pass --overwrite to replace it or --resume to continue it")
    # While training over an existing checkpoint, epochs are saved beside it and only
    # replace it once the run completes: the old one stays loadable until then.
    staging = out if (resume_from is not None or not out.exists()) else out.with_name(f".{out.name}.incomplete")
    log_dir = Path(settings.log_dir) if settings.log_dir else Path("runs") / out.name
    if where.is_main:
        log_dir.mkdir(parents=True, exist_ok=True)
    # Every process checked the folder before any could write to it.
    where.barrier()

    torch.manual_seed(settings.seed)
    np.random.seed(settings.seed)
    info = dataset_info(settings.dataset)
    train_images, train_labels = load_dataset(settings.dataset, "train", data_dir=settings.data_dir)
    test_images, test_labels = load_dataset(settings.dataset, "test", data_dir=settings.data_dir)
    if settings.font_digits:
        font_images, font_labels = load_font_digits()
        train_images = np.concatenate([train_images, font_images])
        train_labels = np.concatenate([train_labels, font_labels])
    num_classes = max(len(info.class_names), int(train_labels.max()) + 1)
    # These datasets are small: keep them on the device whole, no DataLoader round trips.
    train_x = torch.from_numpy(train_images).to(device)
    train_y = torch.from_numpy(train_labels).to(device)
    test_x = _to_float_images(test_images, device)
    test_y = torch.from_numpy(test_labels).to(device)

    earlier_seconds = 0.0
    if resume_from is not None:
        model = checkpoints.load(resume_from, device=device).train()
        resumed_config = checkpoints.read_config(resume_from)
        done = resumed_config.get("epochs_done", 0)
        earlier_seconds = float(resumed_config.get("training", {}).get("seconds", 0.0))
        log(f"resuming {resume_from} after epoch {done}")
    else:
        model = build(settings.model, model_settings(settings, num_classes)).to(device)
        done = 0
    model.dataset = settings.dataset if settings.dataset in ("mnist", "fashion") else Path(settings.dataset).name
    model.class_names = tuple(info.class_names[:num_classes]) if len(info.class_names) >= num_classes else \
        tuple(str(i) for i in range(num_classes))
    if model.kind == "pca":
        return _fit_closed_form(model, settings, where, started, out, log_dir, train_x, test_x, test_y, on_step, log)
    is_gan = model.kind in GAN_KINDS
    judge = SampleJudge.for_dataset(settings.dataset, test_x, log) if is_gan and where.is_main else None
    lr = settings.lr or DEFAULT_LR.get(model.kind, 1e-3)
    optimizers = _optimizers(model, lr)
    if resume_from is not None:
        saved = checkpoints.load_optimizer_state(resume_from)
        if saved:
            for name, optimizer in optimizers.items():
                optimizer.load_state_dict(saved[name])
        set_learning_rate(optimizers.values(), lr)   # the saved rate may be the end of a cosine: start from lr
    averaged = AveragedGenerator(model.generator, settings.ema) if settings.ema else None
    if resume_from is not None and done < settings.epochs and (resume_from / LIVE_GENERATOR_FILE).is_file():
        # The checkpoint's generator is the average (copied just above); training goes on from the live one.
        # (A run only finished where it stopped keeps its average: nothing is trained.)
        from safetensors.torch import load_file

        model.generator.load_state_dict(load_file(str(resume_from / LIVE_GENERATOR_FILE), device=str(device)))
    amp = device.type == "cuda"
    step_fn = make_step(model, optimizers, device, where)
    # The same seed builds the same model everywhere (DDP also copies rank 0's); each process then
    # draws its own noise, so two processes do not add the same noise to different images.
    torch.manual_seed(settings.seed + where.rank)
    training_record = {k: v for k, v in asdict(settings).items() if k not in ("overwrite", "resume", "log_dir")}
    training_record.update(lr=lr, device=str(device), num_train_images=len(train_x), world_size=where.world_size)
    # Each process takes a share of the batch, so the averaged gradient is that of one batch of --batch-size.
    batch_size = math.ceil(settings.batch_size / where.world_size)
    shard = math.ceil(len(train_x) / where.world_size)

    steps_per_epoch = math.ceil(shard / batch_size)
    total_steps = (settings.epochs - done) * steps_per_epoch
    if settings.max_steps is not None:
        total_steps = min(total_steps, settings.max_steps)
    if resume_from is not None and done >= settings.epochs:
        return _finish_resumed(model, resumed_config, settings, where, started, out, log_dir, test_x, test_y,
                               on_step, log)
    log(f"{model.kind} on {model.dataset}: {len(train_x)} train / {len(test_x)} test images, "
        f"{sum(p.numel() for p in model.parameters()):,} parameters, {settings.epochs - done} epochs of {steps_per_epoch} steps")
    report_every = max(1, steps_per_epoch // 20)
    steps_run, images_seen, metrics = 0, 0, {}
    loop_start = time.time()
    progress_path = log_dir / PROGRESS_FILE
    if resume_from is None and where.is_main:
        progress_path.write_text("")
    model.train()
    for epoch in range(done + 1, settings.epochs + 1):
        order = _epoch_order(len(train_x), epoch, settings.seed, where, device)
        sums: dict[str, float] = {}
        epoch_steps = 0
        for step in range(1, steps_per_epoch + 1):
            if should_stop is not None and should_stop():
                raise TrainingStopped(f"stopped by request during epoch {epoch}; epoch {epoch - 1} is saved")
            index = order[(step - 1) * batch_size: step * batch_size]
            x = train_x[index].float().div_(255.0).unsqueeze(1)
            if settings.lr_schedule != "constant":
                set_learning_rate(optimizers.values(), lr * lr_factor(settings.lr_schedule, steps_run, total_steps))
            if settings.augment:
                x = augment(x, settings.augment)
            terms = step_fn(x, train_y[index], amp)
            if averaged is not None:
                averaged.update(model.generator)
            if not all(math.isfinite(v) for v in terms.values()):
                raise TrainingError(
                    f"training diverged at epoch {epoch}, step {step} (loss {terms}); "
                    "try a smaller learning rate. The last finished epoch is still saved."
                )
            for key, value in terms.items():
                sums[key] = sums.get(key, 0.0) + value
            epoch_steps += 1
            steps_run += 1
            images_seen += len(index) * where.world_size
            if on_step is not None and (step % report_every == 0 or step == steps_per_epoch):
                elapsed = time.time() - loop_start
                rate = images_seen / max(elapsed, 1e-9)
                on_step(Progress("step", epoch, settings.epochs, step, steps_per_epoch,
                                 {k: v / epoch_steps for k, v in sums.items()}, rate,
                                 (total_steps - steps_run) * settings.batch_size / max(rate, 1e-9)))
            if settings.max_steps is not None and steps_run >= settings.max_steps:
                break
        final = epoch == settings.epochs or (settings.max_steps is not None and steps_run >= settings.max_steps)
        train_terms = {f"train_{k}": round(v, 5) for k, v in where.mean_of(sums, epoch_steps, device).items()}
        if not where.is_main:
            where.barrier()   # rank 0 evaluates and saves meanwhile
            if final:
                break
            continue
        eval_x = test_x if final else test_x[:EPOCH_EVAL_IMAGES]
        extra = {}
        if averaged is not None:
            extra[LIVE_GENERATOR_FILE] = model.generator.state_dict()
        # With --ema the averaged generator is judged, drawn and saved; the live one only goes on training.
        with _swapped(model, {"generator": averaged.module} if averaged is not None else {}):
            metrics = {**train_terms, **evaluate(model, eval_x, test_y[: len(eval_x)])}
            if judge is not None:
                metrics["test_frechet"] = round(judge(model, settings.seed), 4)
            picture = sample_grid(model, test_x, test_y, seed=settings.seed)
            if final and model.kind in ENCODER_KINDS and settings.latent_maps:
                extra[checkpoints.LATENT_MAP_FILE] = latent_maps(model, test_x, test_y, log=log)
            training_record["seconds"] = round(earlier_seconds + time.time() - started, 1)
            training_record["images_per_s"] = round(images_seen / max(time.time() - loop_start, 1e-9), 1)
            checkpoints.save(
                model, out if final else staging, training=training_record, metrics=metrics,
                complete=final and steps_run >= (settings.epochs - done) * steps_per_epoch, epochs_done=epoch,
                optimizer_state={k: o.state_dict() for k, o in optimizers.items()},
                extra_tensors=extra, files={SAMPLES_FILE: png_bytes(picture)},
            )
        (log_dir / f"epoch_{epoch:03d}.png").write_bytes(png_bytes(picture))
        record = {"epoch": epoch, "time": round(time.time() - started, 1), **metrics}
        with progress_path.open("a") as f:
            f.write(json.dumps(record) + "\n")
        log(f"epoch {epoch}/{settings.epochs} done: " + " ".join(f"{k} {v:.4g}" for k, v in metrics.items()))
        if on_step is not None:
            on_step(Progress("epoch", epoch, settings.epochs, steps_per_epoch, steps_per_epoch,
                             train_terms, images_seen / max(time.time() - loop_start, 1e-9), 0.0, metrics))
        where.barrier()
        if final:
            break
    if staging != out and staging.exists() and where.is_main:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
    log(f"saved {out} in {format_seconds(time.time() - started)}")
    if on_step is not None:
        on_step(Progress("done", settings.epochs, settings.epochs, 0, steps_per_epoch, {}, 0.0, 0.0, metrics))
    return out


def _finish_resumed(model, config: dict, settings: TrainSettings, where: Distributed, started: float, out: Path,
                    log_dir: Path, test_x, test_y, on_step, log) -> Path:
    """--resume with --epochs no more than the epochs already done: nothing left to train. A run stopped after
    its last wanted epoch was saved (cancelled, killed, or started for more epochs) is finished as it stands:
    evaluated on the whole test set and marked complete; an already complete one is left as it is."""
    if where.is_main:
        done = config.get("epochs_done", 0)
        if config.get("complete"):
            log(f"{out} is already complete after {done} epochs: nothing to do")
        else:
            # the last epoch's figures (a GAN's Frechet distance among them), the test ones on the whole test set
            metrics = dict(config.get("metrics") or {})
            metrics.update(evaluate(model, test_x, test_y))
            training = dict(config.get("training") or {})
            training.update(epochs=done, finished_at_epoch=done, seconds=round(
                float(training.get("seconds", 0.0)) + time.time() - started, 1))
            extra = {}
            if model.kind in ENCODER_KINDS and settings.latent_maps:
                extra[checkpoints.LATENT_MAP_FILE] = latent_maps(model, test_x, test_y, log=log)
            picture = sample_grid(model, test_x, test_y, seed=settings.seed)
            checkpoints.save(model, out, training=training, metrics=metrics, complete=True, epochs_done=done,
                             extra_tensors=extra, files={SAMPLES_FILE: png_bytes(picture)})
            log(f"finished {out} after epoch {done}: " + " ".join(f"{k} {v:.4g}" for k, v in metrics.items()))
        if on_step is not None:
            on_step(Progress("done", done, done, 0, 1, {}, 0.0, 0.0, config.get("metrics") or {}))
    where.barrier()
    return out


def _fit_closed_form(model, settings: TrainSettings, where: Distributed, started: float, out: Path, log_dir: Path,
                     train_x, test_x, test_y, on_step, log) -> Path:
    """PCA: one fit on every training image (no epochs, no optimiser), then the same evaluation, maps,
    sample grid and atomic save as a trained model. Under torchrun only rank 0 does it."""
    if where.is_main:
        log(f"pca on {model.dataset}: {len(train_x)} train / {len(test_x)} test images, "
            f"{model.latent_dim} components fitted in closed form")
        model.fit(train_x.float().div(255.0).unsqueeze(1))
        metrics = {**evaluate(model, test_x, test_y), "explained_variance": round(float(model.explained), 5)}
        extra = {checkpoints.LATENT_MAP_FILE: latent_maps(model, test_x, test_y, log=log)} if settings.latent_maps else {}
        picture = sample_grid(model, test_x, test_y, seed=settings.seed)
        record = {k: v for k, v in asdict(settings).items() if k not in ("overwrite", "resume", "log_dir")}
        record.update(device=str(model.device), num_train_images=len(train_x), world_size=where.world_size,
                      seconds=round(time.time() - started, 1))
        checkpoints.save(model, out, training=record, metrics=metrics, complete=True, epochs_done=1,
                         extra_tensors=extra, files={SAMPLES_FILE: png_bytes(picture)})
        (log_dir / "epoch_001.png").write_bytes(png_bytes(picture))
        (log_dir / PROGRESS_FILE).write_text(json.dumps({"epoch": 1, "time": record["seconds"], **metrics}) + "\n")
        log("fitted: " + " ".join(f"{k} {v:.4g}" for k, v in metrics.items()))
        log(f"saved {out} in {format_seconds(time.time() - started)}")
        if on_step is not None:
            on_step(Progress("epoch", 1, 1, 1, 1, {}, 0.0, 0.0, metrics))
            on_step(Progress("done", 1, 1, 0, 1, {}, 0.0, 0.0, metrics))
    where.barrier()
    return out


class StatusFile:
    """The run's state as JSON, rewritten atomically about once a second, so another
    process (the app's training tab) can show it live and after a restart."""

    def __init__(self, path: str | None):
        self.path = Path(path) if path else None
        self.data: dict = {"state": "starting", "message": "", "pid": os.getpid(), "started": time.time(),
                           "progress": {}, "curve": [], "epochs": []}
        self._last_write = 0.0

    def update(self, progress: Progress) -> None:
        if progress.phase == "step":
            position = progress.epoch - 1 + progress.step / max(progress.steps_per_epoch, 1)
            self.data["curve"].append({"epoch": round(position, 4), **{k: round(v, 5) for k, v in progress.losses.items()}})
            del self.data["curve"][:-3000]
        if progress.phase == "epoch":
            self.data["epochs"].append({"epoch": progress.epoch, **progress.metrics})
        self.data["state"] = "running"
        self.data["progress"] = {"epoch": progress.epoch, "epochs": progress.epochs, "step": progress.step,
                                 "steps_per_epoch": progress.steps_per_epoch, "images_per_s": round(progress.images_per_s, 1),
                                 "eta_s": round(progress.eta_s, 1), "losses": progress.losses}
        self.write(force=progress.phase != "step")

    def finish(self, state: str, message: str = "", **extra) -> None:
        self.data.update(state=state, message=message, finished=time.time(), **extra)
        self.write(force=True)

    def write(self, *, force: bool = False) -> None:
        if self.path is None or (not force and time.time() - self._last_write < 1.0):
            return
        self._last_write = time.time()
        self.data["updated"] = self._last_write
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.data, default=str))
        os.replace(tmp, self.path)


def parse_args(argv=None) -> tuple[TrainSettings, dict]:
    """-> (the training settings, the CLI-only options: status_file)."""
    parser = argparse.ArgumentParser(prog="python -m genexplorer.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, choices=sorted(MODELS))
    parser.add_argument("--dataset", default="mnist", help="mnist, fashion, or a folder of IDX files / class folders of images")
    parser.add_argument("--data-dir", help="folder with the Fashion-MNIST IDX files (default: Debian's path or $GENEXPLORER_DATA)")
    parser.add_argument("--out", required=True, help="checkpoint folder to write, e.g. checkpoints/fashion-vae")
    parser.add_argument("--latent-dim", type=int)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, help="learning rate (default 1e-3; 2e-4 for GANs)")
    parser.add_argument("--beta", type=float, default=1.0, help="KL weight of the VAE/CVAE")
    parser.add_argument("--noise", choices=TRAINING_NOISE, help="corruption for the denoising AE (default mixed)")
    parser.add_argument("--noise-level", type=float, default=0.5, help="largest training noise level")
    parser.add_argument("--conditional", action="store_true", help="class-conditional variant (ae, vae, gan)")
    parser.add_argument("--width", type=int, help="conv width (encoders: first conv channels; GAN: base width)")
    parser.add_argument("--architecture", choices=["conv", "dense"], default="conv",
                        help="ae/dae: convolutional (default) or dense (fully connected) encoder and decoder")
    parser.add_argument("--hidden", type=int, help="ae/dae: width of the dense layer (dense AE: 0 for one layer each way)")
    parser.add_argument("--code-activation", choices=["linear", "relu"], default="linear",
                        help="ae/dae: relu makes the code non-negative with exact zeros (sparse AE)")
    parser.add_argument("--l1", type=float, default=0.0, help="ae/dae: L1 penalty weight on the code (sparse AE)")
    parser.add_argument("--adversarial-weight", type=float,
                        help="context, pix2pix: weight of the adversarial term (defaults: 0.001 and 1, the papers'; "
                             "0 trains the L2-only or L1-only twin)")
    parser.add_argument("--class-loss-weight", type=float,
                        help="cgan: weight of the auxiliary classifier's loss (AC-GAN; default 1, 0 turns it off)")
    parser.add_argument("--bottleneck", choices=BOTTLENECKS,
                        help="context: a dense code (default), the paper's channel-wise fully connected layer, or that "
                             "layer at the bottom of a U-Net whose skips carry the hole's rim to the output")
    parser.add_argument("--augment", choices=AUGMENTATIONS,
                        help="vary each training picture anew each time it is seen: geometry (shift 2 pixels, turn 10 "
                             "degrees, scale 10%%) or handwriting (further, slanted, thicker/thinner and blurred strokes)")
    parser.add_argument("--lr-schedule", choices=LR_SCHEDULES, default="constant",
                        help="cosine: the learning rate falls along half a cosine to 0 over the run's steps "
                             "(a resumed run starts a new cycle)")
    parser.add_argument("--ema", type=float,
                        help="GANs: save the generator's weights averaged over the steps with this decay (e.g. 0.999) "
                             "instead of the last ones")
    parser.add_argument("--font-digits", action="store_true",
                        help="mnist: train on the 5,519 font digits of assets/font_digits.npz too (1s with a flag, "
                             "7s with a bar: the digit reader for drawings)")
    parser.add_argument("--blocks", type=int, default=0,
                        help="conv ae/dae/vae/cvae: residual 3x3 blocks at each resolution (deeper, slower nets)")
    parser.add_argument("--class-every-layer", action="store_true",
                        help="cvae: feed the class to every decoder layer, not to its input alone")
    parser.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:1, mps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="CPU threads for torch")
    parser.add_argument("--max-steps", type=int, help="stop after this many steps (smoke tests)")
    parser.add_argument("--log-dir", help="where per-epoch sample grids and progress.jsonl go (default runs/<name>)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing checkpoint once the new one is complete")
    parser.add_argument("--resume", action="store_true", help="continue the checkpoint in --out up to --epochs")
    parser.add_argument("--no-latent-maps", dest="latent_maps", action="store_false", help="skip the PCA/UMAP maps")
    parser.add_argument("--status-file", help="keep the run's live state in this JSON file (used by the app)")
    args = vars(parser.parse_args(argv))
    cli_only = {"status_file": args.pop("status_file")}
    return TrainSettings(**args), cli_only


def main(argv=None) -> int:
    status = StatusFile(None)
    stop_requested = threading.Event()
    # SIGTERM (the app's Cancel button) ends the run at the next step; the last finished epoch stays saved.
    signal.signal(signal.SIGTERM, lambda signum, frame: stop_requested.set())
    try:
        settings, cli_only = parse_args(argv)
        # Under torchrun only rank 0 reports; the other processes train and stay quiet.
        status = StatusFile(cli_only["status_file"] if Distributed.from_env().is_main else None)
        status.data["settings"] = asdict(settings)
        status.write(force=True)
        last_print = [0.0]

        def show(progress: Progress) -> None:
            status.update(progress)
            if progress.phase == "step" and time.time() - last_print[0] > 2.0:
                last_print[0] = time.time()
                print(progress.line(), flush=True)

        out = fit(settings, on_step=show, should_stop=stop_requested.is_set, log=lambda message: print(message, flush=True))
        status.finish("done", f"saved {out}", checkpoint=str(out))
    except TrainingStopped as exc:
        print(f"cancelled: {exc}", file=sys.stderr)
        status.finish("cancelled", str(exc))
        return 3
    except KeyboardInterrupt:
        print("interrupted: the last finished epoch is saved", file=sys.stderr)
        status.finish("cancelled", "interrupted; the last finished epoch is saved")
        return 130
    except (ValueError, FileExistsError, TrainingError, checkpoints.CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        status.finish("failed", str(exc))
        return 2
    except OSError as exc:
        # Disk full, permissions...: the atomic save left no half-written checkpoint behind.
        message = f"{exc.strerror or exc} ({exc.filename or 'while saving'}); no half-written checkpoint was left"
        print(f"error: {message}", file=sys.stderr)
        status.finish("failed", message)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
