"""The one training loop. Every family goes through ``fit``; what only a family knows (its optimisers, its step,
its evaluation, its preview) it declares in its own module (``models/family.py``), and no family name appears here.

    settings = TrainSettings(model="vae", dataset="fashion", out="checkpoints/fashion-vae", epochs=20, beta=1.0)
    fit(settings, on_step=print)

What the loop owns: the data (kept on the device whole: these datasets are small), batches, devices and torchrun,
resume, the learning-rate schedule, the weight average (--ema), augmentation, the per-epoch judge, the atomic save
of every epoch (marked incomplete until the last), progress (``on_step``) and cancellation (``should_stop``).
The command line (``train.py``) and the app's Train tab are generated from ``RunSettings`` (run_settings.py) and the
families' options.
"""
from __future__ import annotations

import copy
import json
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from . import checkpoints
from .augment import augment
from .data import dataset_info, load_dataset, load_font_digits
from .devices import Distributed, describe_device, parallel_step, swapped
from .images import grid, png_bytes, to_uint8
from .latent_maps import latent_maps
from .metrics import frechet_distance
from .models import GenerativeModel, family_of
from .run_settings import (Progress, RunSettings, TrainingError, TrainingStopped, TrainSettings,  # noqa: F401
                           format_seconds)

SAMPLES_FILE = "samples.png"
PROGRESS_FILE = "progress.jsonl"
# The test images scored after each epoch; the final epoch scores the whole test set.
EPOCH_EVAL_IMAGES = 2000
FRECHET_SAMPLES = 1000
def live_weights_file(module: str) -> str:
    """With --ema the checkpoint holds the average; the weights being trained are kept here, for --resume."""
    return f"live_{module}.safetensors"


LIVE_GENERATOR_FILE = live_weights_file("generator")


