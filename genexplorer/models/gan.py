"""DCGAN for 28x28 images (Radford et al. 2016), as in the lectures, with an optional
class-conditional variant (cGAN, Mirza & Osindero 2014), and the Wasserstein GAN with weight
clipping (Arjovsky et al. 2017) or a gradient penalty (Gulrajani et al. 2017) on the same networks."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
import torch.nn.functional as F

from .base import GenerativeModel, ModelConfig, UnsupportedOperation, class_planes
from .family import Family, option


GAN_LOSSES = ("nonsaturating", "wgan_clip", "wgan_gp")


@dataclass
class GANConfig(ModelConfig):
    latent_dim: int = 100
    width: int = 64          # generator: 4w -> 2w -> w channels; discriminator: w -> 2w
    dropout: float = 0.3
    loss: str = "nonsaturating"   # or a Wasserstein critic: "wgan_clip", "wgan_gp"
    clip: float = 0.01            # wgan_clip: the critic's weights stay in [-clip, clip]
    gp_weight: float = 10.0       # wgan_gp: lambda
    critic_steps: int = 5         # WGANs: critic updates per generator update (n_critic)
    # cGAN: the class also enters D's score as an inner product with D's features (the projection
    # discriminator, Miyato & Koyama 2018). With the class only as input planes D can ignore it, and
    # the first shipped cGAN drew the asked digit 88 % of the time for its worst class.
    projection: bool = False
    # cGAN: D also names the class of what it sees, and G is trained to make pictures D names as asked (the
    # auxiliary classifier of AC-GAN, Odena et al. 2017), at this weight beside the adversarial loss; 0: off.
    class_loss_weight: float = 0.0
    # cGAN: the class also as input planes of D (the first cGANs). New runs turn them off: with them D's features
    # carry y itself, so a projection can judge less and an auxiliary classifier only reads the class back.
    class_planes_in_d: bool = True

    def validate(self) -> None:
        super().validate()
        if not 8 <= self.width <= 256:
            raise ValueError(f"width must be between 8 and 256, got {self.width}")
        if self.loss not in GAN_LOSSES:
            raise ValueError(f"unknown GAN loss {self.loss!r}: use one of {GAN_LOSSES}")
        if self.loss != "nonsaturating" and self.conditional:
            raise ValueError("a class-conditional WGAN is not offered: use cgan, or wgan / wgan-gp without classes")
        if not 0 < self.clip <= 1:
            raise ValueError(f"clip must be in (0, 1], got {self.clip}")
        if not 0 <= self.gp_weight <= 1000:
            raise ValueError(f"gp_weight must be in [0, 1000], got {self.gp_weight}")
        if self.projection and not self.conditional:
            raise ValueError("projection needs a class-conditional GAN (cgan)")
        if self.class_loss_weight and not self.conditional:
            raise ValueError("class_loss_weight needs a class-conditional GAN (cgan)")
        if not 0 <= self.class_loss_weight <= 10:
            raise ValueError(f"class_loss_weight must be in [0, 10], got {self.class_loss_weight}")
        if not 1 <= self.critic_steps <= 100:
            raise ValueError(f"critic_steps must be between 1 and 100, got {self.critic_steps}")

    @property
    def wasserstein(self) -> bool:
        return self.loss != "nonsaturating"


class Generator(nn.Module):
    """(B, latent [+ classes]) -> (B, 1, 28, 28) in [-1, 1]."""

    def __init__(self, in_features: int, width: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_features, 7 * 7 * 4 * width, bias=False),                   # (B, 7*7*256)
            nn.BatchNorm1d(7 * 7 * 4 * width),
            nn.LeakyReLU(0.2),
            nn.Unflatten(1, (4 * width, 7, 7)),                                       # (B, 256, 7, 7)
            nn.ConvTranspose2d(4 * width, 2 * width, 5, stride=1, padding=2, bias=False),  # (B, 128, 7, 7)
            nn.BatchNorm2d(2 * width),
            nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(2 * width, width, 5, stride=2, padding=2, output_padding=1, bias=False),  # (B, 64, 14, 14)
            nn.BatchNorm2d(width),
            nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(width, 1, 5, stride=2, padding=2, output_padding=1),   # (B, 1, 28, 28)
            nn.Tanh(),
        )

    def forward(self, z):
        return self.net(z)


class Discriminator(nn.Module):
    """(B, 1 [+ classes], 28, 28) in [-1, 1] -> (B,) logits of 'real'; with projection_classes, the
    logit adds <embed(y), features(x)>, so D must judge whether x looks like *that* class."""

    def __init__(self, in_channels: int, width: int, dropout: float, projection_classes: int = 0,
                 auxiliary_classes: int = 0):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, width, 5, stride=2, padding=2),        # (B, 64, 14, 14)
            nn.LeakyReLU(0.2),
            nn.Dropout(dropout),
            nn.Conv2d(width, 2 * width, 5, stride=2, padding=2),          # (B, 128, 7, 7)
            nn.LeakyReLU(0.2),
            nn.Dropout(dropout),
            nn.Flatten(),
            nn.Linear(2 * width * 49, 1),                                 # (B, 1)
        )
        self.embed = nn.Embedding(projection_classes, 2 * width * 49) if projection_classes else None
        if self.embed is not None:
            nn.init.normal_(self.embed.weight, std=0.01)   # starts as the plain cGAN's D
        self.classes = nn.Linear(2 * width * 49, auxiliary_classes) if auxiliary_classes else None

    def forward(self, x, y=None, with_classes: bool = False):
        """-> (B,) logits of 'real'; with_classes: also the auxiliary classifier's (B, classes) logits (or None).
        One forward for both, so DistributedDataParallel (which only sees forward) serves the cGAN too."""
        logits, classes = self._judge(x, y)
        return (logits, classes) if with_classes else logits

    def _judge(self, x, y=None):
        if self.embed is None and self.classes is None:
            return self.net(x).squeeze(1), None
        features = self.net[:-1](x)                                       # (B, 2w*49)
        logits = self.net[-1](features).squeeze(1)
        if self.embed is not None:
            logits = logits + (self.embed(y) * features).sum(1)
        return logits, None if self.classes is None else self.classes(features)


class GAN(GenerativeModel):
    kind = "gan"
    config_class = GANConfig
    abilities = frozenset({"decodes", "samples", "adversarial", "gaussian_latent"})

    def __init__(self, config: GANConfig):
        super().__init__(config)
        extra = config.num_classes if config.conditional else 0
        self.generator = Generator(config.latent_dim + extra, config.width)
        planes = extra if config.class_planes_in_d else 0
        self.discriminator = Discriminator(1 + planes, config.width, config.dropout,
                                           config.num_classes if config.projection else 0,
                                           config.num_classes if config.class_loss_weight else 0)

    @property
    def kind(self) -> str:  # noqa: F811 - the conditional and Wasserstein variants report themselves
        if self.config.wasserstein:
            return {"wgan_clip": "wgan", "wgan_gp": "wgan-gp"}[self.config.loss]
        return "cgan" if self.config.conditional else "gan"

    def encode(self, x, y=None):
        raise UnsupportedOperation(
            "a GAN has no encoder: it only maps noise to images. Use an ae or vae to encode a picture."
        )

    def reconstruct(self, x, y=None):
        self.encode(x, y)

    def generate(self, z, y=None):
        """(B, latent_dim) -> (B, 1, 28, 28) in [-1, 1], the generator's own range."""
        z = self._check_latent(z)
        y = self._labels(y, z.shape[0])
        if y is not None:
            z = torch.cat([z, self._one_hot(y)], dim=1)
        return self.generator(z)

    def decode(self, z, y=None):
        return (self.generate(z, y) + 1.0) / 2.0

    def discriminate(self, images, y=None):
        """images in [-1, 1] -> (B,) logits that the images are real."""
        return self._judge(images, y)[0]

    def _judge(self, images, y=None):
        """-> (logits of 'real' (B,), the auxiliary classifier's class logits (B, classes) or None)."""
        y = self._labels(y, images.shape[0])
        if y is None:
            return self.discriminator(images, with_classes=True)
        if self.config.class_planes_in_d:
            images = torch.cat([images, class_planes(self._one_hot(y))], dim=1)
        return self.discriminator(images, y if self.config.projection else None, with_classes=True)

    def discriminator_loss(self, x, y=None):
        """BCE of D on a real batch (label 1) and a fake batch (label 0), Goodfellow et al. 2014;
        for a WGAN, the critic's E[C(G(z))] - E[C(x)] (plus the gradient penalty)."""
        real = x.to(self.device) * 2.0 - 1.0
        batch = real.shape[0]
        fake_y = self._random_labels(batch) if self.conditional else None
        with torch.no_grad():
            fake = self.generate(self.prior_sample(batch), fake_y)
        if self.config.wasserstein:
            return self._critic_loss(real, fake)
        # One pass over real and fake together (D has no batch norm, so this is the same as two):
        # DistributedDataParallel synchronises one forward per backward.
        both_y = None if y is None else torch.cat([self._labels(y, batch), fake_y])
        logits, class_logits = self._judge(torch.cat([real, fake]), both_y)
        real_logits, fake_logits = logits.split(batch)
        loss = (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
        terms = {"d_real": torch.sigmoid(real_logits).mean(), "d_fake": torch.sigmoid(fake_logits).mean()}
        if class_logits is not None:
            # D learns to name the class of real pictures only: the fakes' classes are what G must earn.
            class_loss = F.cross_entropy(class_logits[:batch], both_y[:batch])
            loss = loss + self.config.class_loss_weight * class_loss
            terms["d_class"] = class_loss
        return {"loss": loss, **terms}

    def _critic_loss(self, real, fake):
        """The critic maximises E[C(x)] - E[C(G(z))], its estimate of the Wasserstein-1 distance when C is
        1-Lipschitz (Arjovsky et al. 2017); WGAN-GP adds lambda (|grad C(x_hat)| - 1)^2 on points x_hat
        between real and fake (Gulrajani et al. 2017). One pass over all of them (see above)."""
        batch = real.shape[0]
        parts = [real, fake]
        if self.config.loss == "wgan_gp":
            mix = torch.rand(batch, 1, 1, 1, device=real.device)
            parts.append((mix * real + (1 - mix) * fake).requires_grad_(True))
        scores = self.discriminate(torch.cat(parts))
        real_score, fake_score = scores[:batch].mean(), scores[batch: 2 * batch].mean()
        estimate = real_score - fake_score
        loss = -estimate
        if self.config.loss == "wgan_gp":
            (grad,) = torch.autograd.grad(scores[2 * batch:].sum(), parts[2], create_graph=True)
            loss = loss + self.config.gp_weight * (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()
        return {"loss": loss, "critic_real": real_score, "critic_fake": fake_score, "w_estimate": estimate}

    @torch.no_grad()
    def clip_critic(self) -> None:
        """WGAN weight clipping: a crude way to keep the critic Lipschitz (Arjovsky et al. 2017)."""
        for p in self.discriminator.parameters():
            p.clamp_(-self.config.clip, self.config.clip)

    def generator_loss(self, batch: int):
        """Non-saturating generator loss: -log D(G(z)) instead of log(1 - D(G(z))),
        which gives strong gradients while D still wins (Goodfellow et al. 2014, section 3)."""
        fake_y = self._random_labels(batch) if self.conditional else None
        logits, class_logits = self._judge(self.generate(self.prior_sample(batch), fake_y), fake_y)
        if self.config.wasserstein:
            return {"loss": -logits.mean()}       # raise the critic's score of the fakes
        loss = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        if class_logits is None:
            return {"loss": loss}
        class_loss = F.cross_entropy(class_logits, fake_y)   # make pictures D names as the class asked for
        return {"loss": loss + self.config.class_loss_weight * class_loss, "g_class": class_loss}

    def loss(self, x, y=None):
        d = self.discriminator_loss(x, y)
        g = self.generator_loss(x.shape[0])
        return {"loss": g["loss"], "d_loss": d["loss"], "g_loss": g["loss"],
                **{k: v for k, v in d.items() if k != "loss"}}

    def _random_labels(self, batch: int) -> torch.Tensor:
        return torch.randint(self.num_classes, (batch,), device=self.device)


# ------------------------------------------------------------ the family

@dataclass
class GANOptions:
    latent_dim: int = option(100, "numbers in the noise vector z", low=1, high=4096)
    width: int | None = option(None, "base width: the generator's 4w -> 2w -> w channels (default 64)", low=8, high=256)
    conditional: bool = option(False, "class-conditional (the cGAN): a projection discriminator and the class in G")
    class_loss_weight: float | None = option(
        None, "cGAN: weight of the auxiliary classifier's loss (AC-GAN; default 1, 0 turns it off)", low=0.0, high=10.0)


# The papers' learning rates: DCGAN (Radford et al. 2016), WGAN (Arjovsky et al. 2017), WGAN-GP (Gulrajani et al. 2017).
LEARNING_RATES = {"nonsaturating": 2e-4, "wgan_clip": 5e-5, "wgan_gp": 1e-4}


class GANFamily(Family):
    """The DCGAN and its variants: the cGAN (conditional), the WGAN with clipping and with a gradient penalty."""
    model_class = GAN
    Options = GANOptions
    title = "GAN"
    averaged = "generator"
    judged = True
    parallel = ("generator", "discriminator")

    def checkpoint_notes(self, config, metrics):
        notes = []
        if config.get("conditional"):
            notes.append(", ".join((["projection D"] if config.get("projection") else ["class as D's input planes"]) + (
                [f"auxiliary classifier {config['class_loss_weight']:g}"] if config.get("class_loss_weight") else [])))
        if "train_d_real" in metrics:
            notes.append(f"last epoch: D(x) {metrics['train_d_real']:.2f}, D(G(z)) {metrics['train_d_fake']:.2f}"
                         + (f", Frechet distance of 1,000 samples {metrics['test_frechet']:.1f}"
                            if "test_frechet" in metrics else ""))
        return notes

    def curves(self):
        if self.config_defaults.get("loss", "nonsaturating") != "nonsaturating":
            return ("d_loss", "g_loss"), ("w_estimate",)   # the critic's estimate of the Wasserstein distance
        return ("d_loss", "g_loss"), ("d_real", "d_fake")

    def check_options(self, options: GANOptions) -> None:
        if options.class_loss_weight is not None and not options.conditional:
            raise ValueError("--class-loss-weight is a setting of the class-conditional GAN (cgan)")

    def model_config(self, options: GANOptions, num_classes: int) -> dict:
        config = super().model_config(options, num_classes)
        if options.conditional:
            config.update(projection=True, class_planes_in_d=False,   # y reaches D by the projection and class head
                          class_loss_weight=1.0 if options.class_loss_weight is None else options.class_loss_weight)
        return config

    def learning_rate(self, model: GAN) -> float:
        return LEARNING_RATES[model.config.loss]

    def optimizers(self, model: GAN, lr: float) -> dict[str, torch.optim.Optimizer]:
        d, g = model.discriminator.parameters(), model.generator.parameters()
        if model.config.loss == "wgan_clip":
            # RMSprop, as the WGAN paper: momentum and the clipped critic do not mix well.
            return {"d": torch.optim.RMSprop(d, lr=lr), "g": torch.optim.RMSprop(g, lr=lr)}
        # DCGAN's Adam (beta1 0.5 keeps the two players stable); WGAN-GP's algorithm 1 has no momentum.
        betas = (0.0, 0.9) if model.config.loss == "wgan_gp" else (0.5, 0.999)
        return {"d": torch.optim.Adam(d, lr=lr, betas=betas), "g": torch.optim.Adam(g, lr=lr, betas=betas)}

    def stepper(self, model: GAN, optimizers: dict, *, amp: bool = False, loss=None):
        """One batch: (1) a D (critic) update, then (2) a G update; a WGAN's critic takes critic_steps batches
        for each generator update (n_critic), and its g_loss is then the last one."""
        every = model.config.critic_steps if model.config.wasserstein else 1
        state = {"batches": 0, "g_loss": 0.0}

        def step(x, y):
            state["batches"] += 1
            y = y if model.conditional else None
            # (1) update D: push D(x) towards 1 and D(G(z)) towards 0 (WGAN: widen C(x) - C(G(z))).
            d_terms = model.discriminator_loss(x, y)
            optimizers["d"].zero_grad(set_to_none=True)
            d_terms["loss"].backward()
            optimizers["d"].step()
            if model.config.loss == "wgan_clip":
                model.clip_critic()
            if state["batches"] % every == 0:
                # (2) update G: the non-saturating loss, push D(G(z)) towards 1 (WGAN: raise C(G(z))).
                g_terms = model.generator_loss(x.shape[0])
                optimizers["g"].zero_grad(set_to_none=True)
                g_terms["loss"].backward()
                optimizers["g"].step()
                state["g_loss"] = float(g_terms["loss"].detach())
            return {"d_loss": float(d_terms["loss"].detach()), "g_loss": state["g_loss"],
                    **{k: float(v.detach()) for k, v in d_terms.items() if k != "loss"}}
        return step
