"""The registry: kind -> its family's declaration (models/family.py), one line each.

Everything that builds a model goes through ``build``; everything that trains one asks ``family``. A variant (the
DAE, the cGAN, the WGANs, the CVAE) is its family's declaration with other defaults. The rest of genexplorer asks a
model what it can do (``model.can("encodes")``), and this module which kinds can (``kinds_that``), never names.
"""
from __future__ import annotations

from .ae import AE, AEConfig, AEFamily
from .base import GenerativeModel, ModelConfig, UnsupportedOperation
from .classifier import Classifier, ClassifierConfig, ClassifierFamily
from .context import ContextConfig, ContextEncoder, ContextFamily
from .cvae import CVAE, CVAEConfig
from .diffusion import Diffusion, DiffusionFamily
from .family import ABILITIES, Family
from .flow import Flow, FlowFamily
from .gan import GAN, GANConfig, GANFamily
from .pca import PCA, PCAConfig, PCAFamily
from .pix2pix import Pix2Pix, Pix2PixConfig, Pix2PixFamily
from .pixelcnn import PixelCNN, PixelCNNConfig, PixelCNNFamily
from .vae import VAE, VAEConfig, VAEFamily, gaussian_kl

_gan = GANFamily("gan")
FAMILIES: dict[str, Family] = {
    "ae": AEFamily("ae"),
    "dae": AEFamily("dae", presets={"noise": "mixed", "noise_level": 0.5}, title="denoising autoencoder"),
    "vae": VAEFamily("vae"),
    "cvae": VAEFamily("cvae", CVAE, presets={"conditional": True}, title="conditional VAE"),
    "gan": _gan,
    "cgan": _gan.variant("cgan", presets={"conditional": True}, title="class-conditional GAN"),
    "wgan": _gan.variant("wgan", config_defaults={"loss": "wgan_clip", "dropout": 0.0}, title="Wasserstein GAN, clipped"),
    "wgan-gp": _gan.variant("wgan-gp", config_defaults={"loss": "wgan_gp", "dropout": 0.0},
                            title="Wasserstein GAN, gradient penalty"),
    "pixelcnn": PixelCNNFamily("pixelcnn"),
    "pca": PCAFamily("pca"),
    "context_encoder": ContextFamily("context_encoder"),
    "pix2pix": Pix2PixFamily("pix2pix"),
    "diffusion": DiffusionFamily("diffusion"),
    "flow": FlowFamily("flow"),
    "classifier": ClassifierFamily("classifier"),
}
# What people type on the command line for a kind whose checkpoints say otherwise.
ALIASES = {"context": "context_encoder"}
# Every kind a family's module declares, for the command line's --model (aliases included).
MODELS = {**{kind: f.model_class for kind, f in FAMILIES.items()},
          **{alias: FAMILIES[kind].model_class for alias, kind in ALIASES.items()}}


def family(kind: str) -> Family:
    """The declaration of ``kind`` (or of its alias)."""
    try:
        return FAMILIES[ALIASES.get(kind, kind)]
    except KeyError:
        raise ValueError(f"unknown model kind {kind!r}: use one of {sorted(MODELS)}") from None


def family_of(model: GenerativeModel) -> Family:
    """The declaration a built model belongs to (its kind says which variant)."""
    return family(model.kind)


def model_class(kind: str) -> type[GenerativeModel]:
    return family(kind).model_class


def build(kind: str, settings: dict | None = None) -> GenerativeModel:
    """A model of ``kind`` from a config dict (a checkpoint's model_config), the variant's defaults under it."""
    return family(kind).build_from_config(dict(settings or {}))


def make_config(kind: str, settings: dict) -> ModelConfig:
    """The config dataclass of ``kind`` from a dict, refusing unknown keys (typos)."""
    return build(kind, settings).config


def kinds_that(ability: str) -> tuple[str, ...]:
    """The kinds whose models have ``ability`` by design (class-level abilities: what a default build can do)."""
    if ability not in ABILITIES:
        raise ValueError(f"unknown ability {ability!r}: use one of {ABILITIES}")
    return tuple(kind for kind, f in FAMILIES.items() if ability in f.model_class.abilities)


# The groups older code asks for, derived from the abilities (no list of names to keep in step).
ENCODER_KINDS = kinds_that("encodes")
GAN_KINDS = tuple(k for k in kinds_that("adversarial") if "decodes" in FAMILIES[k].model_class.abilities)
GENERATIVE_KINDS = ENCODER_KINDS + GAN_KINDS
AUTOREGRESSIVE_KINDS = kinds_that("exact_likelihood")
IMAGE_TO_IMAGE_KINDS = tuple(k for k, f in FAMILIES.items()
                             if {"fills_holes", "translates"} & f.model_class.abilities and "samples" not in f.model_class.abilities)

__all__ = [
    "AE", "AEConfig", "VAE", "VAEConfig", "CVAE", "CVAEConfig", "GAN", "GANConfig",
    "Classifier", "ClassifierConfig", "PCA", "PCAConfig", "ContextEncoder", "ContextConfig", "Pix2Pix",
    "Pix2PixConfig", "PixelCNN", "PixelCNNConfig", "Diffusion", "Flow",
    "GenerativeModel", "ModelConfig", "UnsupportedOperation", "Family", "FAMILIES", "ABILITIES", "MODELS",
    "ENCODER_KINDS", "GENERATIVE_KINDS", "GAN_KINDS", "AUTOREGRESSIVE_KINDS", "IMAGE_TO_IMAGE_KINDS",
    "family", "family_of", "kinds_that", "abilities_of", "build", "make_config", "model_class", "gaussian_kl",
]


def abilities_of(kind: str, config: dict | None = None) -> frozenset[str]:
    """What a model of ``kind`` can do, known without building it (a checkpoint listing reads this): its class's
    abilities, and "conditional" when ``config`` (a checkpoint's model_config; None: the variant's defaults) says so."""
    declared = family(kind)
    settings = {**declared.presets, **declared.config_defaults, **(config or {})}
    return declared.model_class.abilities | (frozenset({"conditional"}) if settings.get("conditional") else frozenset())
