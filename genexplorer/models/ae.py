"""Autoencoder, and the denoising autoencoder (the same network trained on corrupted input)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..noise import TRAINING_NOISE, corrupt_for_training
from .base import ConvDecoder, ConvEncoder, ConvNetConfig, GenerativeModel, bce_per_image, class_planes


@dataclass
class AEConfig(ConvNetConfig):
    # Denoising (Vincent et al. 2008/2010): corrupt the input, reconstruct the clean image.
    noise: str = "none"          # "none", "gaussian", "salt_pepper", "masking" or "mixed"
    noise_level: float = 0.0     # training levels are drawn from [0, noise_level]
    reconstruction: str = "bce"  # "bce" (Bernoulli, in nats) or "mse" (summed squared error)

    def validate(self) -> None:
        super().validate()
        if self.noise not in TRAINING_NOISE:
            raise ValueError(f"unknown noise {self.noise!r}: use one of {TRAINING_NOISE}")
        if not 0.0 <= self.noise_level <= 1.0:
            raise ValueError(f"noise_level must be in [0, 1], got {self.noise_level}")
        if self.reconstruction not in ("bce", "mse"):
            raise ValueError(f"reconstruction must be 'bce' or 'mse', got {self.reconstruction!r}")


class AE(GenerativeModel):
    config_class = AEConfig

    def __init__(self, config: AEConfig):
        super().__init__(config)
        extra = config.num_classes if config.conditional else 0
        self.encoder = ConvEncoder(1 + extra, config.channels, config.hidden, config.latent_dim)
        self.decoder = ConvDecoder(config.latent_dim + extra, config.channels, config.hidden)

    @property
    def kind(self) -> str:
        return "ae" if self.config.noise == "none" else "dae"

    def encode(self, x, y=None):
        x = self._check_images(x).to(self.device)
        y = self._labels(y, x.shape[0])
        if y is not None:
            x = torch.cat([x, class_planes(self._one_hot(y))], dim=1)
        return self.encoder(x)

    def decode_logits(self, z, y=None):
        z = self._check_latent(z)
        y = self._labels(y, z.shape[0])
        if y is not None:
            z = torch.cat([z, self._one_hot(y)], dim=1)
        return self.decoder(z)

    def decode(self, z, y=None):
        return torch.sigmoid(self.decode_logits(z, y))

    def loss(self, x, y=None):
        noisy = corrupt_for_training(x, self.config.noise, self.config.noise_level)
        logits = self.decode_logits(self.encode(noisy, y), y)
        mse = (torch.sigmoid(logits) - x).pow(2).flatten(1).sum(1).mean()
        if self.config.reconstruction == "bce":
            rec = bce_per_image(logits, x).mean()
        else:
            rec = mse
        return {"loss": rec, "rec": rec, "mse": mse}
