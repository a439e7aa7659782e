"""What a training run is asked to do: the settings every run has (RunSettings), a family's options beside them
(TrainSettings), and what the run reports (Progress) or raises. Plain data, checked before anything runs; the
command line and the Train tab are generated from these and the families' option dataclasses."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .augment import AUGMENTATIONS
from .models import MODELS, Family, family
from .models.family import check, option

LR_SCHEDULES = ("constant", "cosine")


@dataclass
class RunSettings:
    """What every run has, whatever its family."""
    model: str = option("vae", "the family to train", choices=tuple(sorted(MODELS)))
    dataset: str = option("mnist", "mnist, fashion, or a folder of IDX files / class folders of images")
    out: str = option("", "checkpoint folder to write, e.g. checkpoints/fashion-vae")
    data_dir: str | None = option(None, "folder of the Fashion-MNIST IDX files (default: Debian's or $GENEXPLORER_DATA)")
    epochs: int = option(10, "passes over the training pictures", low=1, high=1000)
    batch_size: int = option(128, "pictures per step (the total over all processes under torchrun)", low=1, high=4096)
    lr: float | None = option(None, "learning rate (default: the family's)", low=1e-9, high=1.0)
    lr_schedule: str = option("constant", "cosine: the rate falls along half a cosine to 0 over the run's steps "
                              "(a resumed run starts a new cycle)", choices=LR_SCHEDULES)
    augment: str | None = option(None, "vary each training picture anew each time it is seen: geometry (shift, turn, "
                                 "scale) or handwriting (further, slanted, thicker or thinner, blurred)",
                                 choices=AUGMENTATIONS)
    judge_every: int = option(1, "judge the samples (Frechet distance) every this many epochs, and at the last",
                              low=1, high=1000)
    ema: float | None = option(None, "save weights averaged over the steps with this decay (e.g. 0.999) instead of "
                               "the last ones (families with a generator or denoiser)", low=0.0, high=1.0)
    font_digits: bool = option(False, "mnist: train on the 5,519 font digits of assets/font_digits.npz too")
    device: str = option("auto", "auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:1, mps")
    seed: int = option(0, "random seed: the same seed gives the same run")
    threads: int | None = option(None, "CPU threads for torch", low=1, high=1024)
    max_steps: int | None = option(None, "stop after this many steps (smoke tests)", low=1, high=10**9)
    log_dir: str | None = option(None, "where per-epoch sample grids and progress.jsonl go (default runs/<name>)")
    latent_maps: bool = option(True, "store PCA/UMAP maps of the test set's codes at the end (models that encode)")
    overwrite: bool = option(False, "replace an existing checkpoint once the new one is complete")
    resume: bool = option(False, "continue the checkpoint in --out up to --epochs")


RUN_FIELDS = tuple(f.name for f in dataclasses.fields(RunSettings))


class TrainSettings:
    """A run's shared settings and its family's options, from one flat set of names (as the command line and the
    Train tab give them): ``TrainSettings(model="gan", epochs=3, latent_dim=64)``. A name that is neither a run
    setting nor an option of that family is refused, naming the family's options."""

    def __init__(self, model: str = "vae", **values: Any):
        self.family: Family = family(model)
        self.run = RunSettings(model=model, **{k: v for k, v in values.items() if k in RUN_FIELDS})
        self.options = self.family.options(**{k: v for k, v in values.items() if k not in RUN_FIELDS})

    def to_dict(self) -> dict:
        """The flat names again (the run's record in config.json; the app's job file)."""
        return {**dataclasses.asdict(self.run), **dataclasses.asdict(self.options)}

    def validate(self) -> None:
        check(self.run)
        run = self.run
        if not run.out:
            raise ValueError("give an output folder (--out checkpoints/<dataset>-<name>)")
        if run.ema is not None and not 0 < run.ema < 1:
            raise ValueError(f"the EMA decay must be between 0 and 1 (e.g. 0.999), got {run.ema}")
        if run.ema is not None and self.family.averaged is None:
            raise ValueError(f"--ema averages a generator's or denoiser's weights: {run.model} has none")
        if run.font_digits and run.dataset != "mnist":
            raise ValueError("--font-digits adds digits to the mnist training set: use it with --dataset mnist")


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
