"""The one interface every generative model implements, and the layers they share."""
from __future__ import annotations

import abc
from dataclasses import asdict, dataclass, field

import torch
from torch import nn
import torch.nn.functional as F

IMAGE_SHAPE = (1, 28, 28)


class UnsupportedOperation(NotImplementedError):
    """The model cannot do this by design (a GAN has no encoder)."""


@dataclass
class ModelConfig:
    """Settings every family has. Subclasses add their own; shapes derive from these."""
    latent_dim: int = 16
    num_classes: int = 10
    conditional: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    def validate(self) -> None:
        if not 1 <= self.latent_dim <= 4096:
            raise ValueError(f"latent_dim must be between 1 and 4096, got {self.latent_dim}")
        if not 1 <= self.num_classes <= 1000:
            raise ValueError(f"num_classes must be between 1 and 1000, got {self.num_classes}")


class GenerativeModel(nn.Module, abc.ABC):
    """x: (B, 1, 28, 28) float in [0, 1]; y: (B,) int64 class labels; z: (B, latent_dim).

    ``dataset`` and ``class_names`` are set by the checkpoint loader (or the trainer),
    so a loaded model knows what it draws.
    """
    kind: str = "?"
    config_class = ModelConfig
    # Whether training feeds it the class labels even though it is not conditional (the classifier).
    trains_on_labels: bool = False
    # What it can be asked to do (names from family.ABILITIES); "conditional" comes from the config.
    abilities: frozenset[str] = frozenset()

    def __init__(self, config: ModelConfig):
        super().__init__()
        config.validate()
        self.config = config
        self.dataset = "?"
        self.class_names = tuple(str(i) for i in range(config.num_classes))

    # ----- facts
    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def num_classes(self) -> int:
        return self.config.num_classes

    @property
    def conditional(self) -> bool:
        return self.config.conditional

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def can(self, ability: str) -> bool:
        """Whether this model has ``ability`` (one of family.ABILITIES): what pickers and tabs ask."""
        if ability == "conditional":
            return self.conditional
        return ability in self.abilities

    # ----- the interface
    @abc.abstractmethod
    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 1, 28, 28) -> (B, latent_dim)."""

    @abc.abstractmethod
    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """(B, latent_dim) -> (B, 1, 28, 28) float in [0, 1]."""

    @abc.abstractmethod
    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Training loss on a batch: a dict with a scalar "loss" plus named terms (per image means)."""

    def posterior(self, x: torch.Tensor, y: torch.Tensor | None = None):
        raise UnsupportedOperation(f"a {self.kind} has no posterior distribution: only vae and cvae do")

    def prior_sample(self, n: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """n latent vectors from the prior N(0, I): (n, latent_dim)."""
        return torch.randn(n, self.latent_dim, generator=generator).to(self.device)

    @torch.no_grad()
    def sample(self, n: int, y=None, generator: torch.Generator | None = None) -> torch.Tensor:
        """n new images (n, 1, 28, 28). Conditional models take y (n,) or draw classes uniformly."""
        z = self.prior_sample(n, generator=generator)
        if self.conditional and y is None:
            y = torch.randint(self.num_classes, (n,), generator=generator)
        return self.decode(z, self._labels(y, n))

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode(self.encode(x, y), y)

    # ----- helpers for subclasses
    def _labels(self, y, batch: int) -> torch.Tensor | None:
        """Check and place the class labels a conditional model needs; None for the others."""
        if not self.conditional:
            return None
        if y is None:
            raise ValueError(f"this {self.kind} is class-conditional: pass y, the class labels (B,)")
        y = torch.as_tensor(y, dtype=torch.long, device=self.device).reshape(-1)
        if y.numel() == 1 and batch > 1:
            y = y.expand(batch)
        if y.numel() != batch:
            raise ValueError(f"got {y.numel()} labels for a batch of {batch}")
        if (y < 0).any() or (y >= self.num_classes).any():
            raise ValueError(f"class labels must be in [0, {self.num_classes - 1}]")
        return y

    def _one_hot(self, y: torch.Tensor) -> torch.Tensor:
        return F.one_hot(y, self.num_classes).float()

    @staticmethod
    def _check_images(x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or tuple(x.shape[1:]) != IMAGE_SHAPE:
            raise ValueError(f"expected images of shape (B, 1, 28, 28), got {tuple(x.shape)}")
        return x

    def _check_latent(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"expected latents of shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        return z.to(self.device, torch.float32)


# ------------------------------------------------------------ shared layers

@dataclass
class ConvNetConfig(ModelConfig):
    """The small conv encoder/decoder pair shared by the AE, VAE and CVAE."""
    channels: int = 32          # first conv width; the second is twice this
    hidden: int = 128           # dense layer between the convs and the code
    blocks: int = 0             # residual 3x3 blocks at each resolution (0: the small two-conv nets)

    def validate(self) -> None:
        super().validate()
        if not 0 <= self.blocks <= 8:
            raise ValueError(f"blocks must be between 0 and 8, got {self.blocks}")


class ResidualBlock(nn.Module):
    """x + conv(relu(conv(relu(x)))), 3x3, same width: depth without losing the picture (He et al. 2016)."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1),
                                  nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1))

    def forward(self, x):
        return x + self.body(x)


def residual_blocks(channels: int, count: int) -> list[nn.Module]:
    return [ResidualBlock(channels) for _ in range(count)]


class ConvEncoder(nn.Module):
    """(B, in_channels, 28, 28) -> (B, out_features). ``blocks`` residual blocks after each convolution."""

    def __init__(self, in_channels: int, channels: int, hidden: int, out_features: int, blocks: int = 0):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, channels, 4, stride=2, padding=1),      # (B, c, 14, 14)
            *residual_blocks(channels, blocks),
            nn.ReLU(),
            nn.Conv2d(channels, 2 * channels, 4, stride=2, padding=1),     # (B, 2c, 7, 7)
            *residual_blocks(2 * channels, blocks),
            nn.ReLU(),
            nn.Flatten(),                                                  # (B, 2c*49)
            nn.Linear(2 * channels * 49, hidden),                          # (B, hidden)
            nn.ReLU(),
            nn.Linear(hidden, out_features),                               # (B, out)
        )

    def forward(self, x):
        return self.net(x)


class ConvDecoder(nn.Module):
    """(B, in_features) -> (B, 1, 28, 28) logits. With ``blocks``, residual blocks at 7x7, 14x14 and 28x28
    (the last at full size, then a 3x3 convolution to the logits): room for sharp edges."""

    def __init__(self, in_features: int, channels: int, hidden: int, blocks: int = 0):
        super().__init__()
        if blocks:
            last = [nn.ConvTranspose2d(channels, channels, 4, stride=2, padding=1),    # (B, c, 28, 28)
                    *residual_blocks(channels, blocks), nn.ReLU(),
                    nn.Conv2d(channels, 1, 3, padding=1)]                             # (B, 1, 28, 28)
        else:
            last = [nn.ConvTranspose2d(channels, 1, 4, stride=2, padding=1)]          # (B, 1, 28, 28)
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden),                                # (B, hidden)
            nn.ReLU(),
            nn.Linear(hidden, 2 * channels * 49),                          # (B, 2c*49)
            nn.ReLU(),
            nn.Unflatten(1, (2 * channels, 7, 7)),                         # (B, 2c, 7, 7)
            *residual_blocks(2 * channels, blocks),
            nn.ConvTranspose2d(2 * channels, channels, 4, stride=2, padding=1),  # (B, c, 14, 14)
            *residual_blocks(channels, blocks),
            nn.ReLU(),
            *last,
        )

    def forward(self, z):
        return self.net(z)


class ClassEveryLayerDecoder(nn.Module):
    """ConvDecoder's layers with the class fed to each of them, not to the first alone:
    (B, latent + classes) -> (B, 1, 28, 28) logits, the one-hot class in the last ``classes`` columns.

    Fed only at the input, the class can fade on its way through a decoder that learned to lean on z
    (a CVAE with a wide code keeps the class in z too); at every layer each stage sees it again."""

    def __init__(self, latent_dim: int, classes: int, channels: int, hidden: int):
        super().__init__()
        self.classes = classes
        self.dense1 = nn.Linear(latent_dim + classes, hidden)
        self.dense2 = nn.Linear(hidden + classes, 2 * channels * 49)
        self.channels = channels
        self.up1 = nn.ConvTranspose2d(2 * channels + classes, channels, 4, stride=2, padding=1)   # (B, c, 14, 14)
        self.up2 = nn.ConvTranspose2d(channels + classes, 1, 4, stride=2, padding=1)              # (B, 1, 28, 28)

    def forward(self, z_and_class):
        one_hot = z_and_class[:, -self.classes:]
        h = F.relu(self.dense1(z_and_class))
        h = F.relu(self.dense2(torch.cat([h, one_hot], dim=1)))
        h = h.view(-1, 2 * self.channels, 7, 7)
        h = F.relu(self.up1(torch.cat([h, class_planes(one_hot, 7)], dim=1)))
        return self.up2(torch.cat([h, class_planes(one_hot, 14)], dim=1))


def class_planes(y_one_hot: torch.Tensor, size: int = 28) -> torch.Tensor:
    """(B, C) one-hot -> (B, C, size, size): the condition as extra image channels."""
    return y_one_hot[:, :, None, None].expand(-1, -1, size, size)


def bce_per_image(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Bernoulli negative log-likelihood summed over the 784 pixels, in nats: (B,)."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
