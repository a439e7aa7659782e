"""Context encoder (Pathak et al. 2016): a network that sees a picture with a hole (and where the hole is) and
paints the hole. Trained with an L2 loss on the hole, weight 0.999, plus an adversarial loss, weight 0.001, from a
discriminator that judges the filled picture: L2 alone gives the blurry average of every plausible filling, the
adversarial term pushes towards one sharp filling. ``adversarial_weight=0`` is the L2-only twin (the lesson).

Holes seen in training, so the page's painted masks work: a centre square, random blocks, and random brush strokes.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
import torch.nn.functional as F

from .base import GenerativeModel, ModelConfig, UnsupportedOperation
from .family import PictureToPictureFamily, option, spread
from .gan import Discriminator

HOLES = ("centre", "blocks", "strokes")   # the hole shapes random_holes draws


@dataclass
class ContextConfig(ModelConfig):
    latent_dim: int = 128             # dense bottleneck: the whole context in 128 numbers
    channels: int = 16                # first conv width; then 2x and 4x (small: four shipped checkpoints)
    # "dense": one fully connected layer through a latent_dim code. "channelwise": the paper's channel-wise
    # fully connected layer (each 7x7 feature map to a new 7x7 map, then a 1x1 conv mixes the channels):
    # every position can see every other, at a fraction of a dense layer's weights. "unet": the same
    # channel-wise layer at the bottom of a U-Net (pix2pix's), whose skips hand the hole's rim to the output
    # at full resolution, so strokes continue across the rim where they enter it.
    bottleneck: str = "dense"
    reconstruction_weight: float = 0.999
    adversarial_weight: float = 0.001  # 0: the L2-only twin

    def validate(self) -> None:
        super().validate()
        if not 4 <= self.channels <= 256:
            raise ValueError(f"channels must be between 4 and 256, got {self.channels}")
        if not 0 <= self.adversarial_weight <= 1 or not 0 < self.reconstruction_weight <= 1:
            raise ValueError("the loss weights must be in [0, 1] (reconstruction above 0)")
        if self.conditional:
            raise ValueError("the context encoder is not class-conditional")
        if self.bottleneck not in BOTTLENECKS:
            raise ValueError(f"unknown bottleneck {self.bottleneck!r}: use one of {BOTTLENECKS}")


BOTTLENECKS = ("dense", "channelwise", "unet")


class ChannelwiseFC(nn.Module):
    """(B, C, H, W) -> (B, C, H, W): each channel's map through its own (H*W x H*W) fully connected layer,
    then a 1x1 convolution across channels (Pathak et al. 2016, section 3.1)."""

    def __init__(self, channels: int, size: int = 7):
        super().__init__()
        self.size = size
        self.weight = nn.Parameter(torch.randn(channels, size * size, size * size) / size)
        self.bias = nn.Parameter(torch.zeros(channels, size * size))
        self.mix = nn.Conv2d(channels, channels, 1)

    def forward(self, h):
        b, c = h.shape[:2]
        spread = torch.einsum("bci,cij->bcj", h.flatten(2), self.weight) + self.bias
        return self.mix(F.leaky_relu(spread, 0.2).reshape(b, c, self.size, self.size))


def _channelwise_block(channels: int) -> nn.Sequential:
    """The channel-wise layer as both bottlenecks that use it have it: (B, C, 7, 7) -> (B, C, 7, 7)."""
    return nn.Sequential(ChannelwiseFC(channels), nn.BatchNorm2d(channels), nn.ReLU())


def random_holes(batch: int, *, generator: torch.Generator | None = None, hole: str | None = None) -> torch.Tensor:
    """bool (batch, 1, 28, 28), True = hidden: a third centre squares (10 to 16 pixels, jittered), a third 1-3
    random blocks, a third 1-3 brush strokes (random walks 2-3 pixels wide); each hides from about 3 % to half
    of the picture. ``hole`` (one of HOLES): every hole of that shape (the benchmark's tables)."""
    if hole is not None and hole not in HOLES:
        raise ValueError(f"unknown hole {hole!r}: use one of {HOLES}")
    hidden = torch.zeros(batch, 1, 28, 28, dtype=torch.bool)
    shapes = torch.randint(0, 3, (batch,), generator=generator)
    for b in range(batch):
        _draw_hole(hidden[b, 0], HOLES.index(hole) if hole is not None else int(shapes[b]), generator)
    return hidden


def _draw_hole(hidden: torch.Tensor, shape: int, generator: torch.Generator | None) -> None:
    """Mark one hole of HOLES[shape] in hidden (28, 28) bool."""
    if shape == 0:
        size = int(torch.randint(10, 17, (1,), generator=generator))
        top, left = (torch.randint(-2, 3, (2,), generator=generator) + (28 - size) // 2).tolist()
        hidden[top: top + size, left: left + size] = True
    elif shape == 1:
        for _ in range(int(torch.randint(1, 4, (1,), generator=generator))):
            h, w = torch.randint(6, 15, (2,), generator=generator).tolist()
            top, left = int(torch.randint(0, 28 - h + 1, (1,), generator=generator)), \
                int(torch.randint(0, 28 - w + 1, (1,), generator=generator))
            hidden[top: top + h, left: left + w] = True
    else:
        for _ in range(int(torch.randint(1, 4, (1,), generator=generator))):
            y, x = torch.randint(4, 24, (2,), generator=generator).tolist()
            width = int(torch.randint(2, 4, (1,), generator=generator))
            for _ in range(int(torch.randint(15, 40, (1,), generator=generator))):
                hidden[max(y - 1, 0): y - 1 + width, max(x - 1, 0): x - 1 + width] = True
                dy, dx = torch.randint(-1, 2, (2,), generator=generator).tolist()
                y, x = min(max(y + dy, 1), 26), min(max(x + dx, 1), 26)


def centre_hole(size: int = 14) -> torch.Tensor:
    hidden = torch.zeros(1, 1, 28, 28, dtype=torch.bool)
    start = (28 - size) // 2
    hidden[..., start: start + size, start: start + size] = True
    return hidden


class ContextEncoder(GenerativeModel):
    config_class = ContextConfig
    abilities = frozenset({"fills_holes"})

    def __init__(self, config: ContextConfig):
        super().__init__(config)
        c, d = config.channels, config.latent_dim
        # In: the picture with its hole zeroed and the mask of known pixels, two channels. Out: logits.
        if config.bottleneck == "unet":
            from .pix2pix import UNet

            self.unet = UNet(c, 0.0, in_channels=2, middle=_channelwise_block(4 * c))
        else:
            convs = [
                nn.Conv2d(2, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2),                      # (B, c, 14, 14)
                nn.Conv2d(c, 2 * c, 4, stride=2, padding=1), nn.BatchNorm2d(2 * c), nn.LeakyReLU(0.2),   # (B, 2c, 7, 7)
                nn.Conv2d(2 * c, 4 * c, 3, stride=1, padding=1), nn.BatchNorm2d(4 * c), nn.LeakyReLU(0.2),  # (B, 4c, 7, 7)
            ]
            if config.bottleneck == "dense":
                self.encoder = nn.Sequential(*convs, nn.Flatten(), nn.Linear(4 * c * 49, d), nn.LeakyReLU(0.2))  # (B, d)
                into_maps = [nn.Linear(d, 4 * c * 49), nn.ReLU(), nn.Unflatten(1, (4 * c, 7, 7))]
            else:
                self.encoder = nn.Sequential(*convs, *_channelwise_block(4 * c))                          # (B, 4c, 7, 7)
                into_maps = []
            self.decoder = nn.Sequential(
                *into_maps,
                nn.ConvTranspose2d(4 * c, 2 * c, 4, stride=2, padding=1), nn.BatchNorm2d(2 * c), nn.ReLU(),   # (B, 2c, 14, 14)
                nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1), nn.BatchNorm2d(c), nn.ReLU(),           # (B, c, 28, 28)
                nn.Conv2d(c, 1, 3, padding=1),                                                                # (B, 1, 28, 28) logits
            )
        self.discriminator = Discriminator(1, c, 0.0) if config.adversarial_weight > 0 else None

    @property
    def kind(self) -> str:
        return "context_encoder"

    @property
    def adversarial(self) -> bool:
        return self.discriminator is not None

    def can(self, ability: str) -> bool:
        return super().can(ability) or (ability == "adversarial" and self.adversarial)

    # ----- the shared interface: a context encoder has no prior and no free code
    def encode(self, x, y=None):
        raise UnsupportedOperation("a context encoder encodes a picture with a hole: use inpaint(x, known)")

    def decode(self, z, y=None):
        raise UnsupportedOperation("a context encoder has no free code to decode: use inpaint(x, known)")

    def sample(self, n, y=None, generator=None):
        raise UnsupportedOperation("a context encoder fills holes; it does not draw new pictures")

    def reconstruct(self, x, y=None):
        raise UnsupportedOperation("a context encoder fills holes: use inpaint(x, known)")

    # ----- what it does
    def _check_known(self, x: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
        x = self._check_images(x)
        known = torch.as_tensor(known, device=x.device).float()
        if known.ndim != 4 or known.shape[1:] != x.shape[1:] or known.shape[0] not in (1, x.shape[0]):
            raise ValueError(f"known must be a mask of shape (B, 1, 28, 28) or (1, 1, 28, 28), got {tuple(known.shape)}")
        if not torch.isfinite(x).all():
            raise ValueError("the pictures contain NaN or infinite values")
        known = (known > 0.5).float().expand_as(x)
        per_image = known.flatten(1).sum(1)
        if (per_image == known[0].numel()).any():
            raise ValueError("the mask hides nothing: hide part of the picture (known = 0 there) to fill it")
        if (per_image == 0).any():
            raise ValueError("the mask hides the whole picture: a context encoder needs some context to fill a hole")
        return known

    def fill_logits(self, x: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
        """The network's whole picture (logits) from x with its hole zeroed and the mask."""
        x = x.to(self.device)
        known = known.to(self.device)
        given = torch.cat([x * known, known], dim=1)
        return self.unet(given) if self.config.bottleneck == "unet" else self.decoder(self.encoder(given))

    @torch.no_grad()
    def inpaint(self, x: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
        """x: (B, 1, 28, 28) in [0, 1]; known: the same shape (or one mask for all), 1 = keep.
        -> the full pictures, known pixels exactly as given, the hole painted."""
        known = self._check_known(x, known).to(self.device)
        x = x.to(self.device).clamp(0, 1)
        return torch.where(known > 0.5, x, torch.sigmoid(self.fill_logits(x, known)))

    def _filled(self, x: torch.Tensor, hidden: torch.Tensor):
        known = (~hidden).float().to(x.device)
        painted = torch.sigmoid(self.fill_logits(x, known))
        return known * x + (1 - known) * painted, painted

    def _hole_l2(self, painted, x, hidden) -> torch.Tensor:
        """Squared error on the hidden pixels, summed per picture (mean over the batch)."""
        return ((painted - x).pow(2) * hidden.float().to(x.device)).flatten(1).sum(1).mean()

    def loss(self, x, y=None):
        """The L2-only loss (the twin's), or for the adversarial model the generator's joint loss; the
        discriminator's loss comes with it as "d_loss" (computed on the filled pictures, detached)."""
        x = self._check_images(x).to(self.device)
        hidden = random_holes(x.shape[0]).to(self.device)
        filled, painted = self._filled(x, hidden)
        rec = self._hole_l2(painted, x, hidden)
        if not self.adversarial:
            return {"loss": rec, "rec": rec}
        w_rec, w_adv = self.config.reconstruction_weight, self.config.adversarial_weight
        fake_logits = self.discriminator(filled * 2 - 1)
        adv = F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))   # non-saturating
        real_logits = self.discriminator(x * 2 - 1)
        detached = self.discriminator(filled.detach() * 2 - 1)
        d_loss = (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                  + F.binary_cross_entropy_with_logits(detached, torch.zeros_like(detached)))
        return {"loss": w_rec * rec + w_adv * adv, "rec": rec, "adv": adv, "d_loss": d_loss,
                "d_real": torch.sigmoid(real_logits).mean(), "d_fake": torch.sigmoid(detached).mean()}

    def generator_parameters(self):
        return [p for name, p in self.named_parameters() if not name.startswith("discriminator.")]


# ------------------------------------------------------------ the family

@dataclass
class ContextOptions:
    width: int | None = option(None, "channels of the first convolution (default 16; then 2x and 4x)", low=4, high=256)
    latent_dim: int = option(128, "the dense bottleneck's code (the whole context in these numbers)", low=1, high=4096)
    bottleneck: str = option("dense", "a dense code, the paper's channel-wise fully connected layer, or that layer "
                             "at the bottom of a U-Net whose skips carry the hole's rim", choices=BOTTLENECKS)
    adversarial_weight: float | None = option(
        None, "weight of the adversarial term (default 0.001, the paper's; 0 trains the L2-only twin)", low=0.0, high=1.0)


class ContextFamily(PictureToPictureFamily):
    """The context encoder (Pathak et al. 2016): fills a hole from what surrounds it."""
    model_class = ContextEncoder
    Options = ContextOptions
    title = "context encoder (inpainting)"

    def curves(self):
        return ("rec",), ("adv", "d_loss")

    def checkpoint_notes(self, config, metrics):
        weight = config["adversarial_weight"]
        return [f"{config.get('bottleneck', 'dense')} bottleneck; centre 14x14 hole PSNR {metrics['test_hole_psnr']:.1f} "
                "dB; " + (f"adversarial weight {weight:g}" if weight else "L2 only")]

    def latent_size(self, config):
        return config["latent_dim"] if config.get("bottleneck", "dense") == "dense" else None


    @torch.no_grad()
    def evaluate(self, model: ContextEncoder, images, labels):
        """PSNR on the hidden pixels alone of the benchmark's hole, the centred 14x14 square."""
        from ..metrics import masked_psnr

        hidden = centre_hole().to(images.device)
        total = sum(float(masked_psnr(model.inpaint(x, ~hidden), x, hidden).sum()) for x in images.split(500))
        return {"test_hole_psnr": round(total / len(images), 5)}

    @torch.no_grad()
    def preview(self, model: ContextEncoder, test_x, test_y, generator):
        """Test pictures, the same with the centre hole, and the filled ones: three rows of 16."""
        x = test_x[spread(test_x)]
        hidden = centre_hole().to(x.device)
        return torch.cat([x.cpu(), torch.where(hidden, torch.full_like(x, 0.5), x).cpu(),
                          model.inpaint(x, ~hidden).cpu()]), 16
