"""genexplorer: see how generative models work, side by side, on MNIST digits and Fashion-MNIST.

The families: autoencoders (conv, and the lectures' zoo: PCA, dense, overcomplete, sparse), a denoising
AE, a VAE and a conditional VAE, GANs (DCGAN, class-conditional, Wasserstein with clipping or gradient
penalty), a PixelCNN, a context encoder and pix2pix, all behind one interface; diffusion and flow models
are next. The Gradio page is ``genexplorer.app`` (the ``genexplorer`` command), the training CLI
``genexplorer.train`` (``genexplorer-train``).

    import genexplorer as gx
    m = gx.load("mnist-vae")
    x = gx.preprocess(picture)[None]      # (1, 1, 28, 28) float in [0, 1]
    m.reconstruct(x)
"""
from .checkpoints import CheckpointError, list_checkpoints, load
from .data import DatasetError, dataset_info, load_dataset
from .edges import edges
from .models import UnsupportedOperation
from .preprocess import BlankImageError, preprocess
from .version import __version__

__all__ = [
    "load", "list_checkpoints", "preprocess", "load_dataset", "dataset_info", "edges",
    "CheckpointError", "DatasetError", "BlankImageError", "UnsupportedOperation", "__version__",
]
