"""The words the page uses and what they mean, and which Learn note goes with each tab.

Plain data (no Gradio): the page's script (ui/presenter.py) marks each term where it appears, with its
explanation on hover, focus and tap; the Learn tab (ui/learn.py) builds its table of contents from the notes'
headings; each tab links to its note by the heading's start.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Term:
    term: str            # as the page writes it
    pattern: str         # a JavaScript (and Python) regular expression source matching it in running text
    meaning: str         # one or two plain sentences
    note: str            # the start of the Learn note's heading that explains it further


TERMS = (
    Term("PSNR", r"PSNR", "Peak signal-to-noise ratio, in dB: 10 log10(1 / mean squared error) for pixels in [0, 1]. "
         "Higher is closer to the reference; +3 dB is half the squared error.", "Autoencoder (AE)"),
    Term("SSIM", r"SSIM", "Structural similarity: compares local brightness, contrast and structure of two pictures. "
         "1 is identical, 0 no shared structure (it can go slightly below 0).", "Denoising AE"),
    Term("MSE", r"MSE", "Mean squared error: the average of (pixel - reconstruction)^2 over the 784 pixels, "
         "pixels in [0, 1]. Lower is closer.", "Autoencoder (AE)"),
    Term("nats", r"nats", "A unit of information: -log p with the natural logarithm (1 nat = 1.44 bits). "
         "Fewer nats for a picture means the model finds it more likely.", "Variational AE (VAE)"),
    Term("ELBO", r"-?ELBO", "Evidence lower bound: what a VAE maximises, log p(x) >= ELBO = reconstruction term - KL. "
         "Its negative (-ELBO, in nats) is an upper bound on -log p(x).", "Variational AE (VAE)"),
    Term("KL", r"KL", "Kullback-Leibler divergence: how far one distribution is from another, in nats (0 when "
         "they are equal). In a VAE, the price of a code straying from the prior N(0, I).", "Variational AE (VAE)"),
    Term("W1", r"W1|W_1", "Wasserstein-1 (earth mover's) distance: the least average distance the generated "
         "points must move to land on the data. 0 means the two match.", "How a GAN trains"),
    Term("JS", r"JS", "Jensen-Shannon divergence between the data and the generator: log 2 (about 0.693) when "
         "they do not overlap at all, 0 when they match.", "How a GAN trains"),
    Term("|grad G|", r"\|grad G\|", "The size of the gradient the generator G receives: near 0, G has no "
         "direction to move in, and stops learning.", "How a GAN trains"),
    Term("EMA", r"EMA", "Exponential moving average of the weights: each step the average moves a little towards "
         "the new weights (decay 0.999 keeps 99.9 % of the old average); samples are drawn with the average.",
         "How a GAN trains"),
    Term("Frechet distance", r"Fr[eé]chet distance|FID", "The distance between two Gaussians fitted to features "
         "of real and of generated pictures (their means and covariances). Lower means the samples look more like "
         "the data, in variety as well as quality.", "How a GAN trains"),
    Term("SNR", r"SNR", "Signal-to-noise ratio of a noised picture: alpha^2 / sigma^2, the share of picture "
         "against noise (in dB: 10 log10 of it). It falls from very high at t = 0 to 0 at t = 1.", "Diffusion"),
    Term("DDIM", r"DDIM", "Denoising diffusion implicit models: a deterministic way to walk a diffusion model "
         "from noise to a picture, in as few steps as you like (each one network pass).", "Diffusion"),
    Term("DDPM", r"DDPM", "Denoising diffusion probabilistic models: the diffusion model's training, and its "
         "sampler that adds fresh noise at every step (usually 1,000 steps).", "Diffusion"),
    Term("UMAP", r"UMAP", "Uniform manifold approximation and projection: squeezes many-dimensional codes into 2-D "
         "for a map, keeping neighbours near each other (distances far apart mean little).", "Autoencoder (AE)"),
    Term("PCA", r"PCA(?:-16)?", "Principal component analysis: the best linear code, the directions of largest "
         "variance; also the linear autoencoder's optimum.", "The autoencoder zoo"),
    Term("bending", r"bending", "How curved the walks from noise to sample are (Liu et al. 2023): 0 for straight "
         "lines, which a few large steps can follow.", "Diffusion"),
)

# tab id (ui/__init__.py) -> the start of the heading of the Learn note that explains it
TAB_NOTES = {
    "draw": "Variational AE (VAE)",
    "noise": "Denoising AE",
    "zoo": "The autoencoder zoo",
    "sliders": "Conditional VAE (CVAE)",
    "map": "Variational AE (VAE)",
    "interpolate": "GAN (DCGAN)",
    "generate": "GAN (DCGAN)",
    "diffusion": "Diffusion",
    "sketch": "pix2pix",
    "ganlab": "How a GAN trains",
    "upload": "Context encoder",
    "complete": "PixelCNN",
    "train": "How a GAN trains",
    "class": "Class mode",
}
_HEADING = re.compile(r"^###\s+(.+?)\s*$", re.MULTILINE)


def headings(text: str) -> list[str]:
    """The notes' '### ' headings, in order, as written (markdown included)."""
    return _HEADING.findall(text)


def plain(heading: str) -> str:
    """A heading without its markdown emphasis: '**Draw**' -> 'Draw'."""
    return heading.replace("**", "").replace("*", "").strip()


def title(heading: str) -> str:
    """What a table of contents shows of a heading: up to its ': see it on ...'."""
    return plain(heading).split(": ")[0]


def terms_in(text: str) -> list[str]:
    """The glossary's terms that occur in ``text``, as the page would mark them (whole words only)."""
    found = []
    for term in TERMS:
        if re.search(rf"(?<![\w-]){term.pattern}(?!\w)", text):
            found.append(term.term)
    return found


def as_json() -> str:
    """The terms and the tabs' notes for the page's script."""
    return json.dumps({"terms": [asdict(term) for term in TERMS], "tabs": TAB_NOTES})
