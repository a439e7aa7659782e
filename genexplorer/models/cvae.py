"""Conditional VAE (Sohn et al. 2015): the one-hot class is concatenated to the encoder's
input (as extra image channels) and to the decoder's input (beside z)."""
from __future__ import annotations

from dataclasses import dataclass

from .vae import VAE, VAEConfig


@dataclass
class CVAEConfig(VAEConfig):
    conditional: bool = True

    def validate(self) -> None:
        super().validate()
        if not self.conditional:
            raise ValueError("a cvae is conditional by definition; use kind 'vae' for an unconditional one")


class CVAE(VAE):
    """The VAE's networks with the condition wired in; everything else is the VAE's."""
    kind = "cvae"
    config_class = CVAEConfig
