"""How good the shipped models are, on the held-out test sets: the quality half of
``python -m genexplorer.bench``.

Plain functions (no Gradio) that return ``Table``s; bench.py writes them into BENCHMARKS.md.
The shipped CNN classifier (``<dataset>-classifier``) is the reader throughout: its
accuracy on reconstructions, inpaintings and samples, and its penultimate-layer features
for the Frechet distance. Two baselines are trained in the run on the same data: PCA with
as many components as the AE has latent dimensions, and the pytorch/examples VAE recipe.
Images are float tensors (B, 1, 28, 28) in [0, 1].
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from .. import checkpoints, explore
from ..data import DatasetError, dataset_info, load_dataset
from ..metrics import frechet_distance, importance_weighted_nll, masked_psnr, median_filter, psnr, ssim
from ..models import GenerativeModel, VAE, VAEConfig, build
from ..noise import add_noise
from ..models import family_of
from ..training import evaluate

DATASETS = ("mnist", "fashion")
DENOISING = (("gaussian", 0.1), ("gaussian", 0.3), ("gaussian", 0.5), ("salt_pepper", 0.2), ("masking", 0.5))
INPAINT_MASKS = (("centre", "centred 14x14 hole"), ("bottom", "bottom half missing"))
BATCH = 500


@dataclass(frozen=True)
class Budget:
    """How much of each measurement a run does. None means the whole test (or training) set."""
    name: str
    test_images: int | None      # classifier, reconstruction, denoising
    iwae_images: int | None      # each costs k decodes
    inpaint_images: int | None   # each costs 100 gradient steps through the decoder
    samples: int                 # per model for the Frechet distance and coverage, at most the test set's size
    iwae_k: int
    pixel_samples: int           # PixelCNN samples (784 sequential passes per batch): fewer than the others
    train_images: int | None     # for PCA, the pytorch/examples VAE and the training race
    baseline_epochs: int         # the pytorch/examples recipe says 10
    race_epochs: int             # our VAE gets at most this many epochs to beat it
    speed_steps: int             # training steps timed per family

    def describe(self) -> str:
        """What a reduced run leaves out, for the table headings."""
        if self.name == "full":
            return ""
        return (f"QUICK RUN, reduced: at most {self.test_images} test images ({self.iwae_images} for the likelihood, "
                f"{self.inpaint_images} for inpainting), {self.samples} samples, k = {self.iwae_k}, "
                f"{self.train_images} training images, the pytorch/examples VAE trained {self.baseline_epochs} epoch(s), "
                f"{self.speed_steps} timed step(s) per family. Not comparable with the full run's numbers.")


FULL = Budget("full", None, 2000, 500, 10_000, 100, 1000, None, 10, 50, 20)
QUICK = Budget("quick", 200, 50, 30, 200, 10, 20, 1000, 1, 1, 1)


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        lines = [f"| {' | '.join(self.columns)} |", "|" + "---|" * len(self.columns)]
        lines += [f"| {' | '.join(_cell(v) for v in row)} |" for row in self.rows]
        return "\n\n".join(self.notes + ["\n".join(lines)])


def _cell(value) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.3f}" if abs(value) < 1 else f"{value:.1f}"
    return str(value)


def percent(value: float) -> str:
    """A fraction in [0, 1] as a table cell: 0.1234 -> "12.3%"."""
    return f"{100 * value:.1f}%"


# ------------------------------------------------------------------ data

@dataclass
class Split:
    x: torch.Tensor     # (N, 1, 28, 28) float in [0, 1]
    y: torch.Tensor     # (N,) int64

    def take(self, count: int | None, seed: int = 0) -> "Split":
        """A fixed random subset (the shipped digits are stored sorted by class)."""
        if count is None or count >= len(self.y):
            return self
        pick = torch.randperm(len(self.y), generator=torch.Generator().manual_seed(seed))[:count]
        return Split(self.x[pick], self.y[pick])


def load_split(dataset: str, split: str) -> Split:
    images, labels = load_dataset(dataset, split)
    return Split(torch.from_numpy(images).float().div_(255.0).unsqueeze(1), torch.from_numpy(labels))


def batched(function, *tensors, batch: int = BATCH) -> torch.Tensor:
    """function over slices of the tensors (None passes through), outputs concatenated."""
    n = len(next(t for t in tensors if t is not None))
    return torch.cat([function(*(None if t is None else t[i: i + batch] for t in tensors)) for i in range(0, n, batch)])


# ------------------------------------------------------------ baselines

class PCA:
    """Principal components of the training images: the linear autoencoder the lectures
    compare the AE with. Reconstruct = mean + projection on the first ``components``."""

    def __init__(self, train_x: torch.Tensor, components: int):
        flat = train_x.flatten(1).double()
        self.mean = flat.mean(0)
        centred = flat - self.mean
        _, vectors = torch.linalg.eigh(centred.T @ centred)
        self.basis = vectors[:, -components:]                        # (784, components), largest last

    def reconstruct(self, x: torch.Tensor, y=None) -> torch.Tensor:
        centred = x.flatten(1).double() - self.mean
        out = self.mean + centred @ self.basis @ self.basis.T
        return out.clamp(0, 1).float().reshape(x.shape)


class ExamplesVAE(VAE):
    """The VAE of pytorch/examples (vae/main.py): MLP 784-400-20 with Bernoulli pixels.
    Its fc21 and fc22 (mu and logvar) are one Linear here with twice the outputs, which is
    the same function; everything else (posterior, ELBO, sampling) is our VAE's."""

    def __init__(self, latent_dim: int = 20, hidden: int = 400):
        GenerativeModel.__init__(self, VAEConfig(latent_dim=latent_dim, hidden=hidden))
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(),   # (B, 400)
                                     nn.Linear(hidden, 2 * latent_dim))                 # (B, 40): mu | logvar
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(),          # (B, 400)
                                     nn.Linear(hidden, 784), nn.Unflatten(1, (1, 28, 28)))  # (B, 1, 28, 28) logits


