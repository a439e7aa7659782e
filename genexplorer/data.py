"""Datasets: the shipped ones in assets/, Debian's Fashion-MNIST, and user folders.

Every loader returns ``(images, labels)``: ``images`` a uint8 array (N, 28, 28) with
white ink on black (0 = background, 255 = ink), ``labels`` an int64 array (N,).
Nothing here downloads anything.
"""
from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = PACKAGE_ROOT / "assets"
ASSETS_ENV_VAR = "GENEXPLORER_ASSETS"   # an installed package has no assets/ beside it: genexplorer/app.py sets this
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
DATA_ENV_VAR = "GENEXPLORER_DATA"
SPLITS = ("train", "test")

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


class DatasetError(ValueError):
    """A dataset is missing or unreadable; the message says what to do."""


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    class_names: tuple[str, ...]
    # How user pictures are turned into model input: "digit" (MNIST's recipe) or "object".
    preprocess_style: str


DATASETS = {
    "mnist": DatasetInfo("mnist", MNIST_CLASSES, "digit"),
    "fashion": DatasetInfo("fashion", FASHION_CLASSES, "object"),
}


def dataset_info(name: str) -> DatasetInfo:
    """Facts about a named dataset; a folder path gets its class names from the folder."""
    if name in DATASETS:
        return DATASETS[name]
    folder = Path(name)
    if folder.is_dir():
        class_dirs = _image_class_dirs(folder)
        names = tuple(d.name for d in class_dirs) if class_dirs else MNIST_CLASSES
        return DatasetInfo(str(folder), names, "digit")
    raise DatasetError(f"unknown dataset {name!r}: use 'mnist', 'fashion' or a folder of IDX files or images")


def load_dataset(name: str, split: str = "train", *, data_dir: str | os.PathLike | None = None):
    """Load ``split`` ("train" or "test") of a dataset.

    name: "mnist" (the 5,000 shipped MNIST digits, 4,500 train / 500 test),
    "fashion" (test set shipped; the 60,000 training images from Debian's
    dataset-fashion-mnist, ``data_dir`` or $GENEXPLORER_DATA), or the path of a
    folder holding IDX files or one sub-folder of images per class.
    Returns (uint8 array (N, 28, 28), int64 array (N,)).
    """
    if split not in SPLITS:
        raise DatasetError(f"unknown split {split!r}: use 'train' or 'test'")
    if name == "mnist":
        return _load_shipped("mnist", split)
    if name == "fashion":
        return _load_fashion(split, data_dir)
    folder = Path(name)
    if folder.is_dir():
        return load_folder(folder, split)
    raise DatasetError(f"unknown dataset {name!r}: use 'mnist', 'fashion' or a folder of IDX files or images")


def load_font_digits():
    """assets/font_digits.npz (tools/make_font_digits.py): 5,519 digits drawn from 23 fonts that the handwriting
    test set does not use, put through the app's preprocessing. Extra training digits for the reader (a 1 with a
    flag, a 7 with a bar: shapes MNIST's writers seldom drew). (uint8 (N, 28, 28), int64 (N,))."""
    return _load_shipped("font_digits", "train")


def assets_dir() -> Path:
    """The shipped datasets' folder: $GENEXPLORER_ASSETS, else assets/ beside the package (the checkout)."""
    return Path(os.environ.get(ASSETS_ENV_VAR) or ASSETS_DIR)


def _load_shipped(stem: str, split: str):
    path = assets_dir() / f"{stem}.npz"
    if not path.exists():
        raise DatasetError(f"shipped dataset file {path} is missing: restore it with `git checkout -- assets/`")
    # allow_pickle=False: the file holds plain arrays only and must never run code.
    with np.load(path, allow_pickle=False) as arrays:
        key = f"x_{split}"
        if key not in arrays:
            raise DatasetError(f"{path} has no {split} split")
        return arrays[key].astype(np.uint8), arrays[f"y_{split}"].astype(np.int64)


def _load_fashion(split: str, data_dir):
    if split == "test" and data_dir is None:
        return _load_shipped("fashion_test", "test")
    return load_idx_folder(fashion_folder(split, data_dir), split)


