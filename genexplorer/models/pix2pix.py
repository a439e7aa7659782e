"""pix2pix (Isola et al. 2017) for 28x28 sketches: a U-Net turns an edge map (genexplorer.edges) into a picture,
trained with L1 to the true picture (weight 100) plus the adversarial loss of a PatchGAN discriminator that
judges (sketch, picture) pairs patch by patch. ``adversarial_weight=0`` is the L1-only twin: the blur lesson,
since L1 alone settles for the median of every picture that fits the sketch."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
import torch.nn.functional as F

from ..edges import edges, is_blank
from .base import GenerativeModel, ModelConfig, UnsupportedOperation
from .family import PictureToPictureFamily, option, spread


@dataclass
class Pix2PixConfig(ModelConfig):
    latent_dim: int = 1              # no code: kept for the shared config; unused
    channels: int = 32               # the U-Net's first width; then 2x and 4x
    l1_weight: float = 100.0         # lambda of the paper
    adversarial_weight: float = 1.0  # 0: the L1-only twin
    dropout: float = 0.5             # in the decoder, train time only: the paper's noise source

    def validate(self) -> None:
        super().validate()
        if not 4 <= self.channels <= 128:
            raise ValueError(f"channels must be between 4 and 128, got {self.channels}")
        if not 0 <= self.adversarial_weight <= 10 or not 0 < self.l1_weight <= 1000:
            raise ValueError("the adversarial weight must be in [0, 10] and the L1 weight in (0, 1000]")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.conditional:
            raise ValueError("pix2pix is conditioned on the sketch, not on a class")


def _down(cin: int, cout: int, norm: bool = True) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, 4, stride=2, padding=1)]
    if norm:
        layers.append(nn.BatchNorm2d(cout))
    return nn.Sequential(*layers, nn.LeakyReLU(0.2))


def _up(cin: int, cout: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1), nn.BatchNorm2d(cout),
                         nn.Dropout(dropout), nn.ReLU())


class UNet(nn.Module):
    """(B, in_channels, 28, 28) -> (B, 1, 28, 28) logits; skips join each decoder level to its encoder level.
    ``middle``: the (B, 4c, 7, 7) -> (B, 4c, 7, 7) layer at the bottom (default: a dilated 3x3 conv, a wide view)."""

    def __init__(self, c: int, dropout: float, *, in_channels: int = 1, middle: nn.Module | None = None):
        super().__init__()
        self.inc = nn.Sequential(nn.Conv2d(in_channels, c, 3, padding=1), nn.LeakyReLU(0.2))   # (B, c, 28, 28)
        self.down1 = _down(c, 2 * c)                                                       # (B, 2c, 14, 14)
        self.down2 = _down(2 * c, 4 * c)                                                   # (B, 4c, 7, 7)
        self.middle = middle if middle is not None else nn.Sequential(
            nn.Conv2d(4 * c, 4 * c, 3, padding=2, dilation=2), nn.BatchNorm2d(4 * c), nn.ReLU())  # (B, 4c, 7, 7)
        self.up2 = _up(8 * c, 2 * c, dropout)                                              # (B, 2c, 14, 14)
        self.up1 = _up(4 * c, c, 0.0)                                                      # (B, c, 28, 28)
        self.out = nn.Conv2d(2 * c, 1, 3, padding=1)                                       # (B, 1, 28, 28)

    def forward(self, sketch):
        a = self.inc(sketch)
        b = self.down1(a)
        c = self.down2(b)
        m = self.middle(c)
        u = self.up2(torch.cat([m, c], 1))
        u = self.up1(torch.cat([u, b], 1))
        return self.out(torch.cat([u, a], 1))


class PatchDiscriminator(nn.Module):
    """(sketch, picture) -> (B, 1, 7, 7) logits: is each 16x16 patch of the pair real? (the PatchGAN)"""

    def __init__(self, c: int):
        super().__init__()
        self.net = nn.Sequential(_down(2, c, norm=False), _down(c, 2 * c),                  # (B, 2c, 7, 7)
                                 nn.Conv2d(2 * c, 1, 3, padding=1))                         # (B, 1, 7, 7)

    def forward(self, sketch, picture):
        return self.net(torch.cat([sketch, picture * 2 - 1], 1))


class Pix2Pix(GenerativeModel):
    config_class = Pix2PixConfig
    abilities = frozenset({"translates"})

    def __init__(self, config: Pix2PixConfig):
        super().__init__(config)
        self.generator = UNet(config.channels, config.dropout)
        self.discriminator = PatchDiscriminator(config.channels) if config.adversarial_weight > 0 else None

    @property
    def kind(self) -> str:
        return "pix2pix"

    @property
    def adversarial(self) -> bool:
        return self.discriminator is not None

    def can(self, ability: str) -> bool:
        return super().can(ability) or (ability == "adversarial" and self.adversarial)

    def encode(self, x, y=None):
        raise UnsupportedOperation("pix2pix has no code: it translates a sketch, use translate(edges)")

    def decode(self, z, y=None):
        raise UnsupportedOperation("pix2pix has no code to decode: use translate(edges)")

    def sample(self, n, y=None, generator=None):
        raise UnsupportedOperation("pix2pix translates a sketch into a picture; it does not draw from nothing")

    def reconstruct(self, x, y=None):
        raise UnsupportedOperation("pix2pix translates a sketch: use translate(gx.edges(x))")

    @staticmethod
    def edges(x: torch.Tensor) -> torch.Tensor:
        return edges(x)

    @torch.no_grad()
    def translate(self, sketch: torch.Tensor) -> torch.Tensor:
        """Edge maps (B, 1, 28, 28) in [0, 1] (``gx.edges`` of pictures, or a drawing) -> pictures in [0, 1]."""
        sketch = self._check_images(torch.as_tensor(sketch).float())
        if not torch.isfinite(sketch).all():
            raise ValueError("the sketch contains NaN or infinite values")
        if is_blank(sketch).any():
            raise ValueError("the sketch is blank: draw an outline first")
        return torch.sigmoid(self.generator(sketch.to(self.device).clamp(0, 1)))

    def loss(self, x, y=None):
        """The L1-only loss (the twin's), or the generator's L1 + adversarial loss with the PatchGAN's loss
        beside it as "d_loss" (computed on the generated pictures, detached)."""
        x = self._check_images(x).to(self.device)
        sketch = edges(x)
        fake = torch.sigmoid(self.generator(sketch))
        l1 = (fake - x).abs().mean()
        if not self.adversarial:
            return {"loss": self.config.l1_weight * l1, "l1": l1}
        fake_logits = self.discriminator(sketch, fake)
        adv = F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
        real_logits = self.discriminator(sketch, x)
        detached = self.discriminator(sketch, fake.detach())
        d_loss = 0.5 * (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                        + F.binary_cross_entropy_with_logits(detached, torch.zeros_like(detached)))
        return {"loss": self.config.adversarial_weight * adv + self.config.l1_weight * l1, "l1": l1, "adv": adv,
                "d_loss": d_loss, "d_real": torch.sigmoid(real_logits).mean(), "d_fake": torch.sigmoid(detached).mean()}

    def generator_parameters(self):
        return list(self.generator.parameters())


# ------------------------------------------------------------ the family

@dataclass
class Pix2PixOptions:
    width: int | None = option(None, "the U-Net's first width (default 32; then 2x and 4x)", low=4, high=128)
    adversarial_weight: float | None = option(
        None, "weight of the adversarial term (default 1, the paper's; 0 trains the L1-only twin)", low=0.0, high=10.0)


class Pix2PixFamily(PictureToPictureFamily):
    """pix2pix (Isola et al. 2017): a sketch turned into a picture."""
    model_class = Pix2Pix
    Options = Pix2PixOptions
    title = "pix2pix (sketch to picture)"

    def curves(self):
        return ("l1",), ("adv", "d_loss")

    def checkpoint_notes(self, config, metrics):
        weight = config["adversarial_weight"]
        return [f"translations of the test edges: PSNR {metrics['test_psnr']:.1f} dB; "
                + (f"adversarial weight {weight:g}, L1 {config['l1_weight']:g}" if weight else "L1 only")]


    @torch.no_grad()
    def evaluate(self, model: Pix2Pix, images, labels):
        """The test pictures' own edge maps translated: mean absolute error and PSNR."""
        from ..metrics import psnr

        l1 = peak = 0.0
        for x in images.split(500):
            out = model.translate(edges(x))
            l1 += float((out - x).abs().mean(dim=(1, 2, 3)).sum())
            peak += float(psnr(out, x).sum())
        return {"test_l1": round(l1 / len(images), 5), "test_psnr": round(peak / len(images), 5)}

    @torch.no_grad()
    def preview(self, model: Pix2Pix, test_x, test_y, generator):
        """Test pictures, their edge maps, and the translations: three rows of 16."""
        x = test_x[spread(test_x)]
        sketch = edges(x)
        return torch.cat([x.cpu(), sketch.cpu(), model.translate(sketch).cpu()]), 16
