"""What a family tells the rest of genexplorer, so that nothing outside its module needs its name.

A *family* (the VAE, the GAN, the PixelCNN...) is one module under ``genexplorer/models/``. Next to its network it
declares a ``Family``: its training options as a dataclass (each field made with ``option``: a default, limits and
a one-line help), how a model is built from them, its optimisers, one training step, its evaluation on the test
set and its preview grid. The model class declares its *abilities* (``encodes``, ``samples``, ...), which the
pickers and tabs ask instead of names.

The training loop (``genexplorer/training.py``), the train command line and the app's Train tab are generated from
these declarations; the registry in ``models/__init__.py`` maps each kind to its Family, one line per kind.
A *variant* (the DAE is an AE with noise, the cGAN a conditional GAN, the WGAN a GAN with a critic loss) is the
same Family with other defaults, made by ``Family.variant``.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import MISSING, dataclass, field
from typing import Any, Callable

import torch

from .base import GenerativeModel, ModelConfig

# What a model can be asked to do. The pickers and tabs ask these, never a family's name.
ABILITIES = (
    "encodes",            # picture -> code (maps, sliders from a drawing, reconstructions)
    "decodes",            # code -> picture (latent sliders, interpolation)
    "samples",            # draws new pictures from nothing (Generate)
    "bound_likelihood",   # a variational bound on -log p(x) (the VAE's ELBO)
    "exact_likelihood",   # an exact -log p(x) (the PixelCNN)
    "conditional",        # takes a class
    "fills_holes",        # inpaints the hidden part of a picture
    "translates",         # turns a sketch into a picture
    "adversarial",        # trained against a discriminator / critic
    "reads",              # names the class of a picture (the classifier)
    "denoises",           # trained to clean corrupted input (the DAE, the diffusion model)
    "gaussian_latent",    # its codes follow N(0, I) (the VAE's prior, the GAN's noise): grids in standard deviations
)


def option(default: Any, help: str, *, low: float | None = None, high: float | None = None,
           choices: tuple | None = None, flag: str | None = None) -> Any:
    """A training option of a family: its default, the limits the CLI, the Train tab and ``check`` apply,
    and the one-line help both show. ``flag`` overrides the command line's name (default --field-name)."""
    metadata = {"help": help, "low": low, "high": high, "choices": choices, "flag": flag}
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class OptionInfo:
    """One option as the CLI and the Train tab see it."""
    name: str
    default: Any
    type: type
    help: str
    low: float | None
    high: float | None
    choices: tuple | None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def optional(self) -> bool:
        """None is a valid value: "the family's default" or "off"."""
        return self.default is None


def describe(options_class: type) -> list[OptionInfo]:
    """The options of a settings dataclass, in declaration order."""
    hints = _types(options_class)
    out = []
    for f in dataclasses.fields(options_class):
        default = f.default if f.default is not MISSING else f.default_factory()   # type: ignore[misc]
        meta = f.metadata
        out.append(OptionInfo(f.name, default, hints[f.name], meta.get("help", ""), meta.get("low"),
                              meta.get("high"), meta.get("choices")))
    return out


def _types(options_class: type) -> dict[str, type]:
    """The plain type of each field (int, float, str, bool), from its annotation text: "int | None" -> int."""
    out = {}
    for f in dataclasses.fields(options_class):
        text = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        base = text.replace(" ", "").split("|")
        base = [b for b in base if b != "None"][0]
        out[f.name] = {"int": int, "float": float, "str": str, "bool": bool}[base]
    return out


