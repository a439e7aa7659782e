"""Gated PixelCNN (van den Oord et al. 2016, "Conditional Image Generation with PixelCNN Decoders"):
an autoregressive model p(x) = prod_i p(x_i | x_<i) over the 784 pixels in raster order.

Two readings of a pixel, chosen by ``output``:
- "bernoulli": p(x_i | x_<i) is a Bernoulli on the grey value, the same cross-entropy the VAE's decoder uses, so
  ``nll`` (exact, nats per image) sits directly beside the VAE's -ELBO (a bound). Samples are black and white.
- "logistic" (a mixture of logistics discretised to the 256 grey levels, PixelCNN++, Salimans et al. 2017) or
  "softmax" (a 256-way softmax, van den Oord et al. 2016): the pixel's grey level, which the sampler draws, and
  ``grey_nll``, the exact -log p of the 8-bit picture. Such a model keeps a Bernoulli output beside it, trained on
  the same pictures, so ``nll`` still means what the VAE's nats mean (the Draw tab's number).

Causality comes from shifts rather than masked kernels (PixelCNN++'s "down" and "down-right"
shifted convolutions), which is the same as mask A on the first layer and mask B after it, without the blind
spot of a single masked stack:
- the vertical stack at row r sees only the rows above r;
- the horizontal stack at (r, c) sees the vertical stack at row r and the pixels left of c in row r.
Each gated layer adds kernel // 2 rows above and columns to the left: 12 layers of kernel 5 see the whole picture.

Sampling needs one pass per pixel. Because of that split, nothing computed for earlier pixels ever
changes: each new row costs one row of each vertical layer, each new pixel one column of each
horizontal layer (``_RowStepper``). The result is exactly the full pass's, at a small fraction of its
cost (``tests/test_pixelcnn.py`` checks the stepper's outputs and samples against the full pass).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

import torch
from torch import nn
import torch.nn.functional as F

from .base import IMAGE_SHAPE, GenerativeModel, ModelConfig, UnsupportedOperation, bce_per_image
from .family import Family, option

HEIGHT, WIDTH = IMAGE_SHAPE[1:]
LEVELS = 256
OUTPUTS = ("bernoulli", "logistic", "softmax")


@dataclass
class PixelCNNConfig(ModelConfig):
    latent_dim: int = 1         # no latent code: an autoregressive model has none (kept for the shared config)
    channels: int = 64          # width of both stacks
    layers: int = 8             # gated layers after the input layer
    kernel: int = 5             # odd: the vertical stack's kernel is (kernel // 2 + 1, kernel)
    # Training pictures whose pixels from a random raster position on are binarised (x_i ~ Bernoulli(x_i)):
    # sampling and completion feed a Bernoulli model its own 0/1 draws, a context it never sees when trained
    # on grey pictures alone (the grey model scored binarised test digits at 135 nats against 68 grey).
    # None: 0.67 for the Bernoulli output, 0 for the grey ones (they draw grey pictures, as they are trained on).
    binarize_fraction: float | None = None
    output: str = "bernoulli"   # what a pixel is: see OUTPUTS and the module's docstring
    mixtures: int = 5           # logistics in the mixture (output "logistic")
    dropout: float = 0.0        # on each gated layer's residual branch, while training
    # Layer l's kernels are dilated by 2 ** (l % dilation_cycle) (WaveNet's dilated causal convolutions, van den
    # Oord et al. 2016): 4 gives 1, 2, 4, 8, 1, 2, ..., and 8 layers of kernel 3 then see 30 rows up. 1: none.
    dilation_cycle: int = 1

    def validate(self) -> None:
        super().validate()
        if not 4 <= self.channels <= 256:
            raise ValueError(f"channels must be between 4 and 256, got {self.channels}")
        if not 1 <= self.layers <= 30:
            raise ValueError(f"layers must be between 1 and 30, got {self.layers}")
        if self.kernel not in (3, 5, 7):
            raise ValueError(f"kernel must be 3, 5 or 7, got {self.kernel}")
        if self.output not in OUTPUTS:
            raise ValueError(f"output must be one of {', '.join(OUTPUTS)}, got {self.output!r}")
        if self.binarize_fraction is not None and not 0.0 <= self.binarize_fraction <= 1.0:
            raise ValueError(f"binarize_fraction must be in [0, 1], got {self.binarize_fraction}")
        if self.output != "bernoulli" and self.binarize_fraction:
            raise ValueError("binarize_fraction is for the bernoulli output: a grey-level model draws grey pictures")
        if not 1 <= self.mixtures <= 20:
            raise ValueError(f"mixtures must be between 1 and 20, got {self.mixtures}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if not 1 <= self.dilation_cycle <= 5:
            raise ValueError(f"dilation_cycle must be between 1 and 5, got {self.dilation_cycle}")

    def dilation(self, layer: int) -> int:
        """Gated layer ``layer``'s dilation (0-based)."""
        return 2 ** (layer % self.dilation_cycle)

    @property
    def binarize(self) -> float:
        if self.binarize_fraction is not None:
            return self.binarize_fraction
        return 0.67 if self.output == "bernoulli" else 0.0

    @property
    def grey_params(self) -> int:
        """Numbers per pixel for the grey level: 0 (Bernoulli only), 3 per logistic, or 256 logits."""
        return {"bernoulli": 0, "logistic": 3 * self.mixtures, "softmax": LEVELS}[self.output]


