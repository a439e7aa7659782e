"""What the app asks for: reconstructions, noise, latent walks, maps, samples, inpainting.

Plain functions over ``genexplorer``'s models, with no Gradio import, so the UI only wires
components to them and the tests call them directly. Images go in and out as float
tensors (B, 1, 28, 28) in [0, 1] unless a name says otherwise.
"""
from __future__ import annotations

import io
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from . import checkpoints
from .data import DATASETS, dataset_info, load_dataset
from .images import grid, to_uint8
from .metrics import psnr, ssim
from .models import AUTOREGRESSIVE_KINDS, ENCODER_KINDS, GENERATIVE_KINDS, IMAGE_TO_IMAGE_KINDS, GenerativeModel
from .noise import NOISE_TYPES, add_noise

# The roles the tabs fill by default, each the shipped checkpoint "<dataset>-<role>";
# "<dataset>-classifier" reads pictures (``classify``).
ROLES = ("ae", "dae", "vae", "cvae", "ae2d", "vae2d", "gan", "cgan", "pixelcnn")
MAX_STEPS = 64
MAX_SAMPLES = 100
LISTING_TTL_S = 2.0


class ExploreError(ValueError):
    """A request the explorer cannot serve; the message is meant for the page."""


# ------------------------------------------------------------------ models

class ModelCache:
    """Loaded checkpoints, shared read-only by every session. A checkpoint retrained on
    disk (its config.json changed) is reloaded on next use."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else None
        self._models: dict[str, tuple[float, GenerativeModel]] = {}
        # name -> (config.json's mtime, its dataset and kind): the pickers and every draw
        # ask for names, and parsing 16 JSON files each time was a third of a draw's time.
        self._headers: dict[str, tuple[int, tuple[str, str]]] = {}
        # The whole listing, while the checkpoints folder's own mtime is unchanged (saving, replacing or
        # deleting a checkpoint renames a folder in it) and for at most LISTING_TTL_S: every live answer
        # asks for it, and statting 35 checkpoints each time was ~0.7 ms of a ~9 ms answer.
        self._listing: tuple[int, float, dict[str, tuple[str, str]]] | None = None
        self._lock = threading.Lock()

    def folder(self, name: str) -> Path:
        return checkpoints.resolve(name, self.root, allow_paths=False)

    def get(self, name: str) -> GenerativeModel:
        folder = self.folder(name)
        stamp = (folder / checkpoints.CONFIG_FILE).stat().st_mtime
        with self._lock:
            cached = self._models.get(name)
            if cached is not None and cached[0] == stamp:
                return cached[1]
        model = checkpoints.load(folder)
        with self._lock:
            self._models[name] = (stamp, model)
        return model

    def names(self, dataset: str | None = None, kinds: tuple[str, ...] | None = None) -> list[str]:
        """Checkpoint names, optionally only those of ``dataset``; of ``kinds``, by default
        the models that draw (the pickers never offer the classifier, which only reads)."""
        return self._select(self.listing(dataset), kinds)

    def listing(self, dataset: str | None = None) -> dict[str, str]:
        """{name: kind} of every readable checkpoint (of ``dataset``), from one look at the folder: a
        handler that needs several roles' models lists once (a listing stats every checkpoint)."""
        headers = self._all_headers()
        return {name: kind for name, (data, kind) in headers.items() if dataset is None or data == dataset}

    def _all_headers(self) -> dict[str, tuple[str, str]]:
        root = self.root or checkpoints.checkpoints_dir()
        try:
            stamp = root.stat().st_mtime_ns
        except OSError:
            return {}
        now = time.monotonic()
        cached = self._listing
        if cached is not None and cached[0] == stamp and now - cached[1] < LISTING_TTL_S:
            return cached[2]
        headers = {}
        for name in checkpoints.list_checkpoints(self.root):
            header = self._header(name)
            if header is not None:     # a broken folder is reported when someone picks it, not listed
                headers[name] = header
        self._listing = (stamp, now, headers)
        return headers

    @staticmethod
    def _select(listing: dict[str, str], kinds: tuple[str, ...] | None) -> list[str]:
        kinds = GENERATIVE_KINDS if kinds is None else kinds
        return [name for name, kind in listing.items() if kind in kinds]

    def _header(self, name: str) -> tuple[str, str] | None:
        """(dataset, kind) of a listed checkpoint, re-read only when its config.json changed."""
        folder = (self.root or checkpoints.checkpoints_dir()) / name
        try:
            stamp = (folder / checkpoints.CONFIG_FILE).stat().st_mtime_ns
        except OSError:
            return None
        cached = self._headers.get(name)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            config = checkpoints.read_config(folder)
        except checkpoints.CheckpointError:
            return None
        header = (config["dataset"], config["kind"])
        self._headers[name] = (stamp, header)
        return header

    def default(self, dataset: str, role: str, *, listing: dict[str, str] | None = None) -> str | None:
        """The shipped "<dataset>-<role>" if present, else the first checkpoint of that kind.
        ``listing``: this dataset's listing() when the caller already has it."""
        name = f"{dataset}-{role}"
        kinds = ("classifier",) if role == "classifier" else AUTOREGRESSIVE_KINDS if role in AUTOREGRESSIVE_KINDS \
            else IMAGE_TO_IMAGE_KINDS if role.startswith(("context", "pix2pix")) else None
        available = self._select(self.listing(dataset) if listing is None else listing, kinds)
        if name in available:
            return name
        if kinds == IMAGE_TO_IMAGE_KINDS:
            return None    # "context" and "context-l2" (pix2pix and its L1 twin) are different lessons
        kind = role.replace("2d", "")
        for candidate in available:
            if candidate.split("-", 1)[-1].startswith(kind):
                return candidate
        return None


