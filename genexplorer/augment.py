"""Training-time variation of pictures (--augment): each picture moved, turned, re-stroked or coarsened anew every
time it is seen, so 4,500 digits look like many more and a reader learns the pens and cameras people use.
x: (B, 1, 28, 28) float in [0, 1] throughout."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

AUGMENTATIONS = ("geometry", "handwriting")


def random_affine(x: torch.Tensor, *, shift: float = 2.0, degrees: float = 10.0, scale: float = 0.1,
                  shear: float = 0.0) -> torch.Tensor:
    """Each picture of x (B, 1, 28, 28) moved by its own small random shift (pixels), turn and slant (degrees)
    and scale (a fraction), bilinear, black outside."""
    batch = x.shape[0]

    def uniform(most: float) -> torch.Tensor:
        return (torch.rand(batch, device=x.device) * 2 - 1) * most

    angle, slant = uniform(math.radians(degrees)), torch.tan(uniform(math.radians(shear)))
    factor = 1 + uniform(scale)
    cos, sin = torch.cos(angle) / factor, torch.sin(angle) / factor
    moved_x, moved_y = uniform(shift * 2 / 28), uniform(shift * 2 / 28)      # pixels -> [-1, 1] units
    # rotation-and-scale, then a horizontal slant (italic writing): [[cos, -sin + slant*cos], [sin, cos + slant*sin]]
    theta = torch.stack([torch.stack([cos, -sin + slant * cos, moved_x], 1),
                         torch.stack([sin, cos + slant * sin, moved_y], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def random_strokes(x: torch.Tensor) -> torch.Tensor:
    """Each picture's strokes made thicker or thinner by its own random amount (a blend towards a 3x3
    dilation or erosion), then blurred by its own random amount (sigma 0 to 1 pixel): pens, canvases and
    photos differ from MNIST's scanned pen strokes in just these ways."""
    batch = x.shape[0]
    thicker = F.max_pool2d(x, 3, stride=1, padding=1)
    thinner = -F.max_pool2d(-x, 3, stride=1, padding=1)
    # -0.5 (half-way to the erosion: a full one wipes out a 1-2 pixel stroke) ... +1 (the whole dilation)
    amount = torch.rand(batch, 1, 1, 1, device=x.device) * 1.5 - 0.5
    x = x + amount.clamp(min=0) * (thicker - x) + (-amount).clamp(min=0) * (thinner - x)
    sigma = torch.rand(batch, device=x.device)
    offsets = torch.arange(-2, 3, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-offsets[None, :] ** 2 / (2 * sigma[:, None].clamp(min=1e-3) ** 2))   # (B, 5)
    kernel = kernel / kernel.sum(1, keepdim=True)
    # separable blur, one kernel per picture: the pictures as channels of one grouped convolution
    as_channels = x.reshape(1, batch, 28, 28)
    rows = F.conv2d(F.pad(as_channels, (2, 2, 0, 0)), kernel.reshape(batch, 1, 1, 5), groups=batch)
    both = F.conv2d(F.pad(rows, (0, 0, 2, 2)), kernel.reshape(batch, 1, 5, 1), groups=batch)
    return both.reshape(batch, 1, 28, 28).clamp(0, 1)


def random_coarseness(x: torch.Tensor, share: float = 0.3) -> torch.Tensor:
    """A random ``share`` of the pictures made coarse: shrunk to 7-14 pixels a side and blown up again
    (bilinear), as a small canvas, a low-resolution camera or an 8x8 scan gives them."""
    batch = x.shape[0]
    chosen = torch.rand(batch, device=x.device) < share
    if not chosen.any():
        return x
    size = int(torch.randint(7, 15, (1,)))
    coarse = F.interpolate(F.interpolate(x[chosen], size=(size, size), mode="area"), size=(28, 28), mode="bilinear",
                           align_corners=False)
    out = x.clone()
    out[chosen] = coarse
    return out


def augment(x: torch.Tensor, kind: str) -> torch.Tensor:
    """--augment: "geometry" moves each picture a little (shift 2 px, turn 10 degrees, scale 10 %) every time it
    is seen: more variety from the 4,500 digits. "handwriting" moves it further (3 px, 15 degrees, 15 %, slant
    15 degrees), varies its strokes (random_strokes) and makes some coarse (random_coarseness): for the reader of
    drawings and photos people make."""
    if kind == "geometry":
        return random_affine(x)
    return random_coarseness(random_strokes(random_affine(x, shift=3.0, degrees=15.0, scale=0.15, shear=15.0)))
