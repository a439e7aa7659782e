"""One model's answer to a picture: its reconstruction (with the VAE's nats and the CVAE's class), what a classifier
reads, the exact -log p(x) of a model that has one, and how models clean a noisy picture."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..images import to_uint8
from ..metrics import psnr, ssim
from ..models import GenerativeModel
from ..noise import NOISE_TYPES, add_noise
from .inputs import ExploreError, check_label, finite, inference, seeded_generator


@dataclass
class Reconstruction:
    name: str
    kind: str
    image: np.ndarray            # uint8 (28, 28)
    mse: float
    psnr: float
    details: dict                # a bound on -log p(x): rec_nats, kl_nats; conditional: the class used and why


@inference
def best_class(model: GenerativeModel, x: torch.Tensor) -> tuple[int, np.ndarray]:
    """For a conditional model with a bound (a CVAE): the class under which x (1, 1, 28, 28) is most likely
    (smallest -ELBO), and the -ELBO of every class (nats). Uses the posterior mean, so it is deterministic."""
    _, rec, kl = _under_every_class(model, x)
    neg_elbo = (rec + kl)[0]
    return int(neg_elbo.argmin()), neg_elbo.numpy()


def _under_every_class(model, x):
    """A CVAE's posterior-mean pass of pictures x (B, 1, 28, 28) under every class, in one batch:
    -> reconstructions (B, C, 1, 28, 28), reconstruction and KL nats (B, C) each."""
    batch, classes = x.shape[0], model.num_classes
    every, rec, kl = _posterior_mean_pass(model, x.repeat_interleave(classes, 0), torch.arange(classes).repeat(batch))
    return every.reshape(batch, classes, *x.shape[1:]), rec.reshape(batch, classes), kl.reshape(batch, classes)


def _posterior_mean_pass(model, x, y=None):
    """Decode the posterior mean: the reconstruction, and the reconstruction (BCE) and KL
    terms in nats, each batched. The mean, not a sample, so the numbers a user sees do not
    jitter from one update to the next."""
    from ..models.base import bce_per_image
    from ..models.vae import gaussian_kl

    mu, logvar = model.posterior(x, y)
    logits = model.decode_logits(mu, y)
    return torch.sigmoid(logits), bce_per_image(logits, x), gaussian_kl(mu, logvar)


def _rebuild(model: GenerativeModel, x: torch.Tensor, labels: list[int | None]):
    """Reconstruct pictures x (B, 1, 28, 28), one pass per model (two for a conditional one asked for both chosen
    and most likely classes). A model with a bound on -log p(x) decodes its posterior mean.
    labels: one per picture, for a conditional model (None: its most likely class, which needs the bound).
    -> (reconstructions (B, 1, 28, 28) float32, the class each was drawn as (conditional; else None),
        (reconstruction nats, KL nats), each (B,), for a model with a bound; else None)."""
    bound = model.can("bound_likelihood")
    if not model.conditional:
        if not bound:
            return model.reconstruct(x).float(), None, None
        recon, rec, kl = _posterior_mean_pass(model, x)
        return recon.float(), None, (rec.float(), kl.float())
    labels = [check_label(label, model.num_classes) for label in labels]
    unknown = [i for i, label in enumerate(labels) if label is None]
    if unknown and not bound:
        raise ExploreError(f"this {model.kind} needs a class to reconstruct")
    recon = torch.empty_like(x, dtype=torch.float32)   # under bfloat16 autocast (precision.py) the passes are cast
    rec, kl, told = torch.zeros(len(x)), torch.zeros(len(x)), list(labels)
    if unknown:
        every, every_rec, every_kl = _under_every_class(model, x[unknown])
        best = (every_rec + every_kl).argmin(1)
        rows = torch.arange(len(best))
        recon[unknown] = every[rows, best].float()
        rec[unknown], kl[unknown] = every_rec[rows, best].float(), every_kl[rows, best].float()
        for i, label in zip(unknown, best.tolist()):
            told[i] = label
    known = [i for i, label in enumerate(labels) if label is not None]
    if known:
        y = torch.tensor([labels[i] for i in known])
        if bound:
            rebuilt, known_rec, known_kl = _posterior_mean_pass(model, x[known], y)
            rec[known], kl[known] = known_rec.float(), known_kl.float()
        else:
            rebuilt = model.reconstruct(x[known], y)
        recon[known] = rebuilt.float()
    return recon, told, (rec, kl) if bound else None


@inference
def reconstruct(model: GenerativeModel, x: torch.Tensor, *, label: int | None = None, name: str = "") -> Reconstruction:
    """One model's reconstruction of x (1, 1, 28, 28), with its error; for a model with a bound on -log p(x), its
    reconstruction and KL nats. For a conditional model, ``label`` None means the most likely class."""
    recon, told, nats = _rebuild(model, x, [label])
    details: dict = {}
    if model.conditional:
        details["class_source"] = "chosen" if label is not None else "most likely"
        details["class"] = model.class_names[told[0]]
    if nats is not None:
        details["rec_nats"], details["kl_nats"] = float(nats[0][0]), float(nats[1][0])
    return Reconstruction(name or model.kind, model.kind, to_uint8(recon)[0],
                          float((recon - x).pow(2).mean()), float(psnr(recon, x)[0]), details)


@inference
def reconstruct_images(model: GenerativeModel, x: torch.Tensor, labels: list[int | None]) -> np.ndarray:
    """``reconstruct``'s pictures for a batch (B, 1, 28, 28) in one pass per model: uint8 (B, 28, 28).
    labels: one per picture, for a conditional model (None: its most likely class); ignored otherwise."""
    return to_uint8(_rebuild(model, x, labels)[0])


# ------------------------------------------------------------- reading

@inference
def classify(model: GenerativeModel, x: torch.Tensor, *, top: int = 3) -> list[tuple[str, float]]:
    """What a classifier checkpoint reads in x (1, 1, 28, 28): the ``top`` most probable
    classes as (class name, probability in [0, 1]), most probable first."""
    return classify_many(model, x, top=top)[0]


@inference
def classify_many(model: GenerativeModel, x: torch.Tensor, *, top: int = 3) -> list[list[tuple[str, float]]]:
    """classify() for each of x (B, 1, 28, 28), in one pass."""
    if not model.can("reads"):
        raise ExploreError(f"a {model.kind} does not read pictures (it is not a classifier): "
                           "pick a <dataset>-classifier checkpoint")
    _, probabilities = model.predict(x)
    values, indices = probabilities.topk(min(int(top), model.num_classes), dim=1)
    return [[(model.class_names[int(i)], float(p)) for p, i in zip(row_values, row_indices)]
            for row_values, row_indices in zip(values, indices)]


@inference
def exact_nats(model: GenerativeModel, x: torch.Tensor) -> float:
    """The exact -log p(x) of one picture x (1, 1, 28, 28), in nats, from a model that has one (a PixelCNN)."""
    if not model.can("exact_likelihood"):
        raise ExploreError(f"a {model.kind} has no exact likelihood: pick an autoregressive model (a PixelCNN)")
    return float(model.nll(x)[0])


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


@inference
def denoise(models: dict[str, GenerativeModel], clean: torch.Tensor, noisy: torch.Tensor) -> list[Denoised]:
    """The noisy input and each model's reconstruction of it, scored against the clean image."""
    results = [Denoised("noisy input", to_uint8(noisy)[0], float(psnr(noisy, clean)[0]), float(ssim(noisy, clean)[0]))]
    for name, model in models.items():
        y = torch.tensor([best_class(model, noisy)[0]]) if model.conditional else None
        out = model.reconstruct(noisy, y)
        results.append(Denoised(name, to_uint8(out)[0], float(psnr(out, clean)[0]), float(ssim(out, clean)[0])))
    return results