def _no_grad(function):
    def wrapper(*args, **kwargs):
        with torch.inference_mode():
            return function(*args, **kwargs)
    wrapper.__name__, wrapper.__doc__ = function.__name__, function.__doc__
    return wrapper


def as_batch(image) -> torch.Tensor:
    """(28, 28) / (1, 28, 28) / (B, 1, 28, 28), uint8 or float -> float (B, 1, 28, 28) in [0, 1]."""
    tensor = torch.as_tensor(np.array(image) if not isinstance(image, torch.Tensor) else image)
    if tensor.dtype == torch.uint8:
        tensor = tensor.float() / 255.0
    tensor = tensor.float()
    while tensor.ndim < 4:
        tensor = tensor.unsqueeze(0)
    if tuple(tensor.shape[1:]) != (1, 28, 28):
        raise ExploreError(f"expected a 28x28 image, got shape {tuple(tensor.shape)}")
    return tensor.clamp(0.0, 1.0)


# -------------------------------------------------------- reconstructions

@dataclass
class Reconstruction:
    name: str
    kind: str
    image: np.ndarray            # uint8 (28, 28)
    mse: float
    psnr: float
    details: dict                # VAE: rec_nats, kl_nats; CVAE: the class used


@_no_grad
def best_class(model: GenerativeModel, x: torch.Tensor) -> tuple[int, np.ndarray]:
    """For a CVAE: the class under which x is most likely (smallest -ELBO), and the
    -ELBO of every class (nats). Uses the posterior mean, so it is deterministic."""
    _, rec, kl = _under_every_class(model, x)
    neg_elbo = (rec + kl)[0]
    return int(neg_elbo.argmin()), neg_elbo.numpy()


def _under_every_class(model, x):
    """A CVAE's posterior-mean pass of pictures x (B, 1, 28, 28) under every class, in one batch:
    -> reconstructions (B, C, 1, 28, 28), reconstruction and KL nats (B, C) each."""
    batch, classes = x.shape[0], model.num_classes
    every, rec, kl = _posterior_mean_pass(model, x.repeat_interleave(classes, 0), torch.arange(classes).repeat(batch))
    return every.reshape(batch, classes, *x.shape[1:]), rec.reshape(batch, classes), kl.reshape(batch, classes)


def _most_likely_class(model, x):
    """For a CVAE and pictures x (B, 1, 28, 28): the class of smallest -ELBO for each picture.
    -> (classes (B,), their reconstructions (B, 1, 28, 28), rec and KL nats (B,) each)."""
    every, rec, kl = _under_every_class(model, x)
    best = (rec + kl).argmin(1)
    rows = torch.arange(len(best))
    return best, every[rows, best], rec[rows, best], kl[rows, best]


