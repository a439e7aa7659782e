"""A small CNN classifier: the project's own "reader" of digits and clothes.

It scores the generative models (does a reconstructed 7 still read as a 7? which
classes do the samples fall in? the Frechet distance between its features of samples
and of test images) and tells a user what it sees in a drawing. It lives behind the
same interface as the generative models so that the checkpoints, the registry and the
training loop serve it unchanged: ``encode`` gives its penultimate-layer features,
and it says early that it cannot decode or sample.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
import torch.nn.functional as F

from .base import ConvEncoder, ModelConfig, GenerativeModel, UnsupportedOperation
from .family import Family, option


@dataclass
class ClassifierConfig(ModelConfig):
    latent_dim: int = 128        # the penultimate layer: the features the Frechet distance uses
    channels: int = 32           # first conv width; the second is twice this
    dropout: float = 0.3         # on the features, while training only
    shift: int = 2               # training images moved by up to this many pixels each way (0: off)

    def validate(self) -> None:
        super().validate()
        if self.conditional:
            raise ValueError("a classifier is not class-conditional: it predicts the class")
        if not 1 <= self.channels <= 256:
            raise ValueError(f"channels must be between 1 and 256, got {self.channels}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if not 0 <= self.shift <= 8:
            raise ValueError(f"shift must be a whole number of pixels from 0 to 8, got {self.shift}")


def random_shift(x: torch.Tensor, most: int) -> torch.Tensor:
    """Each image of x (B, 1, 28, 28) moved by its own random whole number of pixels, up to
    ``most`` each way, with background coming in at the edges: the cheapest augmentation,
    and the one that matters with only 4,500 training digits."""
    batch = x.shape[0]
    padded = F.pad(x, (most, most, most, most))                              # (B, 1, 28+2m, 28+2m)
    dy, dx = (torch.randint(0, 2 * most + 1, (2, batch), device=x.device))
    rows = dy[:, None] + torch.arange(28, device=x.device)                    # (B, 28)
    cols = dx[:, None] + torch.arange(28, device=x.device)                    # (B, 28)
    index = torch.arange(batch, device=x.device)[:, None, None]
    return padded[:, 0][index, rows[:, :, None], cols[:, None, :]].unsqueeze(1)  # (B, 1, 28, 28)


class Classifier(GenerativeModel):
    kind = "classifier"
    config_class = ClassifierConfig
    trains_on_labels = True
    abilities = frozenset({"reads"})

    def __init__(self, config: ClassifierConfig):
        super().__init__(config)
        # The encoders' two strided convs and dense layer; its last layer gives the class logits.
        self.net = ConvEncoder(1, config.channels, config.latent_dim, config.num_classes).net
        self.dropout = nn.Dropout(config.dropout)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) -> (B, latent_dim): the penultimate layer, after its ReLU."""
        return self.net[:-1](self._check_images(x).to(self.device))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) -> (B, num_classes) unnormalised class scores."""
        return self.net[-1](self.dropout(self.features(x)))

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 1, 28, 28) -> (labels (B,) int64, class probabilities (B, num_classes))."""
        probabilities = F.softmax(self.logits(x), dim=1)
        return probabilities.argmax(1), probabilities

    def encode(self, x, y=None):
        return self.features(x)

    def decode(self, z, y=None):
        raise UnsupportedOperation("a classifier has no decoder: it reads images, it does not draw them")

    def sample(self, n, y=None, generator=None):
        self.decode(None)

    def reconstruct(self, x, y=None):
        self.decode(None)

    def loss(self, x, y=None):
        if y is None:
            raise ValueError("a classifier trains on labelled images: pass y, the class labels (B,)")
        if self.training and self.config.shift:
            x = random_shift(self._check_images(x).to(self.device), self.config.shift)
        logits = self.logits(x)
        y = y.to(self.device)
        # Cross-entropy of the softmax over classes: -log p(y | x), in nats.
        loss = F.cross_entropy(logits, y)
        return {"loss": loss, "accuracy": (logits.argmax(1) == y).float().mean()}


# ------------------------------------------------------------ the family

@dataclass
class ClassifierOptions:
    latent_dim: int = option(128, "features before the class scores (what the Frechet distance compares)",
                             low=1, high=4096)
    width: int | None = option(None, "channels of the first convolution (default 32; the second has twice)",
                               low=1, high=256)


class ClassifierFamily(Family):
    """The reader of pictures: the app's judge of what a drawing or a sample shows."""
    model_class = Classifier
    Options = ClassifierOptions
    title = "classifier (the judge)"

    def curves(self):
        return (("loss", "accuracy"),)

    def checkpoint_notes(self, config, metrics):
        return [f"test accuracy {100 * metrics['test_accuracy']:.1f}%"]

    @torch.no_grad()
    def evaluate(self, model: Classifier, images, labels):
        """Test accuracy and cross-entropy (nats per image)."""
        correct, nats = 0.0, 0.0
        for start in range(0, len(images), 500):
            logits = model.logits(images[start: start + 500])
            y = labels[start: start + 500].to(logits.device)
            correct += float((logits.argmax(1) == y).sum())
            nats += float(F.cross_entropy(logits, y, reduction="sum"))
        return {"test_accuracy": round(correct / len(images), 5),
                "test_cross_entropy_nats": round(nats / len(images), 5)}

    @torch.no_grad()
    def preview(self, model: Classifier, test_x, test_y, generator):
        """A classifier draws nothing: the test pictures it misreads first, then the others."""
        predicted = torch.cat([model.logits(test_x[i: i + 1000]).argmax(1) for i in range(0, len(test_x), 1000)])
        order = torch.argsort((predicted == test_y.to(predicted.device)).int(), stable=True)[:64]
        return test_x[order.to(test_x.device)].cpu(), 8