def train_examples_vae(train: Split, epochs: int, *, seed: int = 0) -> tuple[ExamplesVAE, float]:
    """The pytorch/examples recipe: Adam 1e-3, batch 128, loss = BCE + KL summed over the
    batch. Returns the model (eval mode) and its training time in seconds."""
    torch.manual_seed(seed)
    model = ExamplesVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    for _ in range(epochs):
        for index in torch.randperm(len(train.y)).split(128):
            rec, kl = model.elbo_terms(train.x[index])
            optimizer.zero_grad(set_to_none=True)
            (rec + kl).sum().backward()
            optimizer.step()
    return model.eval(), time.perf_counter() - start


def race_our_vae(config: dict, train: Split, test: Split, target: float, max_epochs: int, *, seed: int = 0) -> dict:
    """Train our VAE (the shipped config, the shipped recipe) from scratch, epoch by epoch,
    until its test -ELBO is below ``target``. Training time only (not the evaluations)."""
    torch.manual_seed(seed)
    model = build("vae", config)
    family = family_of(model)
    step = family.stepper(model, family.optimizers(model, 1e-3))
    seconds, neg_elbo = 0.0, float("nan")
    for epoch in range(1, max_epochs + 1):
        model.train()
        start = time.perf_counter()
        for index in torch.randperm(len(train.y)).split(128):
            step(train.x[index], train.y[index])
        seconds += time.perf_counter() - start
        neg_elbo = evaluate(model, test.x, test.y)["test_neg_elbo_nats"]
        if neg_elbo < target:
            return {"beaten": True, "epochs": epoch, "seconds": seconds, "neg_elbo": neg_elbo}
    return {"beaten": False, "epochs": max_epochs, "seconds": seconds, "neg_elbo": neg_elbo}


# ------------------------------------------------------------ measurements

class Reader:
    """The shipped classifier of a dataset, batched."""

    def __init__(self, model: GenerativeModel):
        self.model = model

    @torch.no_grad()
    def labels(self, x: torch.Tensor) -> torch.Tensor:
        return batched(lambda b: self.model.logits(b).argmax(1), x)

    @torch.no_grad()
    def features(self, x: torch.Tensor) -> torch.Tensor:
        return batched(self.model.features, x)

    def accuracy(self, x: torch.Tensor, y: torch.Tensor) -> float:
        return float((self.labels(x) == y).float().mean())


def reader_or_note(dataset: str, table) -> "Reader | None":
    """The dataset's shipped classifier as a Reader, or None with a note in ``table`` saying why not."""
    try:
        return Reader(checkpoints.load(f"{dataset}-classifier"))
    except checkpoints.CheckpointError as exc:
        table.notes.append(f"{dataset}: not measured ({exc})")
        return None