class AveragedWeights:
    """An exponential moving average of a module's weights (Yazici et al. 2019, "The unusual effectiveness of
    averaging in GAN training"): a GAN generator's weights circle around a good point while the two players chase
    each other, and their average sits nearer it; a denoiser's average is smoother than its last step. Batch-norm
    statistics are copied, not averaged."""

    def __init__(self, module: nn.Module, decay: float):
        self.module = copy.deepcopy(module).eval().requires_grad_(False)
        self.decay = decay
        self.updates = 0

    def current_decay(self) -> float:
        """The decay, warmed up: (1 + n) / (10 + n) after n updates until it reaches ``decay``. Without the warm-up
        a 0.999 average still holds 37 % of the untrained weights after 1,000 steps (a 4,500-digit diffusion run's
        first 28 epochs drew noise in its previews); with it the average follows the weights from the start and
        lengthens its memory as they settle."""
        return min(self.decay, (1 + self.updates) / (10 + self.updates))

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        decay = self.current_decay()
        self.updates += 1
        for mine, theirs in zip(self.module.parameters(), module.parameters()):
            mine.lerp_(theirs, 1.0 - decay)
        for mine, theirs in zip(self.module.buffers(), module.buffers()):
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
    by +-0.5 dB from one epoch to the next at a constant rate)."""
    if schedule == "constant" or total_steps <= 0:
        return 1.0
    return 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / total_steps))


class SampleJudge:
    """The Frechet distance of a model's samples to the test images, on the features of the dataset's shipped
    classifier (a small FID): written each epoch beside the losses, so a run shows whether its losses say anything
    about its pictures (a WGAN critic's does; a DCGAN's D and G losses hardly)."""

    def __init__(self, classifier: GenerativeModel, test_x: torch.Tensor, count: int = FRECHET_SAMPLES):
        self.classifier = classifier.eval()
        self.count = count
        self.reference = self.features(test_x[:count])

    @torch.no_grad()
    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.classifier.device).float()
        return torch.cat([self.classifier.features(x[i: i + 500]) for i in range(0, len(x), 500)])

    @torch.no_grad()
    def __call__(self, model: GenerativeModel, seed: int = 0) -> float:
        samples = family_of(model).samples_for_judge(model, self.count, torch.Generator().manual_seed(seed + 1))
        return frechet_distance(self.features(samples.cpu()), self.reference)

    @classmethod
    def for_dataset(cls, dataset: str, test_x: torch.Tensor, log: Callable[[str], None]) -> "SampleJudge | None":
        try:
            classifier = checkpoints.load(f"{dataset}-classifier", allow_paths=False)
        except (checkpoints.CheckpointError, ValueError) as exc:
            log(f"no per-epoch Frechet distance: {dataset}-classifier cannot be loaded ({exc})")
            return None
        return cls(classifier, test_x.cpu())


@torch.no_grad()
def evaluate(model: GenerativeModel, images: torch.Tensor, labels: torch.Tensor) -> dict:
    """The model's family's test metrics (names start with test_), in eval mode. images: (N, 1, 28, 28) in [0, 1]."""
    with evaluating(model):
        return family_of(model).evaluate(model, images, labels)


@torch.no_grad()
def preview_picture(model: GenerativeModel, test_x: torch.Tensor, test_y: torch.Tensor, seed: int = 0) -> np.ndarray:
    """The picture saved each epoch (the family's preview grid) as a uint8 array."""
    with evaluating(model):
        pictures, columns = family_of(model).preview(model, test_x, test_y, torch.Generator().manual_seed(seed))
    return grid(to_uint8(pictures.cpu()), ncols=columns)


class evaluating:
    """``with evaluating(model):`` eval mode inside, the mode it had after."""

    def __init__(self, model: nn.Module):
        self.model, self.was_training = model, model.training

    def __enter__(self):
        self.model.eval()

    def __exit__(self, *exc):
        self.model.train(self.was_training)


@dataclass
class Data:
    train_x: torch.Tensor     # (N, 28, 28) uint8 on the device
    train_y: torch.Tensor     # (N,) int64
    test_x: torch.Tensor      # (M, 1, 28, 28) float in [0, 1]
    test_y: torch.Tensor
    class_names: tuple[str, ...]


def load_data(run: RunSettings, device: torch.device) -> Data:
    info = dataset_info(run.dataset)
    train_images, train_labels = load_dataset(run.dataset, "train", data_dir=run.data_dir)
    test_images, test_labels = load_dataset(run.dataset, "test", data_dir=run.data_dir)
    if run.font_digits:
        font_images, font_labels = load_font_digits()
        train_images = np.concatenate([train_images, font_images])
        train_labels = np.concatenate([train_labels, font_labels])
    num_classes = max(len(info.class_names), int(train_labels.max()) + 1)
    names = tuple(info.class_names[:num_classes]) if len(info.class_names) >= num_classes else \
        tuple(str(i) for i in range(num_classes))
    return Data(torch.from_numpy(train_images).to(device), torch.from_numpy(train_labels).to(device),
                torch.from_numpy(test_images).to(device).float().div_(255.0).unsqueeze(1),
                torch.from_numpy(test_labels).to(device), names)


def fit(settings: TrainSettings, *, on_step: Callable[[Progress], None] | None = None,
        should_stop: Callable[[], bool] | None = None, log: Callable[[str], None] = print) -> Path:
    """Train as ``settings`` say and return the checkpoint folder.

    on_step(progress) is called every few steps and after every epoch; should_stop() is polled every step and,
    when true, ends the run (the last finished epoch stays saved, marked incomplete) by raising TrainingStopped.
    Under ``torchrun`` each process trains on its shard with a share of the batch (--batch-size stays the total),
    the gradients are averaged every step, and only rank 0 logs, evaluates and writes the checkpoint.
    """
    settings.validate()
    if settings.run.threads:
        torch.set_num_threads(settings.run.threads)
    where = Distributed.from_env()
    try:
        run = Run(settings, where, on_step if where.is_main else None, should_stop,
                  log if where.is_main else (lambda message: None))
        result = run.go()
        # Every process is done with gloo's threads before any tears the group down: without this a process
        # that leaves first can abort the other at exit ("terminate called without an active exception").
        where.barrier()
        return result
    finally:
        where.stop()


class Run:
    """One call of ``fit``: the loop's state, and its parts as methods, read top to bottom from ``go``."""

    def __init__(self, settings: TrainSettings, where: Distributed, on_step, should_stop, log):
        self.settings, self.run, self.family = settings, settings.run, settings.family
        self.where, self.on_step, self.should_stop, self.log = where, on_step, should_stop, log
        self.started = time.time()
        self.out = Path(self.run.out)
        self.metrics: dict = {}

    def go(self) -> Path:
        run, where = self.run, self.where
        self.device = where.start(run.device)
        self.log(f"device: {describe_device(self.device)}" + (f", {where.world_size} processes" if where.active else ""))
        self.prepare_folders()
        torch.manual_seed(run.seed)
        np.random.seed(run.seed)
        self.data = load_data(run, self.device)
        self.model, self.done, resumed = self.make_model()
        # A resumed checkpoint says which variant it is; its options were fixed when it was built.
        self.family = family_of(self.model)
        self.record = {k: v for k, v in self.settings.to_dict().items() if k not in ("overwrite", "resume", "log_dir")}
        self.record.update(device=str(self.device), num_train_images=len(self.data.train_x),
                           world_size=where.world_size)
        if self.family.closed_form:
            return self.fit_closed_form()
        if resumed is not None and self.done >= run.epochs:
            return self.finish_resumed(resumed)
        self.prepare_training()
        self.train_epochs()
        if self.staging != self.out and self.staging.exists() and where.is_main:
            shutil.rmtree(self.staging, ignore_errors=True)
        self.log(f"saved {self.out} in {format_seconds(time.time() - self.started)}")
        self.tell("done", run.epochs, 0, {})
        return self.out

    # ----- before the first step
    def prepare_folders(self) -> None:
        run, out = self.run, self.out
        self.resume_from = None
        if out.exists() and (out / checkpoints.CONFIG_FILE).exists():
            if run.resume:
                self.resume_from = out
            elif not run.overwrite:
                raise FileExistsError(f"{out} already holds a checkpoint: pass --overwrite to replace it or --resume "
                                      "to continue it")
        # While training over an existing checkpoint, epochs are saved beside it and only replace it once the run
        # completes: the old one stays loadable until then.
        self.staging = out if (self.resume_from is not None or not out.exists()) else \
            out.with_name(f".{out.name}.incomplete")
        self.log_dir = Path(run.log_dir) if run.log_dir else Path("runs") / out.name
        if self.where.is_main:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        self.where.barrier()   # every process checked the folder before any could write to it

    def make_model(self) -> tuple[GenerativeModel, int, dict | None]:
        """-> (the model, epochs already done, the resumed checkpoint's config or None)."""
        self.earlier_seconds = 0.0
        if self.resume_from is not None:
            model = checkpoints.load(self.resume_from, device=self.device).train()
            config = checkpoints.read_config(self.resume_from)
            self.earlier_seconds = float(config.get("training", {}).get("seconds", 0.0))
            self.log(f"resuming {self.resume_from} after epoch {config.get('epochs_done', 0)}")
            done = config.get("epochs_done", 0)
        else:
            model = self.family.build(self.settings.options, len(self.data.class_names)).to(self.device)
            config, done = None, 0
        dataset = self.run.dataset
        model.dataset = dataset if dataset in ("mnist", "fashion") else Path(dataset).name
        model.class_names = self.data.class_names
        return model, done, config

    def prepare_training(self) -> None:
        run, model, family, where = self.run, self.model, self.family, self.where
        self.judge = SampleJudge.for_dataset(run.dataset, self.data.test_x, self.log) \
            if family.judged and where.is_main else None
        self.lr = run.lr or family.learning_rate(model)
        self.record["lr"] = self.lr
        self.optimizers = family.optimizers(model, self.lr)
        if self.resume_from is not None:
            saved = checkpoints.load_optimizer_state(self.resume_from)
            for name, optimizer in self.optimizers.items():
                if saved:
                    optimizer.load_state_dict(saved[name])
            set_learning_rate(self.optimizers.values(), self.lr)   # the saved rate may be a cosine's end
        self.averaged = AveragedWeights(getattr(model, family.averaged), run.ema) if run.ema else None
        live_file = self.resume_from / live_weights_file(family.averaged) if self.averaged and self.resume_from else None
        if live_file is not None and live_file.is_file():
            # The checkpoint's weights are the average (copied just above); training goes on from the live ones.
            from safetensors.torch import load_file

            getattr(model, family.averaged).load_state_dict(load_file(str(live_file), device=str(self.device)))
        self.step = self.make_step()
        # The same seed builds the same model everywhere (DDP also copies rank 0's); each process then draws its
        # own noise, so two processes do not add the same noise to different images.
        torch.manual_seed(run.seed + where.rank)
        # Each process takes a share of the batch, so the averaged gradient is that of one batch of --batch-size.
        self.batch_size = math.ceil(run.batch_size / where.world_size)
        self.steps_per_epoch = math.ceil(math.ceil(len(self.data.train_x) / where.world_size) / self.batch_size)
        self.total_steps = (run.epochs - self.done) * self.steps_per_epoch
        if run.max_steps is not None:
            self.total_steps = min(self.total_steps, run.max_steps)
        # A resumed run goes on along the same schedule (the cosine over all --epochs), not a fresh one from the full
        # rate: stopping and resuming a run then trains the same as running it through.
        self.schedule_start = self.done * self.steps_per_epoch if run.max_steps is None else 0
        self.schedule_length = run.epochs * self.steps_per_epoch if run.max_steps is None else self.total_steps
        self.log(f"{model.kind} on {model.dataset}: {len(self.data.train_x)} train / {len(self.data.test_x)} test "
                 f"images, {sum(p.numel() for p in model.parameters()):,} parameters, {run.epochs - self.done} epochs "
                 f"of {self.steps_per_epoch} steps")

    def make_step(self) -> Callable:
        amp = self.device.type == "cuda"

        def factory(loss=None):
            return self.family.stepper(self.model, self.optimizers, amp=amp, loss=loss)
        if not self.where.active:
            return factory()
        if self.family.parallel is None:
            raise TrainingError(f"{self.model.kind} training runs in one process: start it without torchrun")
        return parallel_step(factory, self.model, self.family.parallel, self.device)

    # ----- the steps
    def train_epochs(self) -> None:
        run = self.run
        self.steps_run, self.images_seen, self.loop_start = 0, 0, time.time()
        self.progress_path = self.log_dir / PROGRESS_FILE
        if self.resume_from is None and self.where.is_main:
            self.progress_path.write_text("")
        self.model.train()
        for epoch in range(self.done + 1, run.epochs + 1):
            terms = self.train_epoch(epoch)
            final = epoch == run.epochs or (run.max_steps is not None and self.steps_run >= run.max_steps)
            if self.where.is_main:
                self.end_epoch(epoch, terms, final)
            self.where.barrier()   # the other ranks wait while rank 0 evaluates and saves
            if final:
                break

    def train_epoch(self, epoch: int) -> dict[str, float]:
        """One pass over this process's shard; -> the epoch's mean loss terms over every process."""
        run, data = self.run, self.data
        order = self.epoch_order(epoch)
        sums: dict[str, float] = {}
        steps = 0
        report_every = max(1, self.steps_per_epoch // 20)
        for step in range(1, self.steps_per_epoch + 1):
            if self.should_stop is not None and self.should_stop():
                # before the first epoch ends nothing is written, whatever this run resumed (there is no epoch 0)
                saved = f"epoch {epoch - 1} is saved" if epoch > 1 and (epoch - 1 > self.done or self.resume_from) \
                    else "nothing was saved yet"
                raise TrainingStopped(f"stopped by request during epoch {epoch}; {saved}")
            index = order[(step - 1) * self.batch_size: step * self.batch_size]
            x = data.train_x[index].float().div_(255.0).unsqueeze(1)
            if run.lr_schedule != "constant":
                set_learning_rate(self.optimizers.values(),
                                  self.lr * lr_factor(run.lr_schedule, self.schedule_start + self.steps_run,
                                                      self.schedule_length))
            if run.augment:
                x = augment(x, run.augment)
            terms = self.step(x, data.train_y[index])
            if self.averaged is not None:
                self.averaged.update(getattr(self.model, self.family.averaged))
            if not all(math.isfinite(v) for v in terms.values()):
                raise TrainingError(f"training diverged at epoch {epoch}, step {step} (loss {terms}); try a smaller "
                                    "learning rate. The last finished epoch is still saved.")
            for key, value in terms.items():
                sums[key] = sums.get(key, 0.0) + value
            steps += 1
            self.steps_run += 1
            self.images_seen += len(index) * self.where.world_size
            if step % report_every == 0 or step == self.steps_per_epoch:
                rate = self.images_seen / max(time.time() - self.loop_start, 1e-9)
                eta = (self.total_steps - self.steps_run) * run.batch_size / max(rate, 1e-9)
                self.tell("step", epoch, step, {k: v / steps for k, v in sums.items()}, rate, eta)
            if run.max_steps is not None and self.steps_run >= run.max_steps:
                break
        return {f"train_{k}": round(v, 5) for k, v in self.where.mean_of(sums, steps, self.device).items()}

    def epoch_order(self, epoch: int) -> torch.Tensor:
        """This process's images for an epoch, in order: all of them shuffled, or under torchrun its
        DistributedSampler shard (every process the same number, the last ones padded by repeats)."""
        count, where = len(self.data.train_x), self.where
        if not where.active:
            return torch.randperm(count, device=self.device)
        from torch.utils.data.distributed import DistributedSampler

        sampler = DistributedSampler(range(count), num_replicas=where.world_size, rank=where.rank, shuffle=True,
                                     seed=self.run.seed)
        sampler.set_epoch(epoch)
        return torch.tensor(list(sampler), device=self.device)

    # ----- after each epoch
    def end_epoch(self, epoch: int, train_terms: dict, final: bool) -> None:
        data, family = self.data, self.family
        eval_x = data.test_x if final else data.test_x[:EPOCH_EVAL_IMAGES]
        extra = {}
        if self.averaged is not None:
            extra[live_weights_file(family.averaged)] = getattr(self.model, family.averaged).state_dict()
        # With --ema the average is judged, drawn and saved; the live weights only go on training.
        with swapped(self.model, {family.averaged: self.averaged.module} if self.averaged is not None else {}):
            metrics = {**train_terms, **evaluate(self.model, eval_x, data.test_y[: len(eval_x)])}
            if self.judge is not None and (final or epoch % self.run.judge_every == 0):
                with evaluating(self.model):
                    metrics["test_frechet"] = round(self.judge(self.model, self.run.seed), 4)
            complete = final and self.steps_run >= (self.run.epochs - self.done) * self.steps_per_epoch
            self.record["images_per_s"] = round(self.images_seen / max(time.time() - self.loop_start, 1e-9), 1)
            self.save(epoch, metrics, complete=complete, final=final, extra=extra, keep_optimizers=True)
        self.log(f"epoch {epoch}/{self.run.epochs} done: " + " ".join(f"{k} {v:.4g}" for k, v in metrics.items()))
        self.tell("epoch", epoch, self.steps_per_epoch, train_terms,
                  self.images_seen / max(time.time() - self.loop_start, 1e-9), 0.0)

    def save(self, epoch: int, metrics: dict, *, complete: bool, final: bool, extra: dict | None = None,
             keep_optimizers: bool = False) -> None:
        """Evaluate what only the end needs, then write the checkpoint atomically, its preview and a progress line."""
        model, data = self.model, self.data
        self.metrics = metrics
        extra = dict(extra or {})
        if final and model.can("encodes") and self.run.latent_maps:
            extra[checkpoints.LATENT_MAP_FILE] = latent_maps(model, data.test_x, data.test_y, log=self.log)
        picture = preview_picture(model, data.test_x, data.test_y, seed=self.run.seed)
        self.record["seconds"] = round(self.earlier_seconds + time.time() - self.started, 1)
        optimizer_state = {k: o.state_dict() for k, o in self.optimizers.items()} if keep_optimizers else None
        checkpoints.save(model, self.out if final else self.staging, training=self.record, metrics=metrics,
                         complete=complete, epochs_done=epoch, optimizer_state=optimizer_state, extra_tensors=extra,
                         files={SAMPLES_FILE: png_bytes(picture)})
        (self.log_dir / f"epoch_{epoch:03d}.png").write_bytes(png_bytes(picture))
        with (self.log_dir / PROGRESS_FILE).open("a") as f:
            f.write(json.dumps({"epoch": epoch, "time": round(time.time() - self.started, 1), **metrics}) + "\n")

    def tell(self, phase: str, epoch: int, step: int, losses: dict, rate: float = 0.0, eta: float = 0.0) -> None:
        if self.on_step is not None:
            epochs = 1 if self.family.closed_form else self.run.epochs
            self.on_step(Progress(phase, epoch, epochs, step, getattr(self, "steps_per_epoch", 1), losses, rate, eta,
                                  self.metrics if phase != "step" else {}))

    # ----- the two runs without steps
    def fit_closed_form(self) -> Path:
        """A closed-form family (PCA): one fit on every training image, then the same evaluation, preview, maps
        and atomic save as a trained model. Under torchrun only rank 0 does it."""
        if self.where.is_main:
            model, data = self.model, self.data
            self.log(f"{model.kind} on {model.dataset}: {len(data.train_x)} train / {len(data.test_x)} test images, "
                     "fitted in closed form")
            self.optimizers, self.steps_per_epoch = {}, 1
            (self.log_dir / PROGRESS_FILE).write_text("")
            fitted = self.family.fit_closed_form(model, data.train_x.float().div(255.0).unsqueeze(1))
            metrics = {**evaluate(model, data.test_x, data.test_y), **fitted}
            self.record.pop("lr", None)
            self.save(1, metrics, complete=True, final=True)
            self.log("fitted: " + " ".join(f"{k} {v:.4g}" for k, v in metrics.items()))
            self.log(f"saved {self.out} in {format_seconds(time.time() - self.started)}")
            self.tell("epoch", 1, 1, {})
            self.tell("done", 1, 0, {})
        self.where.barrier()
        return self.out

    def finish_resumed(self, config: dict) -> Path:
        """--resume with --epochs no more than the epochs already done: nothing left to train. A run stopped after
        its last wanted epoch was saved is finished as it stands: evaluated on the whole test set and marked
        complete (its last epoch's judge figure kept); an already complete one is left as it is."""
        done = config.get("epochs_done", 0)
        if self.where.is_main:
            if config.get("complete"):
                self.log(f"{self.out} is already complete after {done} epochs: nothing to do")
            else:
                metrics = {**(config.get("metrics") or {}),
                           **evaluate(self.model, self.data.test_x, self.data.test_y)}
                self.record = dict(config.get("training") or {})
                self.record.update(epochs=done, finished_at_epoch=done)
                self.optimizers = {}
                self.save(done, metrics, complete=True, final=True)
                self.log(f"finished {self.out} after epoch {done}: " +
                         " ".join(f"{k} {v:.4g}" for k, v in metrics.items()))
            self.metrics = config.get("metrics") or {}
            if self.on_step is not None:
                self.on_step(Progress("done", done, done, 0, 1, {}, 0.0, 0.0, self.metrics))
        self.where.barrier()
        return self.out
