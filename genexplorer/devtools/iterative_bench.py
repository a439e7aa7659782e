"""Diffusion and flow matching on the judge every other family meets: the ``--only diffusion`` section of
``python -m genexplorer.bench``.

The models are found by what they can do (they draw from nothing and they denoise: diffusion and flow), among the
shipped checkpoints or in ``--models DIR`` (a training run's output folder, to measure a run before shipping it).
Each table is measured in this run, the shipped GAN beside them on the same samples count and the same features:
- samples: Frechet distance to the test pictures (the dataset classifier's features), class spread, network passes;
- guidance: how often the classifier reads a guided sample as the class it was asked for, and its worst class,
  beside the same classifier on real test pictures (its yardstick: it reads real shirts only about 71 %);
- inpainting: the centre 14x14 hole, hole PSNR and read-right, beside the context encoder;
- speed: 16 samples at 20 steps, the Diffusion tab's default, in one process, on one thread and on every core.
"""
from __future__ import annotations

import datetime
import os
import time

import torch

from .. import checkpoints, explore
from ..metrics import frechet_distance, masked_psnr
from ..models import abilities_of
from .measuring import machine, timed
from .quality import DATASETS, Reader, Table, batched, coverage, load_split, percent, samples_of, worst_class

BEGIN, END = "<!-- diffusion: begin -->", "<!-- diffusion: end -->"
#: steps of the family's first sampler (DDIM, Euler) and of its second (DDPM, Heun): what the sample rows measure
FIRST_SAMPLER_STEPS, SECOND_SAMPLER_STEPS = (50, 20, 10), (50, 10)
GUIDANCE = (1.0, 3.0, 5.0)
GUIDED_STEPS = 50
SPEED_STEPS = 20      # the Diffusion tab's default
BATCH = 250
#: (samples per row, guided samples per class, pictures with a hole, speed repeats)
FULL, QUICK = (10_000, 100, 1000, 10), (200, 10, 50, 3)


def walkers(dataset: str, root: str | None) -> dict:
    """name -> model of every checkpoint of ``dataset`` (in ``root`` or the shipped folder) that samples and denoises."""
    found = {}
    for name in checkpoints.list_checkpoints(root):
        folder = checkpoints.resolve(name, root)
        config = checkpoints.read_config(folder)
        if config.get("dataset") != dataset:
            continue
        if {"samples", "denoises"} <= abilities_of(config["kind"], config.get("model_config", {})):
            found[name] = checkpoints.load(folder)
    return found


def iterative_samples(model, count: int, *, steps: int, sampler: str | None, guidance: float = 0.0,
                      requested: torch.Tensor | None = None, seed: int = 0) -> tuple[torch.Tensor, float]:
    """count samples in batches, and the milliseconds per sample they took."""
    generator = torch.Generator().manual_seed(seed)
    out, start = [], time.perf_counter()
    for lo in range(0, count, BATCH):
        n = min(BATCH, count - lo)
        y = None if requested is None else requested[lo: lo + n]
        out.append(model.sample(n, y, generator, steps=steps, guidance=guidance, sampler=sampler))
    return torch.cat(out), 1000 * (time.perf_counter() - start) / count