def readable_test_sets(table, datasets, count: int | None):
    """(dataset, its Reader, ``count`` of its test pictures) for each dataset whose classifier loads; for the
    others a note in ``table`` says why they are not measured."""
    for dataset in datasets:
        reader = reader_or_note(dataset, table)
        if reader is not None:
            yield dataset, reader, load_split(dataset, "test").take(count)


def reconstruct_all(model, test: Split) -> torch.Tensor:
    """Reconstructions of the test images; a conditional model is told the true class."""
    if getattr(model, "conditional", False):
        return batched(lambda x, y: model.reconstruct(x, y), test.x, test.y)
    with torch.no_grad():
        return batched(model.reconstruct, test.x)


def worst_class(labels: torch.Tensor, requested: torch.Tensor | None, model: GenerativeModel) -> str:
    """A conditional model's class it draws worst: "name (agreement %)"; "" for an unconditional model."""
    if requested is None:
        return ""
    agreement = [float((labels[requested == c] == c).float().mean()) for c in range(model.num_classes)
                 if (requested == c).any()]
    worst = min(range(len(agreement)), key=agreement.__getitem__)
    return f"{model.class_names[worst]} ({percent(agreement[worst])})"


def coverage(labels: torch.Tensor, classes: int) -> tuple[float, float, float]:
    """How evenly predicted labels cover the classes: (smallest share, largest share,
    entropy / log(classes), 1 when perfectly even, 0 when every sample is one class)."""
    share = torch.bincount(labels, minlength=classes).double() / len(labels)
    entropy = -(share[share > 0] * share[share > 0].log()).sum() / math.log(classes)
    return float(share.min()), float(share.max()), float(entropy)


def samples_of(model: GenerativeModel, count: int, *, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor | None]:
    """count prior samples; a conditional model is asked for each class in turn."""
    generator = torch.Generator().manual_seed(seed)
    requested = torch.arange(count) % model.num_classes if model.conditional else None
    out = []
    for start in range(0, count, BATCH):
        y = None if requested is None else requested[start: start + BATCH]
        out.append(model.sample(min(BATCH, count - start), y, generator=generator))
    return torch.cat(out), requested


# ------------------------------------------------------------ the run

@dataclass
class DatasetRun:
    """Everything measured on one dataset, gathered into rows by ``run``."""
    dataset: str
    notes: list[str] = field(default_factory=list)
    rows: dict[str, list[list]] = field(default_factory=dict)

    def add(self, table: str, row: list) -> None:
        self.rows.setdefault(table, []).append([self.dataset] + row)


def load_or_note(name: str, report):
    """The checkpoint, or None with a note in ``report`` (a Table or a DatasetRun: anything with notes) saying why
    it was not measured: missing, or broken."""
    try:
        return checkpoints.load(name)
    except checkpoints.CheckpointError as exc:
        report.notes.append(f"{name}: not measured ({exc})")
        return None


# The shipped checkpoints ("<dataset>-<role>") each table measures; which of them answer a table's question is asked of
# the models themselves (what they can do), except where a table is about a chosen set of them.
MEASURED_ROLES = ("ae", "dae", "vae", "cvae", "ae2d", "vae2d", "gan", "cgan")
SAMPLED_ROLES = ("vae", "cvae", "gan", "cgan")       # the samples table: the families that draw from a prior
DENOISING_ROLES = ("ae", "dae", "vae")
FILLING_ROLES = ("vae", "ae")


