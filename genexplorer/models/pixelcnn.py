"""Gated PixelCNN (van den Oord et al. 2016, "Conditional Image Generation with PixelCNN Decoders"):
an autoregressive model p(x) = prod_i p(x_i | x_<i) over the 784 pixels in raster order.

Each pixel's distribution is a Bernoulli on the grey value, the same cross-entropy the VAE's
decoder uses, so ``nll`` (exact, nats per image) sits directly beside the VAE's -ELBO (a bound).

Causality comes from shifts rather than masked kernels (PixelCNN++'s "down" and "down-right"
shifted convolutions, Salimans et al. 2017), which is the same as mask A on the first layer and
mask B after it, without the blind spot of a single masked stack:
- the vertical stack at row r sees only the rows above r;
- the horizontal stack at (r, c) sees the vertical stack at row r and the pixels left of c in row r.

Sampling needs one pass per pixel. Because of that split, nothing computed for earlier pixels ever
changes: each new row costs one row of each vertical layer, each new pixel one column of each
horizontal layer (``_RowStepper``). The result is exactly the full pass's, at a small fraction of its
cost (``tests/test_pixelcnn.py`` checks samples and completions against a full pass per pixel).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import torch
from torch import nn
import torch.nn.functional as F

from .base import IMAGE_SHAPE, GenerativeModel, ModelConfig, UnsupportedOperation, bce_per_image
from .family import Family, option

HEIGHT, WIDTH = IMAGE_SHAPE[1:]


@dataclass
class PixelCNNConfig(ModelConfig):
    latent_dim: int = 1         # no latent code: an autoregressive model has none (kept for the shared config)
    channels: int = 64          # width of both stacks
    layers: int = 8             # gated layers after the input layer
    kernel: int = 5             # odd: the vertical stack's kernel is (kernel // 2 + 1, kernel)
    # Training pictures whose pixels from a random raster position on are binarised (x_i ~ Bernoulli(x_i)):
    # sampling and completion feed the network its own 0/1 draws, a context it never sees when trained
    # on grey pictures alone (the grey model scored binarised test digits at 135 nats against 68 grey).
    binarize_fraction: float = 0.67

    def validate(self) -> None:
        super().validate()
        if not 4 <= self.channels <= 256:
            raise ValueError(f"channels must be between 4 and 256, got {self.channels}")
        if not 1 <= self.layers <= 30:
            raise ValueError(f"layers must be between 1 and 30, got {self.layers}")
        if self.kernel not in (3, 5, 7):
            raise ValueError(f"kernel must be 3, 5 or 7, got {self.kernel}")
        if not 0.0 <= self.binarize_fraction <= 1.0:
            raise ValueError(f"binarize_fraction must be in [0, 1], got {self.binarize_fraction}")


def down_shift(x: torch.Tensor) -> torch.Tensor:
    """Row r takes row r - 1's value; row 0 becomes zero. (B, C, H, W) -> same."""
    return F.pad(x, (0, 0, 1, 0))[:, :, :-1, :]


def right_shift(x: torch.Tensor) -> torch.Tensor:
    """Column c takes column c - 1's value; column 0 becomes zero."""
    return F.pad(x, (1, 0, 0, 0))[:, :, :, :-1]