def _posterior_mean_pass(model, x, y=None):
    """Decode the posterior mean: the reconstruction, and the reconstruction (BCE) and KL
    terms in nats, each batched. The mean, not a sample, so the numbers a user sees do not
    jitter from one update to the next."""
    from .models.base import bce_per_image
    from .models.vae import gaussian_kl

    mu, logvar = model.posterior(x, y)
    logits = model.decode_logits(mu, y)
    return torch.sigmoid(logits), bce_per_image(logits, x), gaussian_kl(mu, logvar)


@_no_grad
def reconstruct(model: GenerativeModel, x: torch.Tensor, *, label: int | None = None, name: str = "") -> Reconstruction:
    """One model's reconstruction of x (1, 1, 28, 28), with its error.
    For a CVAE, ``label`` None means the most likely class."""
    details: dict = {}
    if model.conditional:
        details["class_source"] = "chosen" if label is not None else "most likely"
        if label is not None and not 0 <= label < model.num_classes:
            raise ExploreError(f"class must be between 0 and {model.num_classes - 1}")
    if model.kind in ("vae", "cvae"):
        if model.conditional and label is None:
            best, recon, rec, kl = _most_likely_class(model, x)
            label = int(best[0])
        else:
            recon, rec, kl = _posterior_mean_pass(model, x, None if label is None else torch.tensor([label]))
        details["rec_nats"], details["kl_nats"] = float(rec[0]), float(kl[0])
    else:
        if model.conditional and label is None:
            raise ExploreError(f"this {model.kind} needs a class to reconstruct")
        recon = model.reconstruct(x, None if label is None else torch.tensor([label]))
    if model.conditional:
        details["class"] = model.class_names[label]
    return Reconstruction(name or model.kind, model.kind, to_uint8(recon)[0],
                          float((recon - x).pow(2).mean()), float(psnr(recon, x)[0]), details)


@_no_grad
def reconstruct_images(model: GenerativeModel, x: torch.Tensor, labels: list[int | None]) -> np.ndarray:
    """``reconstruct``'s pictures for a batch (B, 1, 28, 28) in one pass per model: uint8 (B, 28, 28).
    labels: one per picture, for a conditional model (None: its most likely class); ignored otherwise."""
    encoder_kind = model.kind in ("vae", "cvae")
    if not model.conditional:
        return to_uint8(_posterior_mean_pass(model, x)[0] if encoder_kind else model.reconstruct(x))
    if any(label is not None and not 0 <= label < model.num_classes for label in labels):
        raise ExploreError(f"class must be between 0 and {model.num_classes - 1}")
    unknown = [i for i, label in enumerate(labels) if label is None]
    if unknown and not encoder_kind:
        raise ExploreError(f"this {model.kind} needs a class to reconstruct")
    recon = torch.empty_like(x)     # float32; under bfloat16 autocast (precision.py) the passes' results are cast
    if unknown:
        recon[unknown] = _most_likely_class(model, x[unknown])[1].to(recon.dtype)
    known = [i for i, label in enumerate(labels) if label is not None]
    if known:
        y = torch.tensor([labels[i] for i in known])
        rebuilt = _posterior_mean_pass(model, x[known], y)[0] if encoder_kind else model.reconstruct(x[known], y)
        recon[known] = rebuilt.to(recon.dtype)
    return to_uint8(recon)


# ------------------------------------------------------------- classifier

@_no_grad
def classify(model: GenerativeModel, x: torch.Tensor, *, top: int = 3) -> list[tuple[str, float]]:
    """What a classifier checkpoint reads in x (1, 1, 28, 28): the ``top`` most probable
    classes as (class name, probability in [0, 1]), most probable first."""
    return classify_many(model, x, top=top)[0]


@_no_grad
def classify_many(model: GenerativeModel, x: torch.Tensor, *, top: int = 3) -> list[list[tuple[str, float]]]:
    """classify() for each of x (B, 1, 28, 28), in one pass."""
    if model.kind != "classifier":
        raise ExploreError(f"{model.kind} is not a classifier: pick a <dataset>-classifier checkpoint")
    _, probabilities = model.predict(x)
    values, indices = probabilities.topk(min(int(top), model.num_classes), dim=1)
    return [[(model.class_names[int(i)], float(p)) for p, i in zip(row_values, row_indices)]
            for row_values, row_indices in zip(values, indices)]