def measure_dataset(dataset: str, budget: Budget, log: Callable[[str], None] = print) -> DatasetRun:
    """Every quality table's rows for one dataset: reconstruction, likelihood, samples, denoising, inpainting, and
    the race against the pytorch/examples VAE."""
    run = DatasetRun(dataset)
    classifier = load_or_note(f"{dataset}-classifier", run)
    if classifier is None:
        raise RuntimeError(f"the benchmark reads images with checkpoints/{dataset}-classifier; train it with "
                           f"`bash tools/train_shipped.sh classifiers`")
    reader = Reader(classifier)
    test_all = load_split(dataset, "test")
    test = test_all.take(budget.test_images)
    try:
        train = load_split(dataset, "train").take(budget.train_images, seed=1)
    except DatasetError as exc:
        train = None
        run.notes.append(f"{dataset}: the training images are missing, so the floor, PCA and the pytorch/examples "
                         f"baseline are not measured ({exc})")
    shipped = set(checkpoints.list_checkpoints())
    for role in MEASURED_ROLES:
        if f"{dataset}-{role}" not in shipped:
            run.notes.append(f"{dataset}: no {dataset}-{role} checkpoint, so its rows are not measured")
    models = {role: load_or_note(f"{dataset}-{role}", run) for role in MEASURED_ROLES if f"{dataset}-{role}" in shipped}
    models = {role: m for role, m in models.items() if m is not None}
    log(f"{dataset}: classifier and reconstructions on {len(test.y)} test images")
    run.add("classifier", [len(test.y), percent(reader.accuracy(test.x, test.y))])
    baselines, examples_seconds = baseline_models(dataset, train, models, budget, log)
    encoders = {role: m for role, m in models.items() if m.can("encodes")}
    reconstruction_rows(run, reader, test, {**{f"{dataset}-{r}": m for r, m in encoders.items()}, **baselines})
    likelihood_rows(run, dataset, test_all.take(budget.iwae_images), models, baselines, budget, log)
    sample_rows(run, dataset, reader, test_all, train, models, baselines, budget, log)
    denoising_rows(run, dataset, test, {r: encoders[r] for r in DENOISING_ROLES if r in encoders}, baselines, log)
    inpainting_rows(run, dataset, reader, test_all.take(budget.inpaint_images),
                    {f"{dataset}-{r}": encoders[r] for r in FILLING_ROLES if r in encoders}, log)
    if train is not None and "vae" in models:
        race_row(run, dataset, train, test, models["vae"], baselines["pytorch/examples VAE"], examples_seconds,
                 budget, log)
    return run


def baseline_models(dataset, train, models, budget: Budget, log) -> tuple[dict, float]:
    """PCA with the AE's code width and the pytorch/examples VAE, fitted on the training split (none without it)."""
    if train is None:
        return {}, 0.0
    components = models["ae"].latent_dim if "ae" in models else 16
    log(f"{dataset}: pytorch/examples VAE, {budget.baseline_epochs} epochs on {len(train.y)} images")
    examples, seconds = train_examples_vae(train, budget.baseline_epochs)
    return {f"PCA, {components} components": PCA(train.x, components), "pytorch/examples VAE": examples}, seconds


def reconstruction_rows(run: DatasetRun, reader, test: Split, encoders: dict) -> None:
    run.add("reconstruction", ["test images themselves", len(test.y), 0.0, "", percent(reader.accuracy(test.x, test.y))])
    for name, model in encoders.items():
        recon = reconstruct_all(model, test)
        mse = float((recon - test.x).pow(2).mean())
        run.add("reconstruction", [name, len(test.y), mse, float(psnr(recon, test.x).mean()),
                                   percent(reader.accuracy(recon, test.y))])


def likelihood_rows(run: DatasetRun, dataset: str, heavy: Split, models: dict, baselines: dict, budget: Budget,
                    log) -> None:
    """The -ELBO terms and the importance-weighted bound of every model with a variational bound."""
    log(f"{dataset}: ELBO and importance-weighted NLL (k = {budget.iwae_k})")
    bounded = {f"{dataset}-{r}": m for r, m in models.items() if m.can("bound_likelihood")}
    bounded.update({name: m for name, m in baselines.items() if isinstance(m, ExamplesVAE)})
    for name, model in bounded.items():
        y = heavy.y if model.conditional else None
        terms = evaluate(model, heavy.x, heavy.y)
        generator = torch.Generator().manual_seed(0)
        nll = batched(lambda x, yy: importance_weighted_nll(model, x, yy, k=budget.iwae_k, generator=generator),
                      heavy.x, y)
        run.add("likelihood", [name, len(heavy.y), terms["test_rec_nats"], terms["test_kl_nats"],
                               terms["test_neg_elbo_nats"], budget.iwae_k, float(nll.mean())])