def sample_table(dataset: str, reader: Reader, models: dict, count: int, log) -> Table:
    table = Table(f"{dataset}: samples, {count} per row, unguided (a conditional model's classes at random)",
                  ["model", "sampler", "steps", "network passes", "Frechet distance", "ms per sample",
                   "rarest class", "commonest class", "evenness"])
    test_features = reader.features(load_split(dataset, "test").take(count).x)
    classes = reader.model.num_classes

    def row(name, sampler, steps, passes, samples, ms):
        share_min, share_max, evenness = coverage(reader.labels(samples), classes)
        table.rows.append([name, sampler, steps, passes, frechet_distance(reader.features(samples), test_features),
                           f"{ms:.1f}", percent(share_min), percent(share_max), evenness])

    gan = f"{dataset}-gan"
    if gan in checkpoints.list_checkpoints():
        log(f"{dataset}: {gan}, {count} samples")
        start = time.perf_counter()
        samples, _ = samples_of(checkpoints.load(gan), count)
        row(gan, "one pass", 1, 1, samples, 1000 * (time.perf_counter() - start) / count)
    for name, model in models.items():
        settings = [(model.samplers[0], steps) for steps in FIRST_SAMPLER_STEPS]
        settings += [(sampler, steps) for sampler in model.samplers[1:2] for steps in SECOND_SAMPLER_STEPS]
        for sampler, steps in settings:
            log(f"{dataset}: {name} {sampler} {steps} steps, {count} samples")
            samples, ms = iterative_samples(model, count, steps=steps, sampler=sampler)
            row(name, sampler, steps, model.network_passes(steps, sampler=sampler), samples, ms)
    return table


def guidance_table(dataset: str, reader: Reader, models: dict, per_class: int, log) -> Table:
    test = load_split(dataset, "test")
    real = reader.labels(test.x)
    table = Table(f"{dataset}: guided samples, {per_class} per class, {GUIDED_STEPS} steps, read by the classifier",
                  ["model", "w", "read as the asked class", "worst class"])
    table.rows.append([f"real test pictures ({len(test.y)}): the yardstick", "",
                       percent(float((real == test.y).float().mean())), worst_class(real, test.y, reader.model)])
    for name, model in models.items():
        if not model.conditional:
            table.notes.append(f"{name} is unconditional: no guidance")
            continue
        requested = torch.arange(per_class * model.num_classes) % model.num_classes
        for w in GUIDANCE:
            log(f"{dataset}: {name} guided w={w:g}, {len(requested)} samples")
            samples, _ = iterative_samples(model, len(requested), steps=GUIDED_STEPS, sampler=None, guidance=w,
                                           requested=requested)
            labels = reader.labels(samples)
            table.rows.append([name, w, percent(float((labels == requested).float().mean())),
                               worst_class(labels, requested, model)])
    return table


def inpainting_table(dataset: str, reader: Reader, models: dict, count: int, log) -> Table:
    test = load_split(dataset, "test").take(count, seed=1)
    hidden = explore.preset_mask("centre")
    fillers = dict(models)
    context = f"{dataset}-context"
    if context in checkpoints.list_checkpoints():
        fillers[context] = checkpoints.load(context)
    table = Table(f"{dataset}: the centre 14x14 hole, {count} test pictures, as the app fills it",
                  ["model", "hole PSNR (dB)", "read right", "ms per picture"])
    for name, model in fillers.items():
        log(f"{dataset}: {name} inpainting {count} pictures")
        start = time.perf_counter()
        filled = batched(lambda x: explore.inpaint_batch(model, x, hidden), test.x)
        ms = 1000 * (time.perf_counter() - start) / count
        table.rows.append([name, float(masked_psnr(filled, test.x, hidden).mean()),
                           percent(reader.accuracy(filled, test.y)), f"{ms:.1f}"])
    return table


def speed_table(dataset: str, models: dict, repeats: int) -> Table:
    """16 samples at SPEED_STEPS, unguided and guided (the largest w measured), on one thread and on every core."""
    threads = sorted({1, os.cpu_count() or 1})
    table = Table(f"{dataset}: 16 samples at {SPEED_STEPS} steps, one process, median of {repeats}",
                  ["model", "sampler", "guidance", "threads", "median ms", "p95 ms"])
    before = torch.get_num_threads()
    try:
        for name, model in models.items():
            for guidance in (0.0, max(GUIDANCE)) if model.conditional else (0.0,):
                generator = torch.Generator()
                y = torch.arange(16) % model.num_classes if model.conditional else None
                for count in threads:
                    torch.set_num_threads(count)
                    result = timed(lambda: model.sample(16, y, generator.manual_seed(0), steps=SPEED_STEPS,
                                                        guidance=guidance), repeats)
                    table.rows.append([name, model.samplers[0], guidance, count, f"{result['median']:.0f}",
                                       f"{result['p95']:.0f}"])
    finally:
        torch.set_num_threads(before)
    return table