def check(options: Any) -> None:
    """Refuse a value outside its option's type, limits or choices, with the flag's name in the message."""
    for info in describe(type(options)):
        value = getattr(options, info.name)
        if value is None and info.optional:
            continue
        what = f"{info.name.replace('_', ' ')} ({info.flag})"
        if info.type is bool:
            if not isinstance(value, bool):
                raise ValueError(f"{what} is on or off (true/false), got {value!r}")
            continue
        if info.type is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{what} must be a whole number, got {value!r}")
        elif info.type is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{what} must be a finite number, got {value!r}")
        elif info.type is str and not isinstance(value, str):
            raise ValueError(f"{what} must be text, got {value!r}")
        if info.choices is not None and value not in info.choices:
            raise ValueError(f"{what} must be one of {', '.join(map(str, info.choices))}; got {value!r}")
        if info.low is not None and value < info.low or info.high is not None and value > info.high:
            raise ValueError(f"{what} must be from {info.low:g} to {info.high:g}, got {value!r}")


@dataclass
class NoOptions:
    """A family with nothing to set beyond the shared run settings."""


class Family:
    """One family's declaration. Subclasses (one per family module) override what differs from these defaults:
    one Adam optimiser over every parameter and a plain step on ``model.loss``."""

    #: the class of the models it builds
    model_class: type[GenerativeModel]
    #: its training options (a dataclass whose fields are made with ``option``)
    Options: type = NoOptions
    #: one line for the CLI's --help and the Train tab's family picker
    title: str = ""
    default_lr: float = 1e-3
    #: the submodule whose weights --ema averages (None: the option is refused)
    averaged: str | None = None
    #: judge the samples each epoch (the Frechet distance of FRECHET_SAMPLES samples)
    judged: bool = False
    #: fitted in closed form (no optimiser, no epochs): ``fit_closed_form`` instead of steps
    closed_form: bool = False
    #: under torchrun: "loss" (the whole loss in DistributedDataParallel), a tuple of submodule names to wrap
    #: each on its own (two players), or None: one process only
    parallel: str | tuple[str, ...] | None = "loss"

    def __init__(self, kind: str, model_class: type[GenerativeModel] | None = None, *,
                 presets: dict | None = None, config_defaults: dict | None = None, title: str | None = None):
        self.kind = kind
        if model_class is not None:
            self.model_class = model_class
        # presets: this variant's option defaults. config_defaults: model config values it sets that are no
        # option (the WGAN's loss), under whatever a config names explicitly (a checkpoint's config.json).
        self.presets = dict(presets or {})
        self.config_defaults = dict(config_defaults or {})
        if title is not None:
            self.title = title

    def variant(self, kind: str, *, title: str, presets: dict | None = None, config_defaults: dict | None = None,
                model_class: type[GenerativeModel] | None = None) -> "Family":
        """The same family with other defaults: the DAE, the cGAN, the WGANs."""
        return type(self)(kind, model_class or self.model_class, presets={**self.presets, **(presets or {})},
                          config_defaults={**self.config_defaults, **(config_defaults or {})}, title=title)

    # ----- options
    def option_info(self) -> list[OptionInfo]:
        """The options with this variant's defaults."""
        return [dataclasses.replace(info, default=self.presets.get(info.name, info.default))
                for info in describe(self.Options)]

    def options(self, **given) -> Any:
        """This family's options from keyword values, refusing names it does not have (typos, another family's)."""
        names = {f.name for f in dataclasses.fields(self.Options)}
        unknown = sorted(set(given) - names)
        if unknown:
            flags = ", ".join("--" + n.replace("_", "-") for n in unknown)
            own = ", ".join("--" + n.replace("_", "-") for n in sorted(names)) or "none"
            raise ValueError(f"{flags}: not an option of {self.kind} (its options: {own})")
        values = {**{k: v for k, v in self.presets.items() if k in names}, **given}
        options = self.Options(**values)
        check(options)
        self.check_options(options)
        return options

    def check_options(self, options) -> None:
        """Checks across options (one option allowed only with another); the per-option limits are in ``check``."""

    # ----- building
    def model_config(self, options, num_classes: int) -> dict:
        """The model config dict these options build (default: options of the same names as config fields)."""
        config_fields = config_fields_of(self.model_class.config_class)
        values = dataclasses.asdict(options)
        if "width" in values and "width" not in config_fields:
            values["channels"] = values.pop("width")    # --width: the first convolution's channels
        settings = {k: v for k, v in values.items() if k in config_fields and v is not None}
        return {"num_classes": num_classes, **settings}

    def build(self, options, num_classes: int) -> GenerativeModel:
        return self.build_from_config(self.model_config(options, num_classes))

    def build_from_config(self, settings: dict) -> GenerativeModel:
        """A model from a config dict (what checkpoints store), refusing unknown keys. Keys it does not name
        take this variant's defaults (its presets that are config fields, then config_defaults)."""
        config_class = self.model_class.config_class
        known = config_fields_of(config_class)
        unknown = set(settings) - known
        if unknown:
            raise ValueError(f"unknown {self.kind} settings {sorted(unknown)}; known: {sorted(known)}")
        defaults = {**{k: v for k, v in self.presets.items() if k in known}, **self.config_defaults}
        return self.model_class(config_class(**{**defaults, **settings}))

    # ----- training
    def learning_rate(self, model: GenerativeModel) -> float:
        return self.default_lr

    def optimizers(self, model: GenerativeModel, lr: float) -> dict[str, torch.optim.Optimizer]:
        return {"model": torch.optim.Adam(model.parameters(), lr=lr)}

    def stepper(self, model: GenerativeModel, optimizers: dict, *, amp: bool = False,
                loss: Callable | None = None) -> Callable[[torch.Tensor, torch.Tensor], dict[str, float]]:
        """step(x, y) -> the batch's loss terms as floats. ``loss`` replaces model.loss (DistributedDataParallel's
        wrapper under torchrun); ``amp``: bfloat16 autocast on a GPU."""
        labelled = model.conditional or model.trains_on_labels
        loss = loss or model.loss
        optimizer = optimizers["model"]

        def step(x, y):
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=amp):
                terms = loss(x, y if labelled else None)
            optimizer.zero_grad(set_to_none=True)
            terms["loss"].backward()
            optimizer.step()
            return {k: float(v.detach()) for k, v in terms.items()}
        return step

    def fit_closed_form(self, model: GenerativeModel, images: torch.Tensor) -> dict:
        """Closed-form families only: fit on every training image (N, 1, 28, 28) in [0, 1]; -> extra metrics."""
        raise NotImplementedError(f"{self.kind} is trained by steps, not in closed form")

    def checkpoint_notes(self, config: dict, metrics: dict) -> list[str]:
        """What README's checkpoint table says of a checkpoint of this family beyond its numbers (its model_config,
        its final metrics)."""
        return []

    def latent_size(self, config: dict) -> int | None:
        """The code's width a checkpoint's model_config gives (None: the family has no code)."""
        return config.get("latent_dim") if "latent_dim" in {i.name for i in self.option_info()} else None

    def curves(self) -> tuple[tuple[str, ...], ...]:
        """Which training terms the Train tab plots together, one plot per group."""
        return (("loss",),)

    # ----- judging
    @torch.no_grad()
    def samples_for_judge(self, model: GenerativeModel, n: int, generator: torch.Generator) -> torch.Tensor:
        """The n samples the per-epoch judge scores (a family with costly sampling may take fewer steps)."""
        return model.sample(n, generator=generator)

    @torch.no_grad()
    def evaluate(self, model: GenerativeModel, images: torch.Tensor, labels: torch.Tensor) -> dict:
        """Test metrics (names start with test_), images (N, 1, 28, 28) in [0, 1]. Default: none."""
        return {}

    @torch.no_grad()
    def preview(self, model: GenerativeModel, test_x: torch.Tensor, test_y: torch.Tensor,
                generator: torch.Generator) -> tuple[torch.Tensor, int]:
        """The picture saved each epoch, as (pictures (N, 1, 28, 28) in [0, 1], columns). Default: 64 samples
        (a conditional model's classes in turn)."""
        labels = torch.arange(64) % model.num_classes if model.conditional else None
        return model.sample(64, labels, generator=generator), 8