def sample_rows(run: DatasetRun, dataset: str, reader, test_all: Split, train, models: dict, baselines: dict,
                budget: Budget, log) -> None:
    """Frechet distance, class coverage and (conditional models) agreement with the asked class."""
    count = min(budget.samples, len(test_all.y))
    log(f"{dataset}: Frechet distance and coverage, {count} samples per model")
    test_features = reader.features(test_all.take(count).x)
    classes = reader.model.num_classes
    if train is not None:
        floor = train.take(count, seed=2)
        share_min, share_max, evenness = coverage(reader.labels(floor.x), classes)
        run.add("samples", [f"floor: {count} training images", count,
                            frechet_distance(reader.features(floor.x), test_features),
                            percent(share_min), percent(share_max), evenness, "", ""])
    generators = {f"{dataset}-{r}": models[r] for r in SAMPLED_ROLES if r in models}
    generators.update({name: m for name, m in baselines.items() if isinstance(m, ExamplesVAE)})
    for name, model in generators.items():
        samples, requested = samples_of(model, count)
        labels = reader.labels(samples)
        share_min, share_max, evenness = coverage(labels, classes)
        agreement = percent(float((labels == requested).float().mean())) if requested is not None else ""
        run.add("samples", [name, count, frechet_distance(reader.features(samples), test_features),
                            percent(share_min), percent(share_max), evenness, agreement,
                            worst_class(labels, requested, model)])


def denoising_rows(run: DatasetRun, dataset: str, test: Split, denoisers: dict, baselines: dict, log) -> None:
    log(f"{dataset}: denoising")
    pca = next((m for m in baselines.values() if isinstance(m, PCA)), None)
    for noise, level in DENOISING:
        noisy = add_noise(test.x, noise, level, generator=torch.Generator().manual_seed(0))
        outputs = {"noisy input": noisy, "median 3x3": median_filter(noisy)}
        outputs.update({f"{dataset}-{r}": reconstruct_all(m, Split(noisy, test.y)) for r, m in denoisers.items()})
        if pca is not None:
            outputs["PCA"] = pca.reconstruct(noisy)
        for name, out in outputs.items():
            run.add("denoising", [f"{noise} {level:g}", name, len(test.y), float(psnr(out, test.x).mean()),
                                  float(ssim(out, test.x).mean())])


def inpainting_rows(run: DatasetRun, dataset: str, reader, inpaint_set: Split, fillers: dict, log) -> None:
    log(f"{dataset}: inpainting {len(inpaint_set.y)} images")
    for mask_name, description in INPAINT_MASKS:
        hidden = explore.preset_mask(mask_name)
        filled = {name: batched(lambda x: explore.inpaint_batch(model, x, hidden), inpaint_set.x)
                  for name, model in fillers.items()}
        filled["mean image"] = torch.where(hidden, explore.mean_image(dataset), inpaint_set.x)
        for name, out in filled.items():
            run.add("inpainting", [description, name, len(inpaint_set.y),
                                   float(masked_psnr(out, inpaint_set.x, hidden).mean()),
                                   percent(reader.accuracy(out, inpaint_set.y))])


def race_row(run: DatasetRun, dataset: str, train: Split, test: Split, vae, examples, examples_seconds: float,
             budget: Budget, log) -> None:
    """How long our VAE's recipe takes to beat the pytorch/examples VAE's -ELBO."""
    target = evaluate(examples, test.x, test.y)["test_neg_elbo_nats"]
    log(f"{dataset}: our VAE against the pytorch/examples VAE's {budget.baseline_epochs}-epoch -ELBO {target:.1f}")
    race = race_our_vae(vae.config.to_dict(), train, test, target, budget.race_epochs)
    run.add("race", [len(train.y), f"{target:.1f} after {budget.baseline_epochs} epochs", f"{examples_seconds:.1f}",
                     (f"{race['seconds']:.1f} ({race['epochs']} epochs, -ELBO {race['neg_elbo']:.1f})" if race["beaten"]
                      else f"not within {race['epochs']} epochs ({race['seconds']:.1f} s, -ELBO {race['neg_elbo']:.1f})")])