# ------------------------------------------------------------------ noise

@dataclass
class Denoised:
    name: str
    image: np.ndarray    # uint8 (28, 28)
    psnr: float
    ssim: float


def make_noisy(x: torch.Tensor, noise: str, level: float, seed: int) -> torch.Tensor:
    """x (1, 1, 28, 28) -> a corrupted copy (noise: one of NOISE_TYPES); the same seed gives the same noise."""
    if noise not in NOISE_TYPES:
        raise ExploreError(f"unknown noise type {noise!r}: use one of {NOISE_TYPES}")
    level = finite(level, "noise level", 0.0, 1.0)
    generator = seeded_generator(seed)
    return add_noise(x, noise, level, generator=generator)


@_no_grad
def denoise(models: dict[str, GenerativeModel], clean: torch.Tensor, noisy: torch.Tensor) -> list[Denoised]:
    """The noisy input and each model's reconstruction of it, scored against the clean image."""
    results = [Denoised("noisy input", to_uint8(noisy)[0], float(psnr(noisy, clean)[0]), float(ssim(noisy, clean)[0]))]
    for name, model in models.items():
        y = torch.tensor([best_class(model, noisy)[0]]) if model.conditional else None
        out = model.reconstruct(noisy, y)
        results.append(Denoised(name, to_uint8(out)[0], float(psnr(out, clean)[0]), float(ssim(out, clean)[0])))
    return results


# ------------------------------------------------------------ latent space