def block_markers(dataset: str) -> tuple[str, str]:
    """The markers of one dataset's part of the section: a run of one dataset replaces its part alone."""
    return f"<!-- diffusion {dataset}: begin -->", f"<!-- diffusion {dataset}: end -->"


def section_head() -> str:
    return (f"{BEGIN}\n## Diffusion and flow matching\n\nThe judge is each dataset's shipped classifier, as for every "
            "other family (its features for the Frechet distance, its reading for the classes). A network pass is one "
            "U-Net evaluation per picture (two with Heun, twice with guidance). Each dataset's tables come from the "
            "command above them (one dataset can be measured again alone).\n\n")


def dataset_block(dataset: str, *, quick: bool, root: str | None = None, log=print,
                  counts: tuple[int, int, int, int] | None = None, samples_per_row: int | None = None,
                  datasets: tuple[str, ...] = DATASETS) -> str | None:
    """One dataset's part of the section between its markers: every table of its walkers (None: it has none).
    counts: FULL or QUICK's shape, for a test's smaller run; samples_per_row: fewer samples a row (and pictures
    with a hole) than FULL's, for a run that must fit an afternoon on 2 cores (the GAN's row is measured on as
    many); datasets: what the command line asked for (the command written above the tables says it)."""
    models = walkers(dataset, root)
    if not models:
        return None
    samples, per_class, holes, repeats = counts or (QUICK if quick else FULL)
    if samples_per_row is not None:
        samples, holes = samples_per_row, min(holes, samples_per_row)
    command = "python -m genexplorer.bench --only diffusion" + (" --quick" if quick else "") + \
        (f" --models {root}" if root else "") + (f" --samples {samples_per_row}" if samples_per_row else "") + \
        (f" --dataset {datasets[0]}" if len(datasets) == 1 else "")
    # The timings first: a few minutes, so a run needs the machine to itself only at its start.
    log(f"{dataset}: speed, 16 samples at {SPEED_STEPS} steps, {repeats} runs a model")
    speed = speed_table(dataset, models, repeats)
    reader = Reader(checkpoints.load(f"{dataset}-classifier"))
    count = min(samples, len(load_split(dataset, "test").y))
    tables = [sample_table(dataset, reader, models, count, log),
              guidance_table(dataset, reader, models, per_class, log),
              inpainting_table(dataset, reader, models, min(holes, count), log), speed]
    begin, end = block_markers(dataset)
    body = "\n\n".join(f"### {t.title}\n\n{t.markdown()}" for t in tables)
    return (f"{begin}\nCommand: `{command}`  \nDate: {datetime.date.today()}  \nMachine: {machine()}\n\n"
            f"{body}\n{end}")


def section(*, quick: bool, root: str | None = None, log=print, counts: tuple[int, int, int, int] | None = None,
            samples_per_row: int | None = None, datasets: tuple[str, ...] = DATASETS) -> str:
    """The BENCHMARKS section: each dataset's block (of ``datasets``) that has a diffusion or flow model."""
    blocks = [dataset_block(dataset, quick=quick, root=root, log=log, counts=counts, samples_per_row=samples_per_row,
                            datasets=datasets) for dataset in datasets]
    body = "\n\n".join(block for block in blocks if block) or "No diffusion or flow model found."
    return f"{section_head()}{body}\n{END}"


def replace_block(text: str, dataset: str, block: str) -> str | None:
    """text (BENCHMARKS.md) with ``dataset``'s block replaced by ``block``; None when the section has no such
    block yet (the whole section is then written)."""
    begin, end = block_markers(dataset)
    if not (BEGIN in text and END in text and begin in text and end in text):
        return None
    before, rest = text.split(begin, 1)
    return before + block + rest.split(end, 1)[1]
