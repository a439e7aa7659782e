"""Autoencoders: the convolutional AE, the denoising AE (the same network trained on corrupted input), and the
lectures' autoencoder zoo: a dense (fully connected) AE, and overcomplete codes, wider than the 784-pixel input,
plain or regularised by an L1 penalty on the code (the sparse AE)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
import torch.nn.functional as F

from ..noise import TRAINING_NOISE, corrupt_for_training
from .base import ConvDecoder, ConvEncoder, ConvNetConfig, GenerativeModel, bce_per_image, class_planes
from .family import Family, option, reconstruction_metrics, reconstruction_preview

ARCHITECTURES = ("conv", "dense")
CODE_ACTIVATIONS = ("linear", "relu")
PIXELS = 784


@dataclass
class AEConfig(ConvNetConfig):
    # Denoising (Vincent et al. 2008/2010): corrupt the input, reconstruct the clean image.
    noise: str = "none"          # "none", "gaussian", "salt_pepper", "masking" or "mixed"
    noise_level: float = 0.0     # training levels are drawn from [0, noise_level]
    reconstruction: str = "bce"  # "bce" (Bernoulli, in nats) or "mse" (summed squared error)
    architecture: str = "conv"   # "conv", or "dense": 784 -> hidden -> code and back (hidden 0: one layer each way)
    code_activation: str = "linear"   # "relu" gives a non-negative code whose zeros are exact (sparse AE)
    l1: float = 0.0              # sparse AE: weight of the L1 penalty on the code, lambda * sum_j |z_j| per image

    def validate(self) -> None:
        super().validate()
        if self.noise not in TRAINING_NOISE:
            raise ValueError(f"unknown noise {self.noise!r}: use one of {TRAINING_NOISE}")
        if not 0.0 <= self.noise_level <= 1.0:
            raise ValueError(f"noise_level must be in [0, 1], got {self.noise_level}")
        if self.reconstruction not in ("bce", "mse"):
            raise ValueError(f"reconstruction must be 'bce' or 'mse', got {self.reconstruction!r}")
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {self.architecture!r}: use one of {ARCHITECTURES}")
        if self.code_activation not in CODE_ACTIVATIONS:
            raise ValueError(f"unknown code activation {self.code_activation!r}: use one of {CODE_ACTIVATIONS}")
        if not 0.0 <= self.l1 <= 100.0:
            raise ValueError(f"the L1 weight must be in [0, 100], got {self.l1}")
        if not 0 <= self.hidden <= 4096:
            raise ValueError(f"hidden must be between 0 and 4096, got {self.hidden}")
        if self.architecture == "conv" and self.hidden < 1:
            raise ValueError("the conv AE needs a dense layer: hidden >= 1")

    @property
    def overcomplete(self) -> bool:
        """A code wider than the picture: with no regulariser it can learn to copy its input."""
        return self.latent_dim > PIXELS


def dense_net(inputs: int, hidden: int, outputs: int) -> nn.Sequential:
    """inputs -> hidden -> outputs with a ReLU between (hidden 0: one linear layer)."""
    if hidden == 0:
        return nn.Sequential(nn.Linear(inputs, outputs))
    return nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, outputs))


class AE(GenerativeModel):
    config_class = AEConfig
    abilities = frozenset({"encodes", "decodes", "samples"})

    def __init__(self, config: AEConfig):
        super().__init__(config)
        extra = config.num_classes if config.conditional else 0
        if config.architecture == "dense":
            if config.conditional:
                raise ValueError("a class-conditional dense AE is not offered: use the conv AE")
            self.encoder = nn.Sequential(nn.Flatten(), dense_net(PIXELS, config.hidden, config.latent_dim))
            self.decoder = nn.Sequential(dense_net(config.latent_dim, config.hidden, PIXELS), nn.Unflatten(1, (1, 28, 28)))
        else:
            self.encoder = ConvEncoder(1 + extra, config.channels, config.hidden, config.latent_dim, config.blocks)
            self.decoder = ConvDecoder(config.latent_dim + extra, config.channels, config.hidden, config.blocks)

    @property
    def kind(self) -> str:
        return "ae" if self.config.noise == "none" else "dae"

    def can(self, ability: str) -> bool:
        return super().can(ability) or (ability == "denoises" and self.config.noise != "none")

    def encode(self, x, y=None):
        x = self._check_images(x).to(self.device)
        y = self._labels(y, x.shape[0])
        if y is not None:
            x = torch.cat([x, class_planes(self._one_hot(y))], dim=1)
        z = self.encoder(x)
        return F.relu(z) if self.config.code_activation == "relu" else z

    def decode_logits(self, z, y=None):
        z = self._check_latent(z)
        y = self._labels(y, z.shape[0])
        if y is not None:
            z = torch.cat([z, self._one_hot(y)], dim=1)
        return self.decoder(z)

    def decode(self, z, y=None):
        return torch.sigmoid(self.decode_logits(z, y))

    def active_units(self, z: torch.Tensor, *, threshold: float = 1e-3) -> torch.Tensor:
        """(B,) how many code units are active (|z_j| above threshold): what the sparse AE's penalty cuts."""
        return (z.abs() > threshold).sum(1)

    def loss(self, x, y=None):
        noisy = corrupt_for_training(x, self.config.noise, self.config.noise_level)
        z = self.encode(noisy, y)
        logits = self.decode_logits(z, y)
        mse = (torch.sigmoid(logits) - x).pow(2).flatten(1).sum(1).mean()
        if self.config.reconstruction == "bce":
            rec = bce_per_image(logits, x).mean()
        else:
            rec = mse
        terms = {"loss": rec, "rec": rec, "mse": mse}
        if self.config.l1 > 0:
            # Sparse AE (Goodfellow et al., Deep Learning, 14.2.1): a code that must stay small in L1 uses few units.
            sparsity = z.abs().sum(1).mean()
            terms.update(loss=rec + self.config.l1 * sparsity, l1=sparsity, active=self.active_units(z).float().mean())
        return terms