# ------------------------------------------------------------ grey levels

def logistic_log_prob(params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log P(grey level x) under a mixture of K logistics on [-1, 1] discretised to 256 bins, the end bins taking
    the tails (PixelCNN++, Salimans et al. 2017, section 2.1). params (B, 3K, ...): the mixture's logits, means and
    log-scales; x broadcastable to (B, 1, ...), in [0, 1] on the 256 levels -> (B, 1, ...)."""
    logit_pi, mu, log_s = params.chunk(3, dim=1)
    log_s = log_s.clamp(min=-7.0)
    x = x * 2 - 1
    centred, inv_s = x - mu, torch.exp(-log_s)
    plus, minus = inv_s * (centred + 1 / 255), inv_s * (centred - 1 / 255)     # the bin's edges
    cdf_delta = torch.sigmoid(plus) - torch.sigmoid(minus)
    log_below_top = plus - F.softplus(plus)                  # level 0: everything below its upper edge
    log_above_bottom = -F.softplus(minus)                     # level 255: everything above its lower edge
    mid = inv_s * centred
    # a bin too thin for the difference of two sigmoids: density times the bin's width 2/255
    log_thin = mid - log_s - 2 * F.softplus(mid) - math.log(127.5)
    inner = torch.where(cdf_delta > 1e-5, torch.log(cdf_delta.clamp(min=1e-12)), log_thin)
    log_p = torch.where(x < -0.999, log_below_top, torch.where(x > 0.999, log_above_bottom, inner))
    return torch.logsumexp(log_p + F.log_softmax(logit_pi, dim=1), dim=1, keepdim=True)


def level_index(x: torch.Tensor) -> torch.Tensor:
    """Grey values in [0, 1] -> their level 0..255 (int64)."""
    return (x.clamp(0, 1) * (LEVELS - 1)).round().long()


def grey_log_prob(output: str, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log p(x_i | x_<i) of each pixel's grey level: params (B, P, H, W), x (B, 1, H, W) -> (B, 1, H, W)."""
    if output == "logistic":
        return logistic_log_prob(params, level_index(x).float() / (LEVELS - 1))
    return F.log_softmax(params, dim=1).gather(1, level_index(x))


def level_log_probs(output: str, params: torch.Tensor) -> torch.Tensor:
    """The whole distribution over the 256 levels of one pixel per image: params (B, P) -> (B, 256)."""
    if output == "logistic":
        levels = torch.arange(LEVELS, device=params.device, dtype=params.dtype) / (LEVELS - 1)
        return logistic_log_prob(params[:, :, None], levels[None, None])[:, 0]
    return F.log_softmax(params, dim=1)


def draw_logistic(params: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """One grey level per row from the discretised mixture, params (B, 3K) -> (B,) in [0, 1]: pick a logistic by
    its weight, draw from it by inverting its CDF, then round to the nearest level, the tails going to the end
    levels: the distribution ``logistic_log_prob`` scores, at the cost of two draws per pixel (u = 0 gives -inf,
    the level 0)."""
    logit_pi, mu, log_s = params.chunk(3, dim=1)
    k = torch.multinomial(F.softmax(logit_pi, dim=1), 1, generator=generator)                  # (B, 1)
    u = torch.rand(params.shape[0], 1, generator=generator)                                     # [0, 1)
    x = mu.gather(1, k) + torch.exp(log_s.clamp(min=-7.0).gather(1, k)) * (torch.log(u) - torch.log1p(-u))
    return ((x[:, 0].clamp(-1, 1) + 1) * (LEVELS - 1) / 2).round() / (LEVELS - 1)


# ------------------------------------------------------------ the layers

def down_shift(x: torch.Tensor) -> torch.Tensor:
    """Row r takes row r - 1's value; row 0 becomes zero. (B, C, H, W) -> same."""
    return F.pad(x, (0, 0, 1, 0))[:, :, :-1, :]


def right_shift(x: torch.Tensor) -> torch.Tensor:
    """Column c takes column c - 1's value; column 0 becomes zero."""
    return F.pad(x, (1, 0, 0, 0))[:, :, :, :-1]


class DownConv(nn.Conv2d):
    """Output at row r sees input rows r - (kh - 1) d .. r, columns c - (kw//2) d .. c + (kw//2) d, every d-th
    (d: the dilation)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, dilation: int = 1):
        super().__init__(c_in, c_out, (kernel // 2 + 1, kernel), dilation=dilation)
        half = kernel // 2 * dilation
        self.pad = (half, half, half, 0)     # left, right, top, bottom

    def forward(self, x):
        return super().forward(F.pad(x, self.pad))


class RightConv(nn.Conv2d):
    """Output at column c sees input columns c - (kw - 1) d .. c of the same row, every d-th."""

    def __init__(self, c_in: int, c_out: int, kernel: int, dilation: int = 1):
        super().__init__(c_in, c_out, (1, kernel // 2 + 1), dilation=dilation)
        self.pad = (kernel // 2 * dilation, 0, 0, 0)

    def forward(self, x):
        return super().forward(F.pad(x, self.pad))


def gate(x: torch.Tensor) -> torch.Tensor:
    """The gated activation tanh(a) * sigmoid(b) of the gated PixelCNN. (B, 2C, ...) -> (B, C, ...)."""
    a, b = x.chunk(2, dim=1)
    return torch.tanh(a) * torch.sigmoid(b)


class GatedLayer(nn.Module):
    """One gated layer of both stacks, with residual connections (dropout on the residual branches)."""

    def __init__(self, channels: int, kernel: int, num_classes: int, dropout: float = 0.0, dilation: int = 1):
        super().__init__()
        self.dilation = dilation
        self.v_conv = DownConv(channels, 2 * channels, kernel, dilation)
        self.v_to_h = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.h_conv = RightConv(channels, 2 * channels, kernel, dilation)
        self.h_out = nn.Conv2d(channels, channels, 1)
        # Class-conditional PixelCNN: a per-class bias on every gate (0 classes: unconditional).
        self.class_bias = nn.Embedding(num_classes, 2 * channels) if num_classes else None
        self.drop = nn.Dropout(dropout)

    def vertical(self, v: torch.Tensor, bias) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (the next vertical stack, what it passes to the horizontal stack)."""
        v_pre = self.v_conv(v)
        if bias is not None:
            v_pre = v_pre + bias
        return v + self.drop(gate(v_pre)), self.v_to_h(v_pre)

    def horizontal(self, h: torch.Tensor, v_to_h: torch.Tensor, bias) -> torch.Tensor:
        h_pre = self.h_conv(h) + v_to_h
        if bias is not None:
            h_pre = h_pre + bias
        return h + self.h_out(self.drop(gate(h_pre)))


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
        self.layers = nn.ModuleList(GatedLayer(c, k, classes, config.dropout, config.dilation(l))
                                    for l in range(config.layers))
        # channel 0: the Bernoulli logit; then the grey level's parameters, if any
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(c, c, 1), nn.ReLU(), nn.Conv2d(c, 1 + config.grey_params, 1))

    @property
    def draws_grey(self) -> bool:
        return self.config.output != "bernoulli"

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
        """x and the vertical features of the same rows -> outputs (B, 1 + P, H, W)."""
        h = right_shift(self.h_in(x)) + vertical[0]       # (B, C, H, W): row r's pixels < c, rows < r
        for layer, v_to_h, bias in zip(self.layers, vertical[1:], biases):
            h = layer.horizontal(h, v_to_h, bias)         # (B, C, H, W)
        return self.head(h)                               # (B, 1 + P, H, W)

    def outputs(self, x: torch.Tensor, y=None) -> torch.Tensor:
        """Every pixel's outputs given the pixels before it: (B, 1 + P, 28, 28), the Bernoulli logit first,
        then the P parameters of its grey level (none for output "bernoulli")."""
        x = self._check_images(x).to(self.device, torch.float32)
        biases = self._biases(y, x.shape[0])
        return self._horizontal_stack(x, self._vertical_stack(x, biases), biases)

    def logits(self, x: torch.Tensor, y=None) -> torch.Tensor:
        """Logit of each pixel's Bernoulli given the pixels before it: (B, 1, 28, 28)."""
        return self.outputs(x, y)[:, :1]

    def pixel_nll(self, x: torch.Tensor, y=None) -> torch.Tensor:
        """-log p(x_i | x_<i) of every pixel under the Bernoulli reading, in nats: (B, 1, 28, 28)."""
        x = self._check_images(x).to(self.device, torch.float32)
        return F.binary_cross_entropy_with_logits(self.logits(x, y), x, reduction="none")

    def _finite(self, x: torch.Tensor) -> torch.Tensor:
        x = self._check_images(x).to(self.device, torch.float32)
        if not torch.isfinite(x).all():
            raise ValueError("the images contain NaN or infinite values")
        return x

    def nll(self, x: torch.Tensor, y=None) -> torch.Tensor:
        """The exact negative log-likelihood -log p(x) = -sum_i log p(x_i | x_<i) under the Bernoulli reading
        (the VAE's nats), nats per image: (B,)."""
        x = self._finite(x)
        return bce_per_image(self.logits(x, y), x)

    def grey_nll(self, x: torch.Tensor, y=None) -> torch.Tensor:
        """The exact -log p(x) of the 8-bit picture (x rounded to the 256 levels), nats per image: (B,).
        Divide by 784 ln 2 for bits per pixel."""
        if not self.draws_grey:
            raise UnsupportedOperation("this pixelcnn's pixels are Bernoulli: it has no grey-level likelihood")
        x = self._finite(x)
        out = self.outputs(x, y)
        return -grey_log_prob(self.config.output, out[:, 1:], x).flatten(1).sum(1)

    def loss(self, x, y=None):
        """Bernoulli output: mean NLL of the batch with the sampling context mixed in (of the binarised pictures,
        half from the first pixel on (sampling from blank), half from a random position (completing a grey
        picture); the rest stay grey). Grey output: the grey levels' NLL plus the Bernoulli output's."""
        x = self._finite(x)
        if self.draws_grey:
            x = level_index(x).float() / (LEVELS - 1)
            out = self.outputs(x, y)
            nll = bce_per_image(out[:, :1], x).mean()
            grey = -grey_log_prob(self.config.output, out[:, 1:], x).flatten(1).sum(1).mean()
            return {"loss": grey + nll, "nll": nll, "grey_nll": grey}
        if self.training and self.config.binarize > 0:
            x = self._binarize_tails(x)
        nll = self.nll(x, y).mean()
        return {"loss": nll, "nll": nll}

    def _binarize_tails(self, x: torch.Tensor) -> torch.Tensor:
        batch = x.shape[0]
        start = torch.randint(0, HEIGHT * WIDTH, (batch,), device=x.device)
        start = torch.where(torch.rand(batch, device=x.device) < 0.5, torch.zeros_like(start), start)
        start = torch.where(torch.rand(batch, device=x.device) < self.config.binarize, start,
                            torch.full_like(start, HEIGHT * WIDTH))
        after = torch.arange(HEIGHT * WIDTH, device=x.device)[None] >= start[:, None]       # (B, 784)
        return torch.where(after.view_as(x), torch.bernoulli(x), x)

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
        """n new images (n, 1, 28, 28), each pixel drawn from its distribution in raster order, at temperature 1:
        0 or 1 (Bernoulli), or one of the 256 grey levels."""
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

    def draw(self, out: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """One pixel per image from its outputs (B, 1 + P): 0/1 from the Bernoulli, or a grey level / 255."""
        out = out.cpu()
        if self.config.output == "bernoulli":
            drawn = torch.bernoulli(torch.sigmoid(out[:, 0]), generator=generator)
        elif self.config.output == "softmax":
            drawn = torch.multinomial(F.softmax(out[:, 1:], dim=1), 1, generator=generator)[:, 0] / (LEVELS - 1)
        else:
            drawn = draw_logistic(out[:, 1:], generator)
        return drawn.float().to(self.device)

    @torch.no_grad()
    def _fill(self, x, known, biases, generator, every):
        # No train()/eval() switch: the stepper never applies dropout, and a shared model
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
                out = stepper.outputs(c)                                  # (B, 1 + P)
                if todo[:, 0, r, c].any():
                    x[:, 0, r, c] = torch.where(todo[:, 0, r, c], self.draw(out, generator), x[:, 0, r, c])
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
    pass's arithmetic in eval mode (tests/test_pixelcnn.py checks the outputs against a full pass)."""

    def __init__(self, model: PixelCNN, biases: list, batch: int, device):
        self.model = model
        self.taps = model.config.kernel // 2 + 1            # RightConv's width
        self.rows_up = model.config.kernel // 2 + 1         # DownConv's height
        self.dilations = [layer.dilation for layer in model.layers]
        c = model.config.channels
        # Each vertical layer's features, row j stored at j + top below zero rows (the widest layer's padding).
        self.top = (self.rows_up - 1) * max(self.dilations, default=1)
        self.v = [torch.zeros(batch, c, HEIGHT + self.top, WIDTH, device=device)
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

    def _down_conv(self, conv: DownConv, rows: torch.Tensor, dilation: int = 1) -> torch.Tensor:
        """One output row of a DownConv from its rows_up input rows (every dilation-th, ending at it): (B, out, 1, W)."""
        return F.conv2d(F.pad(rows, conv.pad[:2] + (0, 0)), conv.weight, conv.bias, dilation=(1, dilation))

    def start_row(self, x: torch.Tensor, r: int) -> None:
        """Compute row r of the vertical stack from the rows above (x's rows < r are final)."""
        model, up, top = self.model, self.rows_up, self.top
        if r == 0:   # down_shift: row 0 gets nothing from above, not even the bias
            v = torch.zeros_like(self.v[0][:, :, :1])
        else:
            above = x[:, :, max(0, r - up): r]
            above = F.pad(above, (0, 0, up - above.shape[2], 0))
            v = self._down_conv(model.v_in, above)                           # (B, C, 1, W)
        self.v[0][:, :, r + top: r + top + 1] = v
        vertical = [v[:, :, 0]]
        for l, (layer, bias, d) in enumerate(zip(model.layers, self.v_bias, self.dilations)):
            rows = self.v[l][:, :, r + top - (up - 1) * d: r + top + 1: d]  # rows r - (up - 1) d .. r, every d-th
            pre = self._down_conv(layer.v_conv, rows, d)
            if bias is not None:
                pre = pre + bias
            v = v + gate(pre)
            self.v[l + 1][:, :, r + top: r + top + 1] = v
            vertical.append(layer.v_to_h(pre)[:, :, 0])                      # (B, 2C, W)
        self._start_horizontal(vertical)

    def _start_horizontal(self, vertical: list[torch.Tensor]) -> None:
        """vertical: the row's vertical features, [(B, C, W), then (B, 2C, W) per layer]."""
        batch = vertical[0].shape[0]
        pad = (self.taps - 1) * max(self.dilations, default=1)
        self.v_in = vertical[0].transpose(1, 2)                          # (B, W, C)
        self.v_to_h = [v.transpose(1, 2) for v in vertical[1:]]           # (B, W, 2C) each
        # Column j of each layer's features is stored at j + pad: the zeros before it are the (widest) padding.
        self.h = [torch.zeros(batch, WIDTH + pad, self.channels, device=vertical[0].device)
                  for _ in range(len(self.w_h) + 1)]
        self.pixels = torch.zeros(batch, WIDTH + self.taps, 1, device=vertical[0].device)

    def outputs(self, c: int) -> torch.Tensor:
        """Outputs of pixel c of the row, given the row's pixels before it: (B, 1 + P)."""
        pad, taps = self.h[0].shape[1] - WIDTH, self.taps
        batch = self.v_in.shape[0]
        h = self.v_in[:, c]                                               # (B, C)
        if c > 0:   # right_shift: column 0 gets nothing from the row, not even the bias
            window = self.pixels[:, c: c + taps].reshape(batch, -1)       # pixels c - taps .. c - 1
            h = h + window @ self.w_in + self.b_in
        self.h[0][:, c + pad] = h
        for l, (w_h, b_h, w_out, b_out, d) in enumerate(zip(self.w_h, self.b_h, self.w_out, self.b_out, self.dilations)):
            end = c + pad + 1
            window = self.h[l][:, end - 1 - (taps - 1) * d: end: d].reshape(batch, -1)   # columns c - (taps-1) d .. c
            pre = window @ w_h + b_h + self.v_to_h[l][:, c]
            a, b = pre.chunk(2, dim=1)
            h = h + (torch.tanh(a) * torch.sigmoid(b)) @ w_out + b_out
            self.h[l + 1][:, c + pad] = h
        hidden = torch.relu(torch.relu(h) @ self.w_head[0] + self.b_head[0])
        return hidden @ self.w_head[1] + self.b_head[1]

    def set_pixel(self, c: int, value: torch.Tensor) -> None:
        self.pixels[:, c + self.taps, 0] = value


# ------------------------------------------------------------ the family

@dataclass
class PixelCNNOptions:
    width: int | None = option(None, "channels of both stacks (default 64)", low=4, high=256)
    layers: int = option(8, "gated layers after the input layer", low=1, high=30)
    kernel: int = option(3, "kernel size (odd)", choices=(3, 5, 7))
    conditional: bool = option(False, "class-conditional: a per-class bias on every gate")
    output: str = option("logistic", "a pixel's distribution: 256 grey levels as a mixture of logistics "
                         "(PixelCNN++) or a softmax, or a Bernoulli (black and white samples)", choices=OUTPUTS)
    dropout: float = option(0.0, "dropout on each gated layer's residual branch (small data sets)", low=0.0, high=0.9)
    dilation_cycle: int = option(4, "layer l's kernels dilated by 2^(l mod this): 4 gives 1, 2, 4, 8, 1, ...; "
                                 "8 layers of kernel 3 then see the whole picture (1: no dilation)", low=1, high=5)


class PixelCNNFamily(Family):
    """The gated PixelCNN: exact likelihood, pixel-by-pixel sampling."""
    model_class = PixelCNN
    Options = PixelCNNOptions
    title = "PixelCNN (autoregressive)"

    def curves(self):
        return (("nll",), ("grey_nll",))

    def checkpoint_notes(self, config, metrics):
        output = config.get("output", "bernoulli")
        pixel = "Bernoulli pixels" if output == "bernoulli" else f"256 grey levels ({output}) and a Bernoulli reading"
        return [f"{config['layers']} gated layers of {config['channels']} channels, kernel {config['kernel']}; "
                f"{pixel}; no latent code"]

    @torch.no_grad()
    def evaluate(self, model: PixelCNN, images, labels):
        """Exact test negative log-likelihood, nats per image: the Bernoulli reading (the VAE's nats) and, for a
        grey-level model, the 8-bit picture's (and its bits per pixel)."""
        nats, grey = 0.0, 0.0
        for start in range(0, len(images), 500):
            x = images[start: start + 500]
            y = labels[start: start + 500] if model.conditional else None
            nats += float(model.nll(x, y).sum())
            if model.draws_grey:
                grey += float(model.grey_nll(x, y).sum())
        metrics = {"test_nll_nats": round(nats / len(images), 5)}
        if model.draws_grey:
            metrics["test_grey_nll_nats"] = round(grey / len(images), 5)
            metrics["test_bits_per_pixel"] = round(grey / len(images) / (HEIGHT * WIDTH * math.log(2)), 5)
        return metrics
