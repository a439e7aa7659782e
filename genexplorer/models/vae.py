"""Variational autoencoder (Kingma & Welling 2014) with a Gaussian posterior and Bernoulli pixels."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .base import (ClassEveryLayerDecoder, ConvDecoder, ConvEncoder, ConvNetConfig, GenerativeModel, bce_per_image,
                   class_planes)
from .family import Family, option, reconstruction_metrics, reconstruction_preview


@dataclass
class VAEConfig(ConvNetConfig):
    beta: float = 1.0   # weight of the KL term (beta-VAE, Higgins et al. 2017); 1 is the ELBO
    class_every_layer: bool = False   # conditional only: the class fed to every decoder layer, not its input alone

    def validate(self) -> None:
        super().validate()
        if self.class_every_layer and not self.conditional:
            raise ValueError("class_every_layer feeds the class to the decoder: only a conditional model has one")
        if self.class_every_layer and self.blocks:
            raise ValueError("class_every_layer is a decoder of its own, without residual blocks")
        if not 0.0 <= self.beta <= 100.0:
            raise ValueError(f"beta must be in [0, 100], got {self.beta}")


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, I)) summed over latent dims, in nats: (B,).
    Closed form, Kingma & Welling 2014, appendix B."""
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)


class VAE(GenerativeModel):
    kind = "vae"
    config_class = VAEConfig
    abilities = frozenset({"encodes", "decodes", "samples", "bound_likelihood", "gaussian_latent"})

    def __init__(self, config: VAEConfig):
        super().__init__(config)
        extra = config.num_classes if config.conditional else 0
        # The encoder outputs mu and logvar side by side.
        self.encoder = ConvEncoder(1 + extra, config.channels, config.hidden, 2 * config.latent_dim, config.blocks)
        if config.class_every_layer:
            self.decoder = ClassEveryLayerDecoder(config.latent_dim, extra, config.channels, config.hidden)
        else:
            self.decoder = ConvDecoder(config.latent_dim + extra, config.channels, config.hidden, config.blocks)

    def posterior(self, x, y=None):
        """q(z | x): (mu, logvar), each (B, latent_dim)."""
        x = self._check_images(x).to(self.device)
        y = self._labels(y, x.shape[0])
        if y is not None:
            x = torch.cat([x, class_planes(self._one_hot(y))], dim=1)
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        # Bounded so an odd input cannot overflow exp(); the range is far wider than training uses.
        return mu, logvar.clamp(-30.0, 20.0)

    def encode(self, x, y=None):
        """The posterior mean: the most likely code, what the maps and sliders show."""
        return self.posterior(x, y)[0]

    def decode_logits(self, z, y=None):
        z = self._check_latent(z)
        y = self._labels(y, z.shape[0])
        if y is not None:
            z = torch.cat([z, self._one_hot(y)], dim=1)
        return self.decoder(z)

    def decode(self, z, y=None):
        return torch.sigmoid(self.decode_logits(z, y))

    @staticmethod
    def reparameterize(mu, logvar, *, generator=None):
        """z = mu + sigma * eps with eps ~ N(0, I): sampling that gradients flow through."""
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + torch.exp(0.5 * logvar) * eps

    def elbo_terms(self, x, y=None, *, generator=None):
        """Per-image reconstruction (BCE, nats) and KL (nats): each (B,). Their sum is -ELBO."""
        mu, logvar = self.posterior(x, y)
        z = self.reparameterize(mu, logvar, generator=generator)
        rec = bce_per_image(self.decode_logits(z, y), x.to(self.device))
        return rec, gaussian_kl(mu, logvar)

    def loss(self, x, y=None):
        rec, kl = self.elbo_terms(x, y)
        rec, kl = rec.mean(), kl.mean()
        return {"loss": rec + self.config.beta * kl, "rec": rec, "kl": kl, "neg_elbo": rec + kl}


# ------------------------------------------------------------ the family

@dataclass
class VAEOptions:
    latent_dim: int = option(16, "numbers in the code", low=1, high=4096)
    width: int | None = option(None, "channels of the first convolution (default 32; the second has twice)",
                               low=1, high=256)
    conditional: bool = option(False, "class-conditional (the CVAE): the class beside the picture and the code")
    beta: float = option(1.0, "weight of the KL term (beta-VAE); 1 trains on the ELBO", low=0.0, high=100.0)
    blocks: int = option(0, "residual 3x3 blocks at each resolution (deeper, slower)", low=0, high=8)
    class_every_layer: bool = option(False, "conditional only: the class fed to every decoder layer, not its input alone")


class VAEFamily(Family):
    """The VAE and, with the class, the CVAE."""
    model_class = VAE
    Options = VAEOptions
    title = "variational autoencoder"

    def curves(self):
        return (("rec", "kl"),)

    def checkpoint_notes(self, config, metrics):
        notes = [f"beta {config['beta']:g}"] if config.get("beta", 1.0) != 1.0 else []
        if config.get("blocks"):
            notes.append(f"{config['blocks']} residual block(s) per resolution")
        if config.get("class_every_layer"):
            notes.append("the class at every decoder layer")
        return notes

    def check_options(self, options: VAEOptions) -> None:
        if options.class_every_layer and not options.conditional:
            raise ValueError("--class-every-layer is a setting of the conditional VAE (cvae)")
        if options.class_every_layer and options.blocks:
            raise ValueError("--class-every-layer is a decoder of its own, without residual blocks")

    def evaluate(self, model, images, labels):
        generator = torch.Generator().manual_seed(0)

        def elbo_terms(x, y):
            rec, kl = model.elbo_terms(x, y, generator=generator if x.device.type == "cpu" else None)
            return {"rec_nats": rec, "kl_nats": kl, "neg_elbo_nats": rec + kl}
        return reconstruction_metrics(model, images, labels, more=elbo_terms)

    def preview(self, model, test_x, test_y, generator):
        return reconstruction_preview(model, test_x, test_y, generator)