def fashion_folder(split: str = "train", data_dir=None) -> Path:
    """The folder holding Fashion-MNIST's ``split`` as IDX files (data_dir, $GENEXPLORER_DATA,
    then Debian's package). Raises DatasetError saying how to install it when there is none."""
    candidates = [Path(p) for p in (data_dir, os.environ.get(DATA_ENV_VAR)) if p]
    candidates.append(DEBIAN_FASHION_DIR)
    for folder in candidates:
        if folder.is_dir() and _find_idx_pair(folder, split) is not None:
            return folder
    tried = ", ".join(str(c) for c in candidates)
    raise DatasetError(
        f"the Fashion-MNIST {split} images were not found (looked in {tried}). "
        "Install them with `sudo apt-get install dataset-fashion-mnist`, or pass "
        f"--data-dir / set {DATA_ENV_VAR} to a folder holding the four IDX files."
    )


# ---------------------------------------------------------------- IDX files

def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (optionally gzipped) into a numpy array of its stored type."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as exc:
        raise DatasetError(f"cannot read IDX file {path}: {exc}") from exc
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DatasetError(f"{path} is not an IDX file (bad magic number)")
    dtypes = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    dtype_code, ndim = data[2], data[3]
    if dtype_code not in dtypes or ndim == 0:
        raise DatasetError(f"{path} is not an IDX file (type 0x{dtype_code:02x}, {ndim} dimensions)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"{path} is truncated (header incomplete)")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(dtypes[dtype_code])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise DatasetError(
            f"{path} is truncated or corrupt: header promises {expected} bytes of data, file has {len(data) - header}"
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)


def _find_idx_pair(folder: Path, split: str):
    """The (images, labels) IDX files of ``split`` in ``folder``, or None."""
    prefixes = ("train",) if split == "train" else ("t10k", "test")
    files = sorted(p for p in folder.iterdir() if p.is_file())
    images = [p for p in files if p.name.startswith(prefixes) and "idx3" in p.name]
    labels = [p for p in files if p.name.startswith(prefixes) and "idx1" in p.name]
    if images and labels:
        return images[0], labels[0]
    return None


def load_idx_folder(folder: str | os.PathLike, split: str = "train"):
    """Load a folder of MNIST-style IDX files (MNIST, Fashion-MNIST, KMNIST, EMNIST...)."""
    folder = Path(folder)
    pair = _find_idx_pair(folder, split)
    if pair is None:
        raise DatasetError(
            f"no {split} IDX files in {folder}: expected names like "
            f"'{'train' if split == 'train' else 't10k'}-images-idx3-ubyte[.gz]' and '...-labels-idx1-ubyte[.gz]'"
        )
    images, labels = read_idx(pair[0]), read_idx(pair[1])
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DatasetError(f"{pair[0]} holds images of shape {images.shape[1:]}, expected 28x28")
    if len(images) != len(labels):
        raise DatasetError(f"{pair[0]} has {len(images)} images but {pair[1]} has {len(labels)} labels")
    return images.astype(np.uint8), labels.astype(np.int64)


# ------------------------------------------------------ folders of pictures

def _image_class_dirs(folder: Path):
    root = folder / "train" if (folder / "train").is_dir() else folder
    return sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))


def load_folder(folder: str | os.PathLike, split: str = "train"):
    """Load IDX files, or images in one sub-folder per class, from ``folder``.

    Image folders with ``train/`` and ``test/`` inside use those; otherwise every
    tenth image of each class (in sorted order) is the test split.
    """
    from .preprocess import preprocess, BlankImageError  # local: preprocess imports this module

    folder = Path(folder)
    if _find_idx_pair(folder, split) is not None:
        return load_idx_folder(folder, split)
    has_split_dirs = (folder / "train").is_dir()
    root = folder / split if has_split_dirs else folder
    class_names = [d.name for d in _image_class_dirs(folder)]
    if not class_names:
        raise DatasetError(f"{folder} holds neither IDX files nor one sub-folder of images per class")
    images, labels = [], []
    for label, class_name in enumerate(class_names):
        class_dir = root / class_name
        if not class_dir.is_dir():
            continue
        paths = sorted(p for p in class_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not has_split_dirs:
            paths = [p for i, p in enumerate(paths) if (i % 10 == 9) == (split == "test")]
        for path in paths:
            try:
                from PIL import Image

                with Image.open(path) as picture:
                    array = preprocess(picture, style="object")
            except (BlankImageError, OSError, ValueError):
                continue  # unreadable or blank files are skipped, not fatal
            images.append(np.round(array.numpy()[0] * 255).astype(np.uint8))
            labels.append(label)
    if not images:
        raise DatasetError(f"no readable images for split {split!r} in {folder}")
    return np.stack(images), np.asarray(labels, dtype=np.int64)