def finite(value, what: str, low: float, high: float) -> float:
    """A number a user typed or sent -> float in [low, high]; anything else (text, NaN, infinity, out of range)
    raises ExploreError naming ``what``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ExploreError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise ExploreError(f"{what} must be between {low} and {high}, got {value!r}")
    return number


def check_latent(model: GenerativeModel, values) -> torch.Tensor:
    """A list of slider values -> (1, latent_dim), each finite and within +/-10."""
    values = list(values)
    if len(values) != model.latent_dim:
        raise ExploreError(f"this model has {model.latent_dim} latent dimensions, got {len(values)} values")
    return torch.tensor([[finite(v, "latent value", -10.0, 10.0) for v in values]], dtype=torch.float32)


def decode_image(model: GenerativeModel, z: torch.Tensor, label: int | None = None) -> np.ndarray:
    """(1, latent_dim) -> uint8 (28, 28). The hot path of the latent sliders."""
    return decode_images(model, z, label)[0]


@_no_grad
def decode_images(model: GenerativeModel, z: torch.Tensor, label: int | None = None) -> np.ndarray:
    """(B, latent_dim) -> uint8 (B, 28, 28), every code under one class (a conditional model; default 0)."""
    y = None
    if model.conditional:
        label = 0 if label is None else int(label)
        if not 0 <= label < model.num_classes:
            raise ExploreError(f"class must be between 0 and {model.num_classes - 1}")
        y = torch.full((z.shape[0],), label)
    return to_uint8(model.decode(z, y))


@_no_grad
def start_latent(model: GenerativeModel, mode: str, *, x: torch.Tensor | None = None, label: int | None = None,
                 seed: int = 0) -> torch.Tensor:
    """Where the sliders start: "drawing" (the code of x), "random" (a prior draw) or "zero"."""
    if mode == "zero":
        return torch.zeros(1, model.latent_dim)
    if mode == "random":
        return torch.randn(1, model.latent_dim, generator=torch.Generator().manual_seed(int(seed)))
    if mode == "drawing":
        if x is None:
            raise ExploreError("draw something first (or pick an example) to start from its code")
        if model.kind not in ENCODER_KINDS:
            raise ExploreError("a GAN has no encoder, so it cannot start from a drawing: pick random or zero")
        y = torch.tensor([label if label is not None else best_class(model, x)[0]]) if model.conditional else None
        return model.encode(x, y)
    raise ExploreError(f"unknown start {mode!r}: use drawing, random or zero")


# ------------------------------------------------------------ latent maps

@dataclass
class LatentMap:
    coords: np.ndarray      # (N, 2)
    labels: np.ndarray      # (N,)
    method: str             # "latent" (2-D codes), "pca" or "umap"
    class_names: tuple


class MapStore:
    """Test-set maps of each encoder checkpoint: stored 2-D coordinates plus, for placing
    a new point, the test set's codes (computed once per model, a fraction of a second)."""

    def __init__(self, cache: ModelCache):
        self.cache = cache
        self._codes: dict[tuple[str, float], torch.Tensor] = {}
        self._lock = threading.Lock()

    def _test_codes(self, name: str) -> torch.Tensor:
        model = self.cache.get(name)
        stamp = (self.cache.folder(name) / checkpoints.CONFIG_FILE).stat().st_mtime
        key = (name, stamp)
        with self._lock:
            if key in self._codes:
                return self._codes[key]
        images, labels = test_set(model.dataset)
        with torch.inference_mode():
            x = torch.from_numpy(images).float().div_(255).unsqueeze(1)
            y = torch.from_numpy(labels) if model.conditional else None
            codes = torch.cat([model.encode(x[i: i + 2000], None if y is None else y[i: i + 2000])
                               for i in range(0, len(x), 2000)])
        with self._lock:
            self._codes[key] = codes
        return codes

    def methods(self, name: str) -> list[str]:
        model = self.cache.get(name)
        if model.kind not in ENCODER_KINDS:
            return []
        if model.latent_dim == 2:
            return ["latent"]
        stored = checkpoints.load_tensors(self.cache.folder(name), checkpoints.LATENT_MAP_FILE) or {}
        return [m for m in ("umap", "pca") if m in stored] or ["pca"]

    def get(self, name: str, method: str | None = None) -> LatentMap:
        model = self.cache.get(name)
        if model.kind not in ENCODER_KINDS:
            raise ExploreError(f"{name} is a {model.kind}: it has no encoder, so there is no map of its codes")
        methods = self.methods(name)
        method = method or methods[0]
        if method not in methods:
            raise ExploreError(f"{name} has no {method} map (available: {', '.join(methods)})")
        _, labels = test_set(model.dataset)
        if method == "latent":
            coords = self._test_codes(name).numpy()
        else:
            stored = checkpoints.load_tensors(self.cache.folder(name), checkpoints.LATENT_MAP_FILE)
            if stored is None or method not in stored:
                coords = self._pca(name)[0]
            else:
                coords = stored[method].numpy()
        return LatentMap(coords[: len(labels)], labels[: len(coords)], method, model.class_names)

    def _pca(self, name: str):
        codes = self._test_codes(name).double()
        mean = codes.mean(0)
        _, _, v = torch.linalg.svd(codes - mean, full_matrices=False)
        return ((codes - mean) @ v[:2].T).float().numpy(), mean, v[:2]

    @_no_grad
    def place(self, name: str, x: torch.Tensor, method: str, label: int | None = None) -> np.ndarray:
        """Where x (1, 1, 28, 28) falls on the map: its code itself, its PCA projection, or
        (UMAP) the average position of its 5 nearest test codes; never UMAP.transform,
        which costs most of a second."""
        model = self.cache.get(name)
        y = None
        if model.conditional:
            y = torch.tensor([label if label is not None else best_class(model, x)[0]])
        code = model.encode(x, y)[0]
        if method == "latent":
            return code.numpy()
        stored = checkpoints.load_tensors(self.cache.folder(name), checkpoints.LATENT_MAP_FILE) or {}
        if method == "pca" and "pca_mean" in stored:
            return ((code - stored["pca_mean"]) @ stored["pca_components"].T).numpy()
        if method == "pca":
            _, mean, components = self._pca(name)
            return ((code.double() - mean) @ components.T).float().numpy()
        coords = stored[method].numpy()
        distances = (self._test_codes(name) - code).pow(2).sum(1)
        nearest = distances.topk(5, largest=False).indices.numpy()
        return coords[nearest].mean(0)


