"""The small U-Net (Ronneberger et al. 2015) that the diffusion model and the flow share.

It reads a noisy picture x_t, its noise level t in [0, 1] and, for a class-conditional model, a class, and
answers a picture-sized tensor: the noise in x_t (diffusion) or the velocity towards the picture (flow).
The ADM recipe (Dhariwal & Nichol 2021) at the size of MNIST: residual blocks with GroupNorm and SiLU, the
time and class embedding added to every block, two down-samplings 28 -> 14 -> 7 with skip connections
across, one self-attention block at 7x7, and zero-initialised last layers so each block starts as the
identity and the whole network starts by answering 0.
"""
from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F

GROUPS = 8   # GroupNorm groups: the width must be a multiple of this


def time_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of t (B,) in [0, 1] -> (B, dim), as the Transformer's positions (Vaswani et al.
    2017). t is scaled by 1000 so the fastest wave turns many times over [0, 1] while the slowest barely
    moves: the network can tell t = 0.001 from 0.002 as well as 0.1 from 0.9."""
    half = dim // 2
    frequencies = torch.exp(-math.log(10_000) * torch.arange(half, device=t.device) / half)   # (dim/2,)
    angles = 1000 * t.float()[:, None] * frequencies[None]                                     # (B, dim/2)
    return torch.cat([angles.sin(), angles.cos()], dim=1)                                      # (B, dim)


def zero(module: nn.Module) -> nn.Module:
    """The module with its weights set to zero: a residual branch that starts as nothing."""
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


class ResBlock(nn.Module):
    """GroupNorm, SiLU, 3x3 conv; plus the embedding (one bias per channel); GroupNorm, SiLU, 3x3 conv;
    plus the input (a 1x1 conv when the width changes). (B, c_in, H, W) -> (B, c_out, H, W)."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(GROUPS, c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, c_out)
        self.norm2 = nn.GroupNorm(GROUPS, c_out)
        self.conv2 = zero(nn.Conv2d(c_out, c_out, 3, padding=1))
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))             # (B, c_out, H, W)
        h = h + self.emb(emb)[:, :, None, None]           # the time (and class) in every block
        h = self.conv2(F.silu(self.norm2(h)))             # (B, c_out, H, W)
        return self.skip(x) + h


class SelfAttention(nn.Module):
    """One head of self-attention over the H*W positions, residual: (B, c, H, W) -> same. At 7x7 the
    49 positions see each other, so the left sleeve can agree with the right one."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm = nn.GroupNorm(GROUPS, channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.out = zero(nn.Conv2d(channels, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).flatten(2).transpose(1, 2).chunk(3, dim=2)   # each (B, HW, c)
        attended = F.scaled_dot_product_attention(q, k, v)                             # (B, HW, c)
        return x + self.out(attended.transpose(1, 2).reshape(b, c, h, w))


class UNet(nn.Module):
    """(x_t (B, 1, 28, 28), t (B,) in [0, 1], classes (B,) or None) -> (B, 1, 28, 28).

    ``width`` channels at 28x28, twice that at 14x14 and 7x7. ``num_classes`` > 0 adds a class embedding
    with one extra index, ``num_classes`` itself, meaning "no class" (classifier-free guidance)."""

    def __init__(self, width: int = 32, num_classes: int = 0, attention: bool = True):
        super().__init__()
        if width % GROUPS:
            raise ValueError(f"the U-Net's width must be a multiple of {GROUPS}, got {width}")
        c, emb = width, 4 * width
        self.width = width
        self.time_mlp = nn.Sequential(nn.Linear(c, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.class_embedding = nn.Embedding(num_classes + 1, emb) if num_classes else None
        self.inp = nn.Conv2d(1, c, 3, padding=1)                        # (B, c, 28, 28)
        self.down1 = ResBlock(c, c, emb)                                 # (B, c, 28, 28)   -> skip
        self.pool1 = nn.Conv2d(c, c, 3, stride=2, padding=1)             # (B, c, 14, 14)
        self.down2 = ResBlock(c, 2 * c, emb)                             # (B, 2c, 14, 14)  -> skip
        self.pool2 = nn.Conv2d(2 * c, 2 * c, 3, stride=2, padding=1)     # (B, 2c, 7, 7)
        self.middle = ResBlock(2 * c, 2 * c, emb)                        # (B, 2c, 7, 7)
        self.attention = SelfAttention(2 * c) if attention else nn.Identity()
        self.up2 = ResBlock(4 * c, c, emb)                               # (B, c, 14, 14), after the skip
        self.up1 = ResBlock(c, c, emb)                                   # (B, c, 28, 28), skip added
        self.out = nn.Sequential(nn.GroupNorm(GROUPS, c), nn.SiLU(),
                                 zero(nn.Conv2d(c, 1, 3, padding=1)))    # (B, 1, 28, 28)

    def forward(self, x: torch.Tensor, t: torch.Tensor, classes: torch.Tensor | None = None) -> torch.Tensor:
        emb = self.time_mlp(time_embedding(t, self.width))              # (B, 4c)
        if self.class_embedding is not None:
            if classes is None:
                raise ValueError("this U-Net is class-conditional: pass the classes (the 'no class' index for none)")
            emb = emb + self.class_embedding(classes)                    # (B, 4c)
        h = self.inp(x)                                                  # (B, c, 28, 28)
        skip1 = self.down1(h, emb)                                       # (B, c, 28, 28)
        skip2 = self.down2(self.pool1(skip1), emb)                       # (B, 2c, 14, 14)
        h = self.middle(self.pool2(skip2), emb)                          # (B, 2c, 7, 7)
        h = self.attention(h)                                            # (B, 2c, 7, 7)
        h = F.interpolate(h, scale_factor=2, mode="nearest")             # (B, 2c, 14, 14)
        h = self.up2(torch.cat([h, skip2], dim=1), emb)                  # (B, c, 14, 14)
        h = F.interpolate(h, scale_factor=2, mode="nearest")             # (B, c, 28, 28)
        # At 28x28 the skip is added, not concatenated: half the cost of the most expensive layer.
        h = self.up1(h + skip1, emb)                                     # (B, c, 28, 28)
        return self.out(h)                                               # (B, 1, 28, 28)