def spread(test_x: torch.Tensor, count: int = 16) -> torch.Tensor:
    """``count`` indices spread over the test set (the shipped digits are stored sorted by class)."""
    return torch.linspace(0, len(test_x) - 1, count).long().to(test_x.device)


def config_fields_of(config_class: type[ModelConfig]) -> set[str]:
    return {f.name for f in dataclasses.fields(config_class)}


# ------------------------------------------------------------ what several families share

@torch.no_grad()
def reconstruction_metrics(model: GenerativeModel, images: torch.Tensor, labels: torch.Tensor, *,
                           more: Callable | None = None, batch_size: int = 500) -> dict:
    """Test metrics of a model that encodes and decodes: per-pixel MSE and PSNR of the reconstructions, plus what
    ``more(x, y) -> {name: (B,) tensor}`` adds (the VAE's -ELBO terms). Means over the images."""
    from ..metrics import psnr

    totals: dict[str, float] = {}
    for start in range(0, len(images), batch_size):
        x = images[start: start + batch_size]
        y = labels[start: start + batch_size] if model.conditional else None
        recon = model.reconstruct(x, y)
        terms = {"mse": (recon - x).pow(2).mean(dim=(1, 2, 3)), "psnr": psnr(recon, x)}
        if more is not None:
            terms.update(more(x, y))
        for key, value in terms.items():
            totals[key] = totals.get(key, 0.0) + float(value.sum())
    return {f"test_{k}": round(v / len(images), 5) for k, v in totals.items()}