def measure_autoregressive(dataset: str, budget: Budget, log: Callable[[str], None] = print) -> DatasetRun:
    """The PixelCNN against the VAE: exact NLL beside the -ELBO and the importance-weighted bound on the same
    test images; its samples (Frechet distance, classes); one completion of each test image per hidden
    region; and what sampling costs. Rows go to the "exact", "samples", "inpainting" and "pixel speed" tables."""
    run = DatasetRun(dataset)
    model = load_or_note(f"{dataset}-pixelcnn", run)
    classifier = load_or_note(f"{dataset}-classifier", run)
    if model is None or classifier is None:
        return run
    reader = Reader(classifier)
    vae = load_or_note(f"{dataset}-vae", run)
    test_all = load_split(dataset, "test")
    heavy = test_all.take(budget.iwae_images)
    log(f"{dataset}: PixelCNN exact NLL on {len(heavy.y)} test images, beside the VAE's bounds (k = {budget.iwae_k})")
    with torch.no_grad():
        exact = float(batched(model.nll, heavy.x).mean())
        row = [len(heavy.y), exact]
        if vae is not None:
            neg_elbo = evaluate(vae, heavy.x, heavy.y)["test_neg_elbo_nats"]
            generator = torch.Generator().manual_seed(0)
            iwae = float(batched(lambda x: importance_weighted_nll(vae, x, k=budget.iwae_k, generator=generator),
                                  heavy.x).mean())
            row += [neg_elbo, iwae, budget.iwae_k, neg_elbo - exact, iwae - exact]
        else:
            row += ["", "", "", "", ""]
        # The grey levels' own likelihood (a different model of the pixels: not comparable with the VAE's nats)
        row.append(float(batched(model.grey_nll, heavy.x).mean()) if model.draws_grey else "")
    run.add("exact", row)

    count = min(budget.pixel_samples, len(test_all.y))
    test_features = reader.features(test_all.take(count).x)
    # the shipped GAN first: the yardstick of issue 25's target (at most 3x its distance), with as many samples
    for name, how, sampler in ((f"{dataset}-gan", "one pass", load_or_note(f"{dataset}-gan", run)),
                               (f"{dataset}-pixelcnn", "sequential", model)):
        if sampler is None:
            continue
        log(f"{dataset}: {count} samples of {name} ({how})")
        samples, _ = samples_of(sampler, count)
        share_min, share_max, evenness = coverage(reader.labels(samples), classifier.num_classes)
        run.add("samples", [f"{name} ({count} samples: {how})", count,
                            frechet_distance(reader.features(samples), test_features),
                            percent(share_min), percent(share_max), evenness, "", ""])

    inpaint_set = test_all.take(budget.inpaint_images)
    log(f"{dataset}: PixelCNN completions of {len(inpaint_set.y)} test images")
    for mask_name, description in INPAINT_MASKS:
        hidden = explore.preset_mask(mask_name)
        generator = torch.Generator().manual_seed(0)
        filled = batched(lambda x: model.complete(x, (~hidden).expand_as(x).float(), generator=generator), inpaint_set.x)
        run.add("inpainting", [description, f"{dataset}-pixelcnn (one sample)", len(inpaint_set.y),
                               float(masked_psnr(filled, inpaint_set.x, hidden).mean()),
                               percent(reader.accuracy(filled, inpaint_set.y))])

    log(f"{dataset}: PixelCNN sampling and completion time")
    bottom = explore.preset_mask("bottom")
    x4 = test_all.x[:1].expand(4, -1, -1, -1)
    for what, work in (("16 samples (784 passes)", lambda: model.sample(16, generator=torch.Generator().manual_seed(0))),
                       ("4 completions of a bottom half (392 passes)",
                        lambda: model.complete(x4, (~bottom).expand_as(x4).float(), generator=torch.Generator().manual_seed(0))),
                       ("exact NLL of 1 picture (1 pass)", lambda: model.nll(test_all.x[:1]))):
        seconds = []
        for _ in range(3):
            start = time.perf_counter()
            work()
            seconds.append(time.perf_counter() - start)
        run.add("pixel speed", [what, 3, f"{1000 * sorted(seconds)[1]:.0f}", f"{1000 * max(seconds):.0f}"])
    return run


def training_speed(steps: int, *, dataset: str = "mnist") -> list[list]:
    """Training images per second of each family on the CPU, one thread, batch 128,
    real images, after one warm-up step: [family, steps, images/s] rows."""
    train = load_split(dataset, "train").take(128 * (steps + 1))
    classes = len(dataset_info(dataset).class_names)
    rows = []
    for kind in ("ae", "dae", "vae", "cvae", "gan", "classifier"):
        torch.manual_seed(0)
        model = build(kind, {"num_classes": classes}).train()
        family = family_of(model)
        step = family.stepper(model, family.optimizers(model, family.learning_rate(model)))
        batches = list(zip(train.x.split(128), train.y.split(128)))
        step(*batches[0])
        start = time.perf_counter()
        for x, y in batches[1:]:
            step(x, y)
        rows.append([kind, len(batches) - 1, f"{128 * (len(batches) - 1) / (time.perf_counter() - start):.0f}"])
    return rows


