"""Measurements of GAN training dynamics for BENCHMARKS.md (logic only, no Gradio):

- the GAN lab's lessons: each preset trained from its seed, W1 before and after, the gradient G got, modes covered;
- the toy's speed: generator steps per second and the cost of a frame (snapshot), per loss;
- real image runs: how well each loss curve follows sample quality, the per-epoch Frechet distance
  (``test_frechet``, written by the train CLI for every GAN-family run) against the per-epoch mean losses.
"""
from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import numpy as np

from ..metrics import frechet_distance
from .quality import Table, load_or_note, percent, readable_test_sets, samples_of, worst_class
from ..toy import PRESETS, ToyGAN

# The loss curve whose fall should mean better pictures, per family: the WGAN critic's loss is minus its
# Wasserstein estimate; a DCGAN has two losses, neither of which should track quality.
LOSS_CURVES = {"wgan": ("train_d_loss", "train_w_estimate"), "wgan-gp": ("train_d_loss", "train_w_estimate"),
               "gan": ("train_d_loss", "train_g_loss"), "cgan": ("train_d_loss", "train_g_loss")}


def lesson_table(steps: int, log=print) -> Table:
    """Every preset, trained ``steps`` generator steps from its seed."""
    table = Table(f"GAN lab lessons: each preset, {steps:,} generator steps from seed 0",
                  ["lesson", "data", "loss", "k", "W1 at start", f"W1 after {steps:,}", "W1 after / start",
                   "|grad G| last", "D on real (critic score for WGANs)", "modes covered", "seconds"])
    for name, preset in PRESETS.items():
        log(f"lesson: {name}")
        toy = ToyGAN(**preset)
        start_w1 = toy.snapshot()["w1"]
        started = time.perf_counter()
        toy.train(steps)
        seconds = time.perf_counter() - started
        s = toy.snapshot()
        modes = f"{s['modes_covered']} of {s['modes']}" if "modes" in s else ""
        table.rows.append([name, s["data"], s["loss"], s["d_steps"], start_w1, s["w1"], s["w1"] / start_w1,
                           f"{s['g_grad_norm']:.2g}", s["d_real"], modes, seconds])
    table.notes.append("W1 is exact: 1-D from the sorted samples, 2-D by optimal matching of 128 points each. "
                       "|grad G| is the norm of the generator's gradient at its last step: near zero means G learns nothing.")
    return table


def speed_table(steps: int = 200, frames: int = 50) -> Table:
    """Toy speed on one thread, as the app runs it: generator steps (with their k D steps) per second, and a frame."""
    table = Table("GAN lab toy speed (one thread)", ["data", "loss", "k", "G steps per second", "snapshot (frame) median ms"])
    for data in ("gaussian_1d", "ring_2d"):
        for loss in ("minimax", "nonsaturating", "wgan_clip", "wgan_gp"):
            toy = ToyGAN(data=data, loss=loss)
            toy.train(5)
            started = time.perf_counter()
            toy.train(steps)
            rate = steps / (time.perf_counter() - started)
            times = []
            for _ in range(frames):
                started = time.perf_counter()
                toy.snapshot()
                times.append(1000 * (time.perf_counter() - started))
            table.rows.append([data, loss, toy.settings.d_steps, f"{rate:.0f}", statistics.median(times)])
    return table


def read_progress(folder: str | Path) -> list[dict]:
    """A run's per-epoch records (progress.jsonl, written by the train CLI into its --log-dir)."""
    path = Path(folder) / "progress.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def pearson(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 3 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def spearman(a, b) -> float:
    rank = lambda v: np.argsort(np.argsort(np.asarray(v, dtype=float))).astype(float)  # noqa: E731 - no ties here
    return pearson(rank(a), rank(b))


def correlation_table(runs: dict[str, str | Path]) -> Table:
    """``runs``: {title: log folder}. For each run and each of its loss curves, the correlation of the per-epoch
    mean loss with the per-epoch Frechet distance of 1,000 samples (lower distance = better pictures)."""
    table = Table("Do the losses follow the pictures? Per-epoch loss against the Frechet distance of 1,000 samples",
                  ["run", "epochs", "Frechet distance first / best / last", "loss curve", "first / last",
                   "Pearson r with the distance", "Spearman rho"])
    for title, folder in runs.items():
        try:
            records = [r for r in read_progress(folder) if "test_frechet" in r]
        except OSError as exc:
            table.notes.append(f"{title}: not measured ({exc.strerror}: {folder})")
            continue
        # A WGAN critic logs its Wasserstein estimate; a DCGAN its two players' losses.
        wasserstein = bool(records) and "train_w_estimate" in records[0]
        frechet = [r["test_frechet"] for r in records]
        for key in LOSS_CURVES["wgan" if wasserstein else "gan"]:
            if not records or key not in records[0]:
                continue
            values = [r[key] for r in records]
            table.rows.append([title, len(records), f"{frechet[0]:.1f} / {min(frechet):.1f} / {frechet[-1]:.1f}",
                               key.removeprefix("train_"), f"{values[0]:.3g} / {values[-1]:.3g}",
                               pearson(values, frechet), spearman(values, frechet)])
    table.notes.append("A curve that tracks quality correlates strongly with the distance: the WGAN critic's estimate "
                       "of the Wasserstein distance should fall with it (r near +1; the critic's loss is minus that "
                       "estimate, r near -1). The DCGAN's D and G losses measure a game in balance, not the pictures.")
    return table


def conditional_table(count: int, datasets=("mnist", "fashion")) -> Table:
    """The shipped cGANs against the shipped unconditional GANs: Frechet distance of ``count`` samples to as
    many test images (classifier features), and how often the classifier reads the class the cGAN was asked for."""
    table = Table(f"Class-conditional GANs: {count:,} samples each", [
        "dataset", "model", "samples", "Frechet distance (classifier features)",
        "classifier agrees with requested class", "worst class (agreement)"])
    for dataset, reader, test in readable_test_sets(table, datasets, count):
        reference = reader.features(test.x)
        for role in ("gan", "cgan"):
            model = load_or_note(f"{dataset}-{role}", table)
            if model is None:
                continue
            samples, requested = samples_of(model, len(test.y))
            labels = reader.labels(samples)
            agreement = percent(float((labels == requested).float().mean())) if requested is not None else ""
            table.rows.append([dataset, f"{dataset}-{role}", len(test.y), frechet_distance(reader.features(samples), reference),
                               agreement, worst_class(labels, requested, model)])
    table.notes.append("A cGAN is asked for each class in turn; the Frechet distance is against the same number of test "
                       "images, so it compares across the rows of one dataset, not with tables using other sample counts.")
    return table