@torch.no_grad()
def reconstruction_preview(model: GenerativeModel, test_x: torch.Tensor, test_y: torch.Tensor,
                           generator: torch.Generator) -> tuple[torch.Tensor, int]:
    """16 test pictures over their reconstructions, then 32 samples from the prior: four rows of 16."""
    pick = spread(test_x)
    x, y = test_x[pick], test_y[pick]
    recon = model.reconstruct(x, y if model.conditional else None)
    labels = (torch.arange(16) % model.num_classes).repeat(2) if model.conditional else None
    samples = model.sample(32, labels, generator=generator)
    return torch.cat([x.cpu(), recon.cpu(), samples.cpu()]), 16


class PictureToPictureFamily(Family):
    """A family that makes a picture from a given one (the context encoder, pix2pix), trained with an optional
    discriminator: with it, the generator and the discriminator each get their own Adam (DCGAN's beta1 0.5, as both
    papers) and take turns every batch; without it (adversarial weight 0: the L2 / L1-only twin), one Adam on the
    plain loss. One process only: the two players' turns are not wrapped for torchrun."""
    parallel = None

    def optimizers(self, model: GenerativeModel, lr: float) -> dict[str, torch.optim.Optimizer]:
        if not model.adversarial:
            return super().optimizers(model, lr)
        return {"g": torch.optim.Adam(model.generator_parameters(), lr=lr, betas=(0.5, 0.999)),
                "d": torch.optim.Adam(model.discriminator.parameters(), lr=lr, betas=(0.5, 0.999))}

    def stepper(self, model: GenerativeModel, optimizers: dict, *, amp: bool = False, loss=None):
        if not model.adversarial:
            return super().stepper(model, optimizers, amp=amp, loss=loss)

        def step(x, y):
            # The generator's joint loss (its own term plus the adversarial one) first, then the discriminator on
            # real against made pictures: in this order the generator's backward pass still sees the
            # discriminator weights it was computed with.
            terms = model.loss(x)
            optimizers["g"].zero_grad(set_to_none=True)
            terms["loss"].backward()
            optimizers["g"].step()
            optimizers["d"].zero_grad(set_to_none=True)
            terms["d_loss"].backward()
            optimizers["d"].step()
            return {k: float(v.detach()) for k, v in terms.items()}
        return step
