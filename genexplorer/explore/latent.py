"""Decoding codes: the latent sliders, the 2-D manifold, walks between two pictures, tours between random codes,
samples from the prior, and the strips' exports."""
from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image

from ..images import grid, to_uint8
from ..models import GenerativeModel
from .inputs import ExploreError, check_label, finite, inference, seeded_generator
from .reconstruct import best_class

MAX_STEPS = 64
MAX_SAMPLES = 100


def check_latent(model: GenerativeModel, values) -> torch.Tensor:
    """A list of slider values -> (1, latent_dim), each finite and within +/-10."""
    values = list(values)
    if len(values) != model.latent_dim:
        raise ExploreError(f"this model has {model.latent_dim} latent dimensions, got {len(values)} values")
    return torch.tensor([[finite(v, "latent value", -10.0, 10.0) for v in values]], dtype=torch.float32)


def decode_image(model: GenerativeModel, z: torch.Tensor, label: int | None = None) -> np.ndarray:
    """(1, latent_dim) -> uint8 (28, 28). The hot path of the latent sliders."""
    return decode_images(model, z, label)[0]


@inference
def decode_images(model: GenerativeModel, z: torch.Tensor, label: int | None = None) -> np.ndarray:
    """(B, latent_dim) -> uint8 (B, 28, 28), every code under one class (a conditional model; default 0)."""
    y = None
    if model.conditional:
        label = check_label(0 if label is None else int(label), model.num_classes)
        y = torch.full((z.shape[0],), label)
    return to_uint8(model.decode(z, y))


@inference
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
        if not model.can("encodes"):
            raise ExploreError(f"a {model.kind} has no encoder, so it cannot start from a drawing: pick random or zero")
        y = torch.tensor([label if label is not None else best_class(model, x)[0]]) if model.conditional else None
        return model.encode(x, y)
    raise ExploreError(f"unknown start {mode!r}: use drawing, random or zero")


@inference
def manifold(model: GenerativeModel, *, size: int = 15, extent: float | None = None, codes: np.ndarray | None = None,
             label: int = 0) -> np.ndarray:
    """Decode a size x size grid over a 2-D latent plane: uint8 picture.

    Codes that follow N(0, I) (a VAE): spaced by Gaussian quantiles (Kingma & Welling 2014, fig. 4), so each cell
    covers the same prior mass. Codes with no prior (an AE): evenly over +/-extent; by default where its codes
    lie, +/- the 99th percentile of |codes| (the test set's codes (N, 2)), else +/-3.
    """
    if model.latent_dim != 2:
        raise ExploreError("the decoded manifold needs a model with a 2-D latent (ae2d, vae2d)")
    size = int(finite(size, "grid size", 2, 30))
    if extent is None:
        extent = float(np.percentile(np.abs(codes), 99)) if codes is not None and len(codes) else 3.0
    axis = torch.from_numpy(manifold_axis(model, size, extent)).float()
    # Rows run top to bottom from high to low z2, like a plot's y axis.
    z2, z1 = torch.meshgrid(axis.flip(0), axis, indexing="ij")
    z = torch.stack([z1.reshape(-1), z2.reshape(-1)], dim=1)
    y = torch.full((len(z),), label) if model.conditional else None
    return grid(to_uint8(model.decode(z, y)), ncols=size, pad=0)


def manifold_axis(model: GenerativeModel, size: int, extent: float) -> np.ndarray:
    """The latent coordinates of the manifold grid's columns (and, reversed, rows)."""
    if model.can("gaussian_latent"):
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


@inference
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


@inference
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

@inference
def prior_samples(model: GenerativeModel, count: int, seed: int, *, label: int | None = None) -> np.ndarray:
    """count samples from the prior: uint8 (count, 28, 28); the same seed, the same images."""
    count = int(finite(count, "number of samples", 1, MAX_SAMPLES))
    generator = seeded_generator(seed)
    z = torch.randn(count, model.latent_dim, generator=generator)
    y = None
    if model.conditional:
        y = torch.full((count,), int(label)) if label is not None else torch.randint(model.num_classes, (count,), generator=generator)
    return to_uint8(model.decode(z, y))


@inference
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


# -------------------------------------------------------------- exporting

def strip_png(rows: list[np.ndarray], *, scale: int = 3) -> bytes:
    """Rows of uint8 (S, 28, 28) -> one PNG with one row each."""
    from ..images import png_bytes, upscale

    width = max(len(r) for r in rows)
    picture = grid(np.concatenate([np.concatenate([r, np.zeros((width - len(r), 28, 28), np.uint8)]) for r in rows]),
                   ncols=width)
    return png_bytes(upscale(picture, scale))


def strip_gif(rows: list[np.ndarray], *, scale: int = 4, frame_ms: int = 120) -> bytes:
    """An animated GIF: frame i shows step i of every row side by side, there and back."""
    from ..images import upscale

    count = min(len(r) for r in rows)
    frames = []
    for i in list(range(count)) + list(range(count - 2, 0, -1)):
        picture = grid(np.stack([r[i] for r in rows]), ncols=len(rows))
        frames.append(Image.fromarray(upscale(picture, scale)))
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=frame_ms, loop=0)
    return buffer.getvalue()