TABLES = {
    "classifier": ("Classifier: test accuracy", ["dataset", "test images", "accuracy"]),
    "reconstruction": ("Reconstruction", ["dataset", "model", "test images", "MSE (per pixel)", "PSNR (dB)",
                                          "classifier accuracy on the reconstructions"]),
    "likelihood": ("Likelihood (nats per image)", ["dataset", "model", "test images", "reconstruction (BCE)", "KL",
                                                   "-ELBO", "k", "importance-weighted NLL"]),
    "samples": ("Samples", ["dataset", "model", "samples", "Frechet distance (classifier features)", "rarest class",
                            "commonest class", "evenness (entropy / log 10)", "classifier agrees with requested class",
                            "worst class (agreement)"]),
    "denoising": ("Denoising", ["dataset", "noise", "method", "test images", "PSNR (dB)", "SSIM"]),
    "inpainting": ("Inpainting", ["dataset", "hidden", "method", "test images", "PSNR on the hidden pixels (dB)",
                                  "classifier accuracy on the completed images"]),
    "race": ("Training: our VAE against the pytorch/examples VAE", ["dataset", "training images",
                                                                     "pytorch/examples test -ELBO", "its training time (s)",
                                                                     "our VAE: time to beat it (s)"]),
}


AUTOREGRESSIVE_TABLES = {
    "exact": ("Exact likelihood (PixelCNN) against the VAE's bounds (nats per image, the same test images)",
              ["dataset", "test images", "PixelCNN -log p(x), exact", "VAE -ELBO", "VAE importance-weighted NLL", "k",
               "-ELBO minus exact", "IWAE minus exact", "PixelCNN -log p(x), 256 grey levels"]),
    "samples": ("PixelCNN samples", TABLES["samples"][1]),
    "inpainting": ("PixelCNN completion (inpainting)", TABLES["inpainting"][1]),
    "pixel speed": ("PixelCNN: sampling and completion time (CPU, one thread)",
                    ["dataset", "what", "runs", "median (ms)", "slowest (ms)"]),
}


def run_autoregressive(budget: Budget, *, datasets=DATASETS, log: Callable[[str], None] = print) -> list[Table]:
    """Only the PixelCNN's tables (``python -m genexplorer.bench --only pixelcnn``)."""
    torch.manual_seed(0)
    runs = [measure_autoregressive(dataset, budget, log) for dataset in datasets]
    tables = [Table(title, columns, [row for r in runs for row in r.rows.get(key, [])])
              for key, (title, columns) in AUTOREGRESSIVE_TABLES.items()]
    if budget.describe():
        for table in tables:
            table.notes.insert(0, f"**{budget.describe()}**")
    tables[0].notes.extend(f"Note: {note}" for r in runs for note in r.notes)
    return tables


def run(budget: Budget, *, datasets=DATASETS, log: Callable[[str], None] = print) -> list[Table]:
    """Every quality table, for each dataset; a dataset that cannot be measured adds a note."""
    torch.manual_seed(0)
    started = time.perf_counter()
    timed_log = lambda message: log(f"[{time.perf_counter() - started:6.1f} s] {message}")  # noqa: E731
    runs = [measure_dataset(dataset, budget, timed_log) for dataset in datasets]
    tables = []
    for key, (title, columns) in TABLES.items():
        table = Table(title, columns, [row for r in runs for row in r.rows.get(key, [])])
        tables.append(table)
    timed_log("training speed")
    tables.append(Table("Training speed (CPU, one thread, batch 128)", ["family", "steps timed", "images/s"],
                        training_speed(budget.speed_steps)))
    if budget.describe():
        for table in tables:
            table.notes.insert(0, f"**{budget.describe()}**")
    notes = [note for r in runs for note in r.notes]
    if notes and tables:
        tables[0].notes.extend(f"Note: {note}" for note in notes)
    return tables