_TEST_SETS: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def test_set(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """The shipped test split of a dataset (cached: the maps and examples share it)."""
    if dataset not in _TEST_SETS:
        _TEST_SETS[dataset] = load_dataset(dataset, "test")
    return _TEST_SETS[dataset]


def examples(dataset: str, per_class: int = 1, *, offset: int = 0) -> list[tuple[np.ndarray, int]]:
    """A few test images per class, in class order: (uint8 (28, 28), label)."""
    images, labels = test_set(dataset)
    out = []
    for label in range(len(dataset_info(dataset).class_names)):
        where = np.flatnonzero(labels == label)
        for i in range(per_class):
            if len(where):
                index = where[(offset + i) % len(where)]
                out.append((images[index], label))
    return out


@_no_grad
def manifold(model: GenerativeModel, *, size: int = 15, extent: float | None = None, label: int = 0) -> np.ndarray:
    """Decode a size x size grid over a 2-D latent plane: uint8 picture.

    VAE: spaced by Gaussian quantiles (Kingma & Welling 2014, fig. 4), so each cell
    covers the same prior mass. AE: evenly over +/-extent (default: the range of its codes).
    """
    if model.latent_dim != 2:
        raise ExploreError("the decoded manifold needs a model with a 2-D latent (ae2d, vae2d)")
    size = int(finite(size, "grid size", 2, 30))
    axis = torch.from_numpy(manifold_axis(model, size, extent or 3.0)).float()
    # Rows run top to bottom from high to low z2, like a plot's y axis.
    z2, z1 = torch.meshgrid(axis.flip(0), axis, indexing="ij")
    z = torch.stack([z1.reshape(-1), z2.reshape(-1)], dim=1)
    y = torch.full((len(z),), label) if model.conditional else None
    return grid(to_uint8(model.decode(z, y)), ncols=size, pad=0)


def manifold_axis(model: GenerativeModel, size: int, extent: float) -> np.ndarray:
    """The latent coordinates of the manifold grid's columns (and, reversed, rows)."""
    if model.kind in ("vae", "cvae"):
        quantiles = torch.linspace(0.5 / size, 1 - 0.5 / size, size, dtype=torch.float64)
        return torch.distributions.Normal(0.0, 1.0).icdf(quantiles).float().numpy()
    return np.linspace(-extent, extent, size)


# ----------------------------------------------------------- interpolation

def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between a and b (D,) at t (S,) -> (S, D). Gaussian latents
    live near a sphere; the straight line between two passes through unlikely, low-norm codes."""
    omega = torch.arccos(torch.clamp((a / a.norm()) @ (b / b.norm()), -1.0, 1.0))
    if omega.abs() < 1e-4:
        return (1 - t)[:, None] * a + t[:, None] * b
    so = torch.sin(omega)
    return (torch.sin((1 - t) * omega) / so)[:, None] * a + (torch.sin(t * omega) / so)[:, None] * b


def _steps(steps) -> torch.Tensor:
    count = int(finite(steps, "steps", 2, MAX_STEPS))
    return torch.linspace(0, 1, count)


@_no_grad
def interpolate(models: dict[str, GenerativeModel], x_a: torch.Tensor, x_b: torch.Tensor, steps: int,
                *, labels: tuple[int, int] | None = None) -> dict[str, np.ndarray]:
    """Rows of a strip from x_a to x_b (each (1, 1, 28, 28)): "pixels" blends the images;
    each model walks the straight line between the two codes. Values: uint8 (S, 28, 28)."""
    t = _steps(steps)
    rows = {"pixels": to_uint8((1 - t)[:, None, None, None] * x_a + t[:, None, None, None] * x_b)}
    for name, model in models.items():
        y_a = y_b = None
        if model.conditional:
            y_a = torch.tensor([labels[0] if labels else best_class(model, x_a)[0]])
            y_b = torch.tensor([labels[1] if labels else best_class(model, x_b)[0]])
        z_a, z_b = model.encode(x_a, y_a)[0], model.encode(x_b, y_b)[0]
        z = (1 - t)[:, None] * z_a + t[:, None] * z_b
        y = None
        if model.conditional:
            y = torch.where(t < 0.5, y_a, y_b)
        rows[name] = to_uint8(model.decode(z, y))
    return rows


@_no_grad
def gan_tour(model: GenerativeModel, *, seed: int, stops: int = 4, steps: int = 8, label: int = 0) -> np.ndarray:
    """Walk through ``stops`` random latent vectors and back to the first, by slerp:
    uint8 (stops * steps, 28, 28)."""
    stops = int(finite(stops, "stops", 2, 16))
    generator = seeded_generator(seed)
    anchors = torch.randn(stops, model.latent_dim, generator=generator)
    t = torch.linspace(0, 1, int(finite(steps, "steps", 2, MAX_STEPS)) + 1)[:-1]
    z = torch.cat([slerp(anchors[i], anchors[(i + 1) % stops], t) for i in range(stops)])
    y = torch.full((len(z),), int(label)) if model.conditional else None
    return to_uint8(model.decode(z, y))


# ------------------------------------------------------------------ samples

def seeded_generator(seed) -> torch.Generator:
    """A user's seed (an integer in [0, 2**31 - 1], checked) -> a torch.Generator seeded with it."""
    return torch.Generator().manual_seed(int(finite(seed, "seed", 0, 2 ** 31 - 1)))


@_no_grad
def prior_samples(model: GenerativeModel, count: int, seed: int, *, label: int | None = None) -> np.ndarray:
    """count samples from the prior: uint8 (count, 28, 28); the same seed, the same images."""
    count = int(finite(count, "number of samples", 1, MAX_SAMPLES))
    generator = seeded_generator(seed)
    z = torch.randn(count, model.latent_dim, generator=generator)
    y = None
    if model.conditional:
        y = torch.full((count,), int(label)) if label is not None else torch.randint(model.num_classes, (count,), generator=generator)
    return to_uint8(model.decode(z, y))


@_no_grad
def class_grid(model: GenerativeModel, styles: int, seed: int) -> np.ndarray:
    """A conditional model's grid: one row per class, one column per style (the same z
    down each column): uint8 (classes * styles, 28, 28)."""
    if not model.conditional:
        raise ExploreError(f"{model.kind} is not class-conditional: pick a cvae or cgan")
    styles = int(finite(styles, "number of styles", 1, 12))
    z = torch.randn(styles, model.latent_dim, generator=seeded_generator(seed))
    z = z.repeat(model.num_classes, 1)
    y = torch.arange(model.num_classes).repeat_interleave(styles)
    return to_uint8(model.decode(z, y))


# ---------------------------------------------------------------- inpainting

def inpaint(model: GenerativeModel, x: torch.Tensor, hidden: torch.Tensor, *, iterations: int = 100,
            label: int | None = None, seed: int = 0) -> np.ndarray:
    """Fill the hidden pixels of x (1, 1, 28, 28); hidden is a bool mask of the same shape.
    Returns uint8 (28, 28). The method is ``inpaint_batch``'s."""
    hidden = hidden.bool().reshape(1, 1, 28, 28)
    if hidden.sum() == 0:
        return to_uint8(x)[0]
    labels = None if label is None else torch.tensor([label])
    return to_uint8(inpaint_batch(model, x, hidden, iterations=iterations, labels=labels))[0]


def inpaint_batch(model: GenerativeModel, x: torch.Tensor, hidden: torch.Tensor, *, iterations: int = 100,
                  labels: torch.Tensor | None = None) -> torch.Tensor:
    """Fill the hidden pixels of each image of x (B, 1, 28, 28); hidden is a bool mask,
    (1, 1, 28, 28) for all or (B, 1, 28, 28).

    VAE/CVAE: find the code z that best explains the known pixels under the prior,
    maximising log p(known | z) + log p(z) by gradient steps on z (starting from the
    encoding of the image with its hole blanked). AE/DAE: iterate reconstruct-and-keep-
    known-pixels, the classic projection method. Context encoders paint the hole in one pass;
    a PixelCNN draws one completion (seed 0). Known pixels are kept exactly.
    Each image's code is optimised on its own (Adam works elementwise), so a batch gives
    the same pictures as one image at a time. Returns float (B, 1, 28, 28) in [0, 1].
    """
    hidden = hidden.bool().expand_as(x)
    known = ~hidden
    start = torch.where(hidden, torch.zeros_like(x), x)
    y = None
    if model.conditional:
        y = labels if labels is not None else torch.tensor([best_class(model, image[None])[0] for image in start])
    iterations = int(finite(iterations, "iterations", 1, 1000))
    if model.kind in ("vae", "cvae"):
        from torch.nn import functional as F

        with torch.no_grad():
            z = model.encode(start, y).clone()
        z.requires_grad_(True)
        optimizer = torch.optim.Adam([z], lr=0.08)
        target = x.clamp(0, 1)
        for _ in range(iterations):
            logits = model.decode_logits(z, y)
            nll = F.binary_cross_entropy_with_logits(logits[known], target[known], reduction="sum")
            loss = nll + 0.5 * z.pow(2).sum()
            # Gradient for z alone: the shared model's parameters (and other users) are untouched.
            (z.grad,) = torch.autograd.grad(loss, [z])
            optimizer.step()
        with torch.no_grad():
            filled = model.decode(z, y)
    elif model.kind in IMAGE_TO_IMAGE_KINDS:
        filled = model.inpaint(x, known)        # one pass: the hole painted from its context
    elif model.kind == "pixelcnn":
        with torch.inference_mode():            # one completion, pixel by pixel, seeded: the same picture each time
            filled = model.complete(x, known.float(), generator=torch.Generator().manual_seed(0)).clamp(0, 1)
    else:
        with torch.no_grad():
            current = start
            for _ in range(min(iterations, 50)):
                current = torch.where(hidden, model.reconstruct(current, y), x)
            filled = current
    return torch.where(hidden, filled.detach(), x)


def mean_image(dataset: str) -> torch.Tensor:
    """The average test image: the simple inpainting baseline."""
    images, _ = test_set(dataset)
    return torch.from_numpy(images.mean(0) / 255.0).float().reshape(1, 1, 28, 28)


# -------------------------------------------------------------- exporting

def strip_png(rows: list[np.ndarray], *, scale: int = 3) -> bytes:
    """Rows of uint8 (S, 28, 28) -> one PNG with one row each."""
    from .images import png_bytes, upscale

    width = max(len(r) for r in rows)
    picture = grid(np.concatenate([np.concatenate([r, np.zeros((width - len(r), 28, 28), np.uint8)]) for r in rows]),
                   ncols=width)
    return png_bytes(upscale(picture, scale))


def strip_gif(rows: list[np.ndarray], *, scale: int = 4, frame_ms: int = 120) -> bytes:
    """An animated GIF: frame i shows step i of every row side by side, there and back."""
    from .images import upscale

    count = min(len(r) for r in rows)
    frames = []
    for i in list(range(count)) + list(range(count - 2, 0, -1)):
        picture = grid(np.stack([r[i] for r in rows]), ncols=len(rows))
        frames.append(Image.fromarray(upscale(picture, scale)))
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=frame_ms, loop=0)
    return buffer.getvalue()


# Hidden regions for inpainting, as the benchmarks and the Upload tab name them.
MASKS = ("centre", "bottom", "right")


def preset_mask(name: str) -> torch.Tensor:
    """A bool (1, 1, 28, 28) mask of hidden pixels: "centre" (the middle 14x14),
    "bottom" (the lower half) or "right" (the right half)."""
    hidden = torch.zeros(1, 1, 28, 28, dtype=torch.bool)
    if name == "centre":
        hidden[..., 7:21, 7:21] = True
    elif name == "bottom":
        hidden[..., 14:, :] = True
    elif name == "right":
        hidden[..., :, 14:] = True
    else:
        raise ExploreError(f"unknown mask {name!r}: use one of {MASKS}")
    return hidden


def hidden_psnr(result: np.ndarray, truth: np.ndarray, hidden: torch.Tensor) -> float:
    """PSNR (dB) over the hidden pixels only: how well the hole was filled."""
    mask = hidden.reshape(28, 28).numpy()
    error = ((result.astype(np.float32) - truth.astype(np.float32)) / 255.0)[mask]
    mse = float((error ** 2).mean()) if error.size else 0.0
    return 100.0 if mse <= 1e-10 else float(10 * np.log10(1.0 / mse))
