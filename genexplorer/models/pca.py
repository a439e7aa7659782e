"""PCA as an autoencoder: the linear autoencoder's optimum (Baldi & Hornik 1989; the lectures' deck 000).

A linear encoder z = W (x - mean) and decoder x_hat = W^T z + mean trained for squared error span the same
subspace as the top principal components; here that subspace is computed in closed form from the training
images (``fit``) instead of by gradient descent, and stored as buffers, so it saves and loads like any
checkpoint (safetensors, no pickle) and goes wherever an AE goes."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .base import GenerativeModel, ModelConfig
from .family import Family, option, reconstruction_metrics, reconstruction_preview

PIXELS = 784


@dataclass
class PCAConfig(ModelConfig):
    latent_dim: int = 16

    def validate(self) -> None:
        super().validate()
        if self.latent_dim > PIXELS:
            raise ValueError(f"PCA keeps at most {PIXELS} components (one per pixel), got {self.latent_dim}")
        if self.conditional:
            raise ValueError("PCA is not class-conditional")


class PCA(GenerativeModel):
    config_class = PCAConfig
    abilities = frozenset({"encodes", "decodes", "samples"})

    def __init__(self, config: PCAConfig):
        super().__init__(config)
        self.register_buffer("mean", torch.zeros(1, PIXELS))
        self.register_buffer("components", torch.zeros(config.latent_dim, PIXELS))   # orthonormal rows
        self.register_buffer("scale", torch.ones(config.latent_dim))                 # each code's std on the training set
        self.register_buffer("explained", torch.zeros(()))                           # share of the variance kept

    @property
    def kind(self) -> str:
        return "pca"

    @property
    def device(self) -> torch.device:
        return self.mean.device          # no parameters: the buffers say where it lives

    @torch.no_grad()
    def fit(self, images: torch.Tensor) -> "PCA":
        """The top ``latent_dim`` principal components of images (N, 1, 28, 28) in [0, 1], from the
        eigenvectors of their 784 x 784 covariance (float64). Each component's sign is fixed (its largest
        entry positive), so the same images always give the same model."""
        x = self._check_images(images).to(self.device).flatten(1).double()
        if len(x) < 2:
            raise ValueError("PCA needs at least 2 images")
        mean = x.mean(0, keepdim=True)
        centred = x - mean
        covariance = centred.T @ centred / (len(x) - 1)
        values, vectors = torch.linalg.eigh(covariance)                    # ascending
        order = torch.argsort(values, descending=True)[: self.latent_dim]
        components = vectors[:, order].T                                   # (k, 784)
        signs = torch.sign(components.gather(1, components.abs().argmax(1, keepdim=True)))
        components = components * signs
        self.mean.copy_(mean.float())
        self.components.copy_(components.float())
        self.scale.copy_(values[order].clamp_min(0).sqrt().float())
        self.explained.copy_((values[order].clamp_min(0).sum() / values.clamp_min(0).sum()).float())
        return self

    def encode(self, x, y=None):
        x = self._check_images(x).to(self.device).flatten(1)
        return (x - self.mean) @ self.components.T

    def decode(self, z, y=None):
        z = self._check_latent(z)
        return (z @ self.components + self.mean).clamp(0.0, 1.0).reshape(-1, 1, 28, 28)

    def prior_sample(self, n: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """Codes with the training codes' spread: a Gaussian along each component (probabilistic PCA without its noise)."""
        return torch.randn(n, self.latent_dim, generator=generator).to(self.device) * self.scale

    def loss(self, x, y=None):
        """Squared reconstruction error per image (PCA is fitted in closed form, not trained on this)."""
        mse = (self.reconstruct(x) - x.to(self.device)).pow(2).flatten(1).sum(1).mean()
        return {"loss": mse, "rec": mse, "mse": mse}


# ------------------------------------------------------------ the family

@dataclass
class PCAOptions:
    latent_dim: int = option(16, "principal components kept (at most 784)", low=1, high=PIXELS)


class PCAFamily(Family):
    """PCA: the linear autoencoder's optimum, fitted in closed form (no epochs, no optimiser)."""
    model_class = PCA
    Options = PCAOptions
    title = "PCA (closed form)"
    closed_form = True

    def checkpoint_notes(self, config, metrics):
        return [f"closed form; {100 * metrics['explained_variance']:.1f}% of the variance"]

    def fit_closed_form(self, model: PCA, images: torch.Tensor) -> dict:
        model.fit(images)
        return {"explained_variance": round(float(model.explained), 5)}

    def evaluate(self, model, images, labels):
        return reconstruction_metrics(model, images, labels)

    def preview(self, model, test_x, test_y, generator):
        return reconstruction_preview(model, test_x, test_y, generator)