class DownConv(nn.Conv2d):
    """Output at row r sees input rows r - kh + 1 .. r, columns c - kw//2 .. c + kw//2."""

    def __init__(self, c_in: int, c_out: int, kernel: int):
        super().__init__(c_in, c_out, (kernel // 2 + 1, kernel))
        self.pad = (kernel // 2, kernel // 2, kernel // 2, 0)     # left, right, top, bottom

    def forward(self, x):
        return super().forward(F.pad(x, self.pad))


class RightConv(nn.Conv2d):
    """Output at column c sees input columns c - kw + 1 .. c of the same row."""

    def __init__(self, c_in: int, c_out: int, kernel: int):
        super().__init__(c_in, c_out, (1, kernel // 2 + 1))
        self.pad = (kernel // 2, 0, 0, 0)

    def forward(self, x):
        return super().forward(F.pad(x, self.pad))


def gate(x: torch.Tensor) -> torch.Tensor:
    """The gated activation tanh(a) * sigmoid(b) of the gated PixelCNN. (B, 2C, ...) -> (B, C, ...)."""
    a, b = x.chunk(2, dim=1)
    return torch.tanh(a) * torch.sigmoid(b)


class GatedLayer(nn.Module):
    """One gated layer of both stacks, with residual connections."""

    def __init__(self, channels: int, kernel: int, num_classes: int):
        super().__init__()
        self.v_conv = DownConv(channels, 2 * channels, kernel)
        self.v_to_h = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.h_conv = RightConv(channels, 2 * channels, kernel)
        self.h_out = nn.Conv2d(channels, channels, 1)
        # Class-conditional PixelCNN: a per-class bias on every gate (0 classes: unconditional).
        self.class_bias = nn.Embedding(num_classes, 2 * channels) if num_classes else None

    def vertical(self, v: torch.Tensor, bias) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (the next vertical stack, what it passes to the horizontal stack)."""
        v_pre = self.v_conv(v)
        if bias is not None:
            v_pre = v_pre + bias
        return v + gate(v_pre), self.v_to_h(v_pre)

    def horizontal(self, h: torch.Tensor, v_to_h: torch.Tensor, bias) -> torch.Tensor:
        h_pre = self.h_conv(h) + v_to_h
        if bias is not None:
            h_pre = h_pre + bias
        return h + self.h_out(gate(h_pre))


class PixelCNN(GenerativeModel):
    """x: (B, 1, 28, 28) grey values in [0, 1]. No encoder, no decoder, no latent code."""
    kind = "pixelcnn"
    config_class = PixelCNNConfig
    abilities = frozenset({"samples", "exact_likelihood", "fills_holes"})

    def __init__(self, config: PixelCNNConfig):
        super().__init__(config)
        c, k = config.channels, config.kernel
        classes = config.num_classes if config.conditional else 0
        # Input layer: the vertical stack sees the rows strictly above, the horizontal one the
        # pixels strictly to the left (mask A); every later layer may see its own position (mask B).
        self.v_in = DownConv(1, c, k)
        self.h_in = RightConv(1, c, k)
        self.layers = nn.ModuleList(GatedLayer(c, k, classes) for _ in range(config.layers))
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(c, c, 1), nn.ReLU(), nn.Conv2d(c, 1, 1))

    # ----- the full pass
    def _biases(self, y, batch: int) -> list:
        y = self._labels(y, batch)
        if y is None:
            return [None] * len(self.layers)
        return [layer.class_bias(y)[:, :, None, None] for layer in self.layers]

    def _vertical_stack(self, x: torch.Tensor, biases: list) -> list[torch.Tensor]:
        """x (B, 1, H, W) -> each layer's contribution to the horizontal stack, (B, 2C, H, W);
        the first entry is the input layer's vertical features (B, C, H, W)."""
        v = down_shift(self.v_in(x))                      # (B, C, H, W): rows < r
        out = [v]
        for layer, bias in zip(self.layers, biases):
            v, v_to_h = layer.vertical(v, bias)            # (B, C, H, W), (B, 2C, H, W)
            out.append(v_to_h)
        return out

    def _horizontal_stack(self, x: torch.Tensor, vertical: list[torch.Tensor], biases: list) -> torch.Tensor:
        """x and the vertical features of the same rows -> logits (B, 1, H, W)."""
        h = right_shift(self.h_in(x)) + vertical[0]       # (B, C, H, W): row r's pixels < c, rows < r
        for layer, v_to_h, bias in zip(self.layers, vertical[1:], biases):
            h = layer.horizontal(h, v_to_h, bias)         # (B, C, H, W)
        return self.head(h)                               # (B, 1, H, W)

    def logits(self, x: torch.Tensor, y=None) -> torch.Tensor:
        """Logit of each pixel's Bernoulli given the pixels before it: (B, 1, 28, 28)."""
        x = self._check_images(x).to(self.device, torch.float32)
        biases = self._biases(y, x.shape[0])
        return self._horizontal_stack(x, self._vertical_stack(x, biases), biases)

    def pixel_nll(self, x: torch.Tensor, y=None) -> torch.Tensor:
        """-log p(x_i | x_<i) of every pixel, in nats: (B, 1, 28, 28)."""
        x = self._check_images(x).to(self.device, torch.float32)
        return F.binary_cross_entropy_with_logits(self.logits(x, y), x, reduction="none")

    def nll(self, x: torch.Tensor, y=None) -> torch.Tensor:
        """The exact negative log-likelihood -log p(x) = -sum_i log p(x_i | x_<i), nats per image: (B,)."""
        x = self._check_images(x).to(self.device, torch.float32)
        if not torch.isfinite(x).all():
            raise ValueError("the images contain NaN or infinite values")
        return bce_per_image(self.logits(x, y), x)

    def loss(self, x, y=None):
        """Mean NLL of the batch with the sampling context mixed in: of the binarised pictures, half
        from the first pixel on (sampling from blank), half from a random position (completing a
        grey picture); the rest stay grey (the exact likelihood the app reports)."""
        x = self._check_images(x).to(self.device, torch.float32)
        if self.training and self.config.binarize_fraction > 0:
            batch = x.shape[0]
            start = torch.randint(0, HEIGHT * WIDTH, (batch,), device=x.device)
            start = torch.where(torch.rand(batch, device=x.device) < 0.5, torch.zeros_like(start), start)
            start = torch.where(torch.rand(batch, device=x.device) < self.config.binarize_fraction, start,
                                torch.full_like(start, HEIGHT * WIDTH))
            after = torch.arange(HEIGHT * WIDTH, device=x.device)[None] >= start[:, None]       # (B, 784)
            x = torch.where(after.view_as(x), torch.bernoulli(x), x)
        nll = self.nll(x, y).mean()
        return {"loss": nll, "nll": nll}

    # ----- what an autoregressive model cannot do
    def encode(self, x, y=None):
        raise UnsupportedOperation("a pixelcnn has no encoder and no latent code: it models p(x) pixel by pixel")

    def decode(self, z, y=None):
        raise UnsupportedOperation("a pixelcnn has no decoder: use sample() or complete()")

    def reconstruct(self, x, y=None):
        raise UnsupportedOperation("a pixelcnn has no code to reconstruct from: use complete() to fill in pixels")

    def prior_sample(self, n, *, generator=None):
        raise UnsupportedOperation("a pixelcnn has no latent prior: sample() draws the pixels one by one")

    # ----- sampling, one pixel at a time
    @torch.no_grad()
    def sample(self, n: int, y=None, generator: torch.Generator | None = None) -> torch.Tensor:
        """n new images (n, 1, 28, 28), each pixel drawn from its Bernoulli in raster order."""
        *_, (_, images) = self.sample_steps(n, y, generator=generator, every=HEIGHT * WIDTH)
        return images

    @torch.no_grad()
    def complete(self, x: torch.Tensor, known: torch.Tensor, y=None,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """Fill the unknown pixels in raster order; known pixels come back unchanged.

        x: (B, 1, 28, 28) in [0, 1]; known: same shape, 1 = keep, 0 = draw. A pixel is drawn
        given every pixel before it (known or drawn); known pixels after it cannot inform it.
        """
        *_, (_, images) = self.complete_steps(x, known, y, generator=generator, every=HEIGHT * WIDTH)
        return images

    def sample_steps(self, n: int, y=None, *, generator=None, every: int = 28) -> Iterator[tuple[int, torch.Tensor]]:
        """complete_steps() from a blank picture: (raster position, images (n, 1, 28, 28)) as they fill."""
        if not 1 <= n <= 1024:
            raise ValueError(f"n must be between 1 and 1024, got {n}")
        blank = torch.zeros(n, *IMAGE_SHAPE, device=self.device)
        return self.complete_steps(blank, torch.zeros_like(blank), y, generator=generator, every=every)

    def complete_steps(self, x: torch.Tensor, known: torch.Tensor, y=None, *, generator=None,
                       every: int = 28) -> Iterator[tuple[int, torch.Tensor]]:
        """Like complete(), yielding (raster position reached, of 784; the images so far) every ``every``
        drawn pixels and once at the end. The images are one tensor updated in place: copy to keep."""
        x = self._check_images(torch.as_tensor(x, dtype=torch.float32)).to(self.device)
        known = torch.as_tensor(known, dtype=torch.float32).to(self.device)
        if known.shape != x.shape:
            raise ValueError(f"the mask must have the images' shape {tuple(x.shape)}, got {tuple(known.shape)}")
        if not (torch.isfinite(x).all() and torch.isfinite(known).all()):
            raise ValueError("the images or the mask contain NaN or infinite values")
        if every < 1:
            raise ValueError("every must be at least 1")
        known = known > 0.5
        x = torch.where(known, x.clamp(0, 1), torch.zeros_like(x))
        return self._fill(x, known, self._biases(y, x.shape[0]), generator, every)

    @torch.no_grad()
    def _fill(self, x, known, biases, generator, every):
        # No train()/eval() switch: the model has no dropout or batch norm, and a shared model
        # may be filling several pictures for several users at once.
        todo = ~known
        rows = torch.nonzero(todo.any(dim=(0, 1, 3))).flatten().tolist()
        stepper = _RowStepper(self, biases, x.shape[0], x.device)
        done_since_yield = 0
        for r in range(rows[-1] + 1 if rows else 0):
            # The vertical stack at row r sees only the rows above it, all final by now.
            stepper.start_row(x, r)
            if r not in rows:
                continue
            last = int(torch.nonzero(todo[:, :, r].any(dim=(0, 1))).max())
            for c in range(last + 1):
                # Every column up to the last one to draw goes through the horizontal stack (its
                # features feed the columns to its right); only the hidden ones are drawn.
                p = torch.sigmoid(stepper.logit(c))                       # (B,)
                if todo[:, 0, r, c].any():
                    drawn = torch.bernoulli(p.cpu(), generator=generator).to(x.device)
                    x[:, 0, r, c] = torch.where(todo[:, 0, r, c], drawn, x[:, 0, r, c])
                    done_since_yield += 1
                stepper.set_pixel(c, x[:, 0, r, c])
                if done_since_yield >= every:
                    done_since_yield = 0
                    yield r * WIDTH + c + 1, x
        yield HEIGHT * WIDTH, x


class _RowStepper:
    """The network one row, then one pixel, at a time, keeping what earlier steps computed: a new row
    costs one row of each vertical layer (the rows above are already known), a new pixel one small
    matrix product per horizontal layer (the columns to its left are already known). Exactly the full
    pass's arithmetic (tests/test_pixelcnn.py checks samples against a full pass per pixel)."""

    def __init__(self, model: PixelCNN, biases: list, batch: int, device):
        self.model = model
        self.taps = model.config.kernel // 2 + 1            # RightConv's width
        self.rows_up = model.config.kernel // 2 + 1         # DownConv's height
        c = model.config.channels
        # Each vertical layer's features, row j stored at j + rows_up - 1 below zero rows (the padding).
        self.v = [torch.zeros(batch, c, HEIGHT + self.rows_up - 1, WIDTH, device=device)
                  for _ in range(len(model.layers) + 1)]
        self.v_bias = biases

        def matrix(conv: nn.Conv2d) -> torch.Tensor:
            # (out, in, 1, taps) -> (taps * in, out), matching a (B, taps, in) window flattened
            return conv.weight[:, :, 0, :].permute(2, 1, 0).reshape(-1, conv.weight.shape[0])

        self.w_in, self.b_in = matrix(model.h_in), model.h_in.bias
        self.w_h = [matrix(layer.h_conv) for layer in model.layers]
        self.b_h = [layer.h_conv.bias + (0 if bias is None else bias[:, :, 0, 0]) for layer, bias in zip(model.layers, biases)]
        self.w_out = [layer.h_out.weight[:, :, 0, 0].T for layer in model.layers]
        self.b_out = [layer.h_out.bias for layer in model.layers]
        head = model.head
        self.w_head = (head[1].weight[:, :, 0, 0].T, head[3].weight[:, :, 0, 0].T)
        self.b_head = (head[1].bias, head[3].bias)
        self.channels = c

    def _down_conv(self, conv: DownConv, rows: torch.Tensor) -> torch.Tensor:
        """One output row of a DownConv from the rows_up input rows ending at it: (B, out, 1, W)."""
        return F.conv2d(F.pad(rows, conv.pad[:2] + (0, 0)), conv.weight, conv.bias)

    def start_row(self, x: torch.Tensor, r: int) -> None:
        """Compute row r of the vertical stack from the rows above (x's rows < r are final)."""
        model, up = self.model, self.rows_up
        if r == 0:   # down_shift: row 0 gets nothing from above, not even the bias
            v = torch.zeros_like(self.v[0][:, :, :1])
        else:
            above = x[:, :, max(0, r - up): r]
            above = F.pad(above, (0, 0, up - above.shape[2], 0))
            v = self._down_conv(model.v_in, above)                           # (B, C, 1, W)
        self.v[0][:, :, r + up - 1: r + up] = v
        vertical = [v[:, :, 0]]
        for l, (layer, bias) in enumerate(zip(model.layers, self.v_bias)):
            pre = self._down_conv(layer.v_conv, self.v[l][:, :, r: r + up])  # rows r - up + 1 .. r
            if bias is not None:
                pre = pre + bias
            v = v + gate(pre)
            self.v[l + 1][:, :, r + up - 1: r + up] = v
            vertical.append(layer.v_to_h(pre)[:, :, 0])                      # (B, 2C, W)
        self._start_horizontal(vertical)

    def _start_horizontal(self, vertical: list[torch.Tensor]) -> None:
        """vertical: the row's vertical features, [(B, C, W), then (B, 2C, W) per layer]."""
        batch = vertical[0].shape[0]
        pad = self.taps - 1
        self.v_in = vertical[0].transpose(1, 2)                          # (B, W, C)
        self.v_to_h = [v.transpose(1, 2) for v in vertical[1:]]           # (B, W, 2C) each
        # Column j of each layer's features is stored at j + pad: the zeros before it are the padding.
        self.h = [torch.zeros(batch, WIDTH + pad, self.channels, device=vertical[0].device)
                  for _ in range(len(self.w_h) + 1)]
        self.pixels = torch.zeros(batch, WIDTH + self.taps, 1, device=vertical[0].device)

    def logit(self, c: int) -> torch.Tensor:
        """Logit of pixel c of the row, given the row's pixels before it: (B,)."""
        pad = self.taps - 1
        batch = self.v_in.shape[0]
        h = self.v_in[:, c]                                               # (B, C)
        if c > 0:   # right_shift: column 0 gets nothing from the row, not even the bias
            window = self.pixels[:, c: c + self.taps].reshape(batch, -1)  # pixels c - taps .. c - 1
            h = h + window @ self.w_in + self.b_in
        self.h[0][:, c + pad] = h
        for l, (w_h, b_h, w_out, b_out) in enumerate(zip(self.w_h, self.b_h, self.w_out, self.b_out)):
            window = self.h[l][:, c: c + self.taps].reshape(batch, -1)    # columns c - pad .. c
            pre = window @ w_h + b_h + self.v_to_h[l][:, c]
            a, b = pre.chunk(2, dim=1)
            h = h + (torch.tanh(a) * torch.sigmoid(b)) @ w_out + b_out
            self.h[l + 1][:, c + pad] = h
        hidden = torch.relu(torch.relu(h) @ self.w_head[0] + self.b_head[0])
        return (hidden @ self.w_head[1] + self.b_head[1])[:, 0]

    def set_pixel(self, c: int, value: torch.Tensor) -> None:
        self.pixels[:, c + self.taps, 0] = value


# ------------------------------------------------------------ the family

@dataclass
class PixelCNNOptions:
    width: int | None = option(None, "channels of both stacks (default 64)", low=4, high=256)
    layers: int = option(8, "gated layers after the input layer", low=1, high=30)
    kernel: int = option(5, "kernel size (odd)", choices=(3, 5, 7))
    conditional: bool = option(False, "class-conditional: a per-class bias on every gate")


class PixelCNNFamily(Family):
    """The gated PixelCNN: exact likelihood, pixel-by-pixel sampling."""
    model_class = PixelCNN
    Options = PixelCNNOptions
    title = "PixelCNN (autoregressive)"

    def curves(self):
        return (("nll",),)

    def checkpoint_notes(self, config, metrics):
        return [f"{config['layers']} gated layers of {config['channels']} channels, kernel {config['kernel']}; "
                "no latent code"]

    @torch.no_grad()
    def evaluate(self, model: PixelCNN, images, labels):
        """Exact test negative log-likelihood, nats per image."""
        nats = 0.0
        for start in range(0, len(images), 500):
            y = labels[start: start + 500] if model.conditional else None
            nats += float(model.nll(images[start: start + 500], y).sum())
        return {"test_nll_nats": round(nats / len(images), 5)}