# ------------------------------------------------------------ the family

@dataclass
class AEOptions:
    latent_dim: int = option(16, "numbers in the code", low=1, high=4096)
    width: int | None = option(None, "channels of the first convolution (default 32; the second has twice)",
                               low=1, high=256)
    conditional: bool = option(False, "class-conditional: the class beside the picture and the code")
    noise: str = option("none", "corruption of the training input: the denoising AE", choices=TRAINING_NOISE)
    noise_level: float = option(0.5, "largest training noise level (each batch's levels drawn from 0 to it)",
                                low=0.0, high=1.0)
    architecture: str = option("conv", "convolutional, or dense (fully connected: the zoo's)", choices=ARCHITECTURES)
    hidden: int | None = option(None, "width of the dense layer (a dense AE: 0 for one layer each way)",
                                low=0, high=4096)
    code_activation: str = option("linear", "relu makes the code non-negative with exact zeros (the sparse AE)",
                                  choices=CODE_ACTIVATIONS)
    l1: float = option(0.0, "weight of the L1 penalty on the code (the sparse AE)", low=0.0, high=100.0)
    blocks: int = option(0, "residual 3x3 blocks at each resolution (conv only: deeper, slower)", low=0, high=8)


class AEFamily(Family):
    """The autoencoders: conv and dense, plain, denoising (the DAE variant sets noise) and sparse."""
    model_class = AE
    Options = AEOptions
    title = "autoencoder"

    def curves(self):
        return (("rec",),)

    def checkpoint_notes(self, config, metrics):
        notes = []
        if config.get("noise", "none") != "none":
            notes.append(f"noise {config['noise']} up to {config['noise_level']}")
        if config.get("architecture") == "dense":
            hidden = config["hidden"]
            notes.append("dense, " + (f"784-{hidden}-code" if hidden else "one layer each way")
                         + (", ReLU code" if config.get("code_activation") == "relu" else "")
                         + (f", L1 {config['l1']:g}" if config.get("l1") else "")
                         + (", overcomplete" if config["latent_dim"] > PIXELS else ""))
        if config.get("blocks"):
            notes.append(f"{config['blocks']} residual block(s) per resolution")
        return notes

    def check_options(self, options: AEOptions) -> None:
        if options.blocks and options.architecture != "conv":
            raise ValueError("--blocks deepens the convolutional autoencoder: use it with --architecture conv")

    def model_config(self, options: AEOptions, num_classes: int) -> dict:
        config = super().model_config(options, num_classes)
        if options.noise == "none":
            config["noise_level"] = 0.0
        return config

    def evaluate(self, model, images, labels):
        return reconstruction_metrics(model, images, labels)

    def preview(self, model, test_x, test_y, generator):
        return reconstruction_preview(model, test_x, test_y, generator)
