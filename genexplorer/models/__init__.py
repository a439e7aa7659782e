"""The model registry: kind -> class. Everything that builds a model goes through ``build``."""
from __future__ import annotations

from .ae import AE, AEConfig
from .base import GenerativeModel, ModelConfig, UnsupportedOperation
from .classifier import Classifier, ClassifierConfig
from .context import ContextConfig, ContextEncoder
from .cvae import CVAE, CVAEConfig
from .gan import GAN, GANConfig
from .pca import PCA, PCAConfig
from .pix2pix import Pix2Pix, Pix2PixConfig
from .pixelcnn import PixelCNN, PixelCNNConfig
from .vae import VAE, VAEConfig, gaussian_kl

# The denoising AE is an AE with a noise setting, the cGAN a conditional GAN, the WGANs a GAN with a critic loss.
MODELS: dict[str, type[GenerativeModel]] = {
    "ae": AE, "dae": AE, "vae": VAE, "cvae": CVAE, "gan": GAN, "cgan": GAN, "wgan": GAN, "wgan-gp": GAN,
    "classifier": Classifier, "pixelcnn": PixelCNN, "pca": PCA,
    "context": ContextEncoder, "context_encoder": ContextEncoder, "pix2pix": Pix2Pix,
}
# PCA is the linear autoencoder's optimum, fitted in closed form: it goes wherever an AE goes.
ENCODER_KINDS = ("ae", "dae", "vae", "cvae", "pca")
# What the explorer's pickers offer: everything that draws (the classifier only reads).
GAN_KINDS = ("gan", "cgan", "wgan", "wgan-gp")
GENERATIVE_KINDS = ENCODER_KINDS + GAN_KINDS
# Models with an exact likelihood and pixel-by-pixel sampling, but no latent code for sliders or maps.
AUTOREGRESSIVE_KINDS = ("pixelcnn",)
# Image-to-image models: they fill or translate a given picture, never draw from nothing.
IMAGE_TO_IMAGE_KINDS = ("context_encoder", "pix2pix")


def model_class(kind: str) -> type[GenerativeModel]:
    try:
        return MODELS[kind]
    except KeyError:
        raise ValueError(f"unknown model kind {kind!r}: use one of {sorted(MODELS)}") from None


def make_config(kind: str, settings: dict) -> ModelConfig:
    """Build the config dataclass of ``kind`` from a dict, refusing unknown keys (typos)."""
    config_class = model_class(kind).config_class
    known = set(config_class.__dataclass_fields__)
    unknown = set(settings) - known
    if unknown:
        raise ValueError(f"unknown {kind} settings {sorted(unknown)}; known: {sorted(known)}")
    return config_class(**settings)


def build(kind: str, settings: dict | None = None) -> GenerativeModel:
    settings = dict(settings or {})
    if kind == "cgan":
        settings.setdefault("conditional", True)
    if kind in ("wgan", "wgan-gp"):
        settings.setdefault("loss", "wgan_clip" if kind == "wgan" else "wgan_gp")
        settings.setdefault("dropout", 0.0)   # a critic's gradients, not a classifier's robustness
    if kind == "dae":
        settings.setdefault("noise", "mixed")
        settings.setdefault("noise_level", 0.5)
    return model_class(kind)(make_config(kind, settings))


__all__ = [
    "AE", "AEConfig", "VAE", "VAEConfig", "CVAE", "CVAEConfig", "GAN", "GANConfig",
    "Classifier", "ClassifierConfig", "PCA", "PCAConfig", "ContextEncoder", "ContextConfig", "Pix2Pix", "Pix2PixConfig", "IMAGE_TO_IMAGE_KINDS", "PixelCNN", "PixelCNNConfig", "AUTOREGRESSIVE_KINDS",
    "GenerativeModel", "ModelConfig", "UnsupportedOperation", "MODELS", "ENCODER_KINDS", "GENERATIVE_KINDS", "GAN_KINDS",
    "build", "make_config", "model_class", "gaussian_kl",
]
