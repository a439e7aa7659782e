"""genexplorer: see how autoencoders, VAEs, CVAEs and GANs work.

    import genexplorer as gx
    m = gx.load("mnist-vae")
    x = gx.preprocess(picture)[None]      # (1, 1, 28, 28)
    m.reconstruct(x)
"""
__version__ = "0.1.0"

from .checkpoints import CheckpointError, list_checkpoints, load  # noqa: E402
from .data import DatasetError, dataset_info, load_dataset  # noqa: E402
from .edges import edges  # noqa: E402
from .models import UnsupportedOperation  # noqa: E402
from .preprocess import BlankImageError, preprocess  # noqa: E402

__all__ = [
    "load", "list_checkpoints", "preprocess", "load_dataset", "dataset_info", "edges",
    "CheckpointError", "DatasetError", "BlankImageError", "UnsupportedOperation", "__version__",
]
