import gzip
import struct

import numpy as np
import pytest
from PIL import Image

import genexplorer as gx
from genexplorer import data


def write_idx(path, array, *, gz=False):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    (gzip.open if gz else open)(path, "wb").write(payload)


def test_shipped_mnist_split_is_fixed_and_stratified():
    x_train, y_train = gx.load_dataset("mnist", "train")
    x_test, y_test = gx.load_dataset("mnist", "test")
    assert x_train.shape == (4500, 28, 28) and x_test.shape == (500, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.int64
    assert np.bincount(y_test, minlength=10).tolist() == [50] * 10
    with np.load(data.ASSETS_DIR / "mnist.npz") as arrays:
        assert not set(arrays["train_index"]) & set(arrays["test_index"])
        assert len(set(arrays["train_index"]) | set(arrays["test_index"])) == 5000
    # digits are white ink on black, like MNIST
    assert x_test[:, 0, :].mean() < 5 and x_test.max() == 255


def test_shipped_fashion_test_set():
    x, y = gx.load_dataset("fashion", "test")
    assert x.shape == (10000, 28, 28) and np.bincount(y).tolist() == [1000] * 10
    assert gx.dataset_info("fashion").class_names[9] == "Ankle boot"


def test_font_digits_are_balanced_drawings_from_fonts_the_handwriting_test_does_not_use():
    x, y = data.load_font_digits()
    assert x.shape[1:] == (28, 28) and x.dtype == np.uint8 and len(x) > 5000
    assert np.bincount(y, minlength=10).min() > 500, "every digit, about equally"
    with np.load(data.ASSETS_DIR / "font_digits.npz") as arrays:
        fonts = set(arrays["sources"].tolist())
    with np.load(data.PACKAGE_ROOT / "tests" / "data" / "handwriting.npz") as arrays:
        assert not fonts & set(arrays["sources"].tolist()), "no font of the handwriting test set is trained on"
    assert len(fonts) >= 20
    # framed as the app frames a drawing (MNIST's recipe: ink in the middle, centred by its mass; dark border)
    assert x[:, :2, :].mean() < 2 and x[:, 10:18, 10:18].mean() > 50 and x.max() == 255


def test_assets_stay_small():
    total = sum(p.stat().st_size for p in data.ASSETS_DIR.rglob("*") if p.is_file())
    assert total < 10e6, f"assets/ holds {total / 1e6:.1f} MB"


def test_fashion_train_missing_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "DEBIAN_FASHION_DIR", tmp_path / "nowhere")
    monkeypatch.delenv(data.DATA_ENV_VAR, raising=False)
    with pytest.raises(gx.DatasetError, match="apt-get install dataset-fashion-mnist"):
        gx.load_dataset("fashion", "train")


def test_fashion_train_from_data_dir_and_env(tmp_path, monkeypatch):
    images = np.random.default_rng(0).integers(0, 256, (7, 28, 28))
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", images, gz=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.arange(7) % 10, gz=True)
    monkeypatch.setattr(data, "DEBIAN_FASHION_DIR", tmp_path / "nowhere")
    x, y = gx.load_dataset("fashion", "train", data_dir=tmp_path)
    assert np.array_equal(x, images) and y.tolist() == list(range(7))
    monkeypatch.setenv(data.DATA_ENV_VAR, str(tmp_path))
    assert len(gx.load_dataset("fashion", "train")[0]) == 7


def test_idx_folder_plain_and_gzipped(tmp_path):
    images = np.random.default_rng(1).integers(0, 256, (5, 28, 28))
    write_idx(tmp_path / "t10k-images-idx3-ubyte", images)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([3, 1, 4, 1, 5]))
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", images, gz=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([2, 7, 1, 8, 2]), gz=True)
    x, y = gx.load_dataset(str(tmp_path), "test")
    assert np.array_equal(x, images) and y.tolist() == [3, 1, 4, 1, 5]
    assert gx.load_dataset(str(tmp_path), "train")[1].tolist() == [2, 7, 1, 8, 2]


def test_corrupt_idx_files_are_reported(tmp_path):
    images = np.zeros((4, 28, 28))
    write_idx(tmp_path / "train-images-idx3-ubyte", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.arange(4))
    truncated = (tmp_path / "train-images-idx3-ubyte").read_bytes()[:-100]
    (tmp_path / "train-images-idx3-ubyte").write_bytes(truncated)
    with pytest.raises(gx.DatasetError, match="truncated or corrupt"):
        gx.load_dataset(str(tmp_path), "train")
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"%PDF-1.4 not an idx file at all")
    with pytest.raises(gx.DatasetError, match="bad magic"):
        gx.load_dataset(str(tmp_path), "train")
    (tmp_path / "train-images-idx3-ubyte").unlink()
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b broken gzip")
    with pytest.raises(gx.DatasetError, match="cannot read"):
        gx.load_dataset(str(tmp_path), "train")


def test_idx_count_mismatch(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((4, 28, 28)))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.arange(3))
    with pytest.raises(gx.DatasetError, match="4 images but"):
        gx.load_dataset(str(tmp_path), "train")


def test_image_folder_by_class(tmp_path):
    for name, colour in (("circle", 0), ("square", 0)):
        (tmp_path / name).mkdir()
        for i in range(10):
            picture = Image.new("L", (64, 48), 255)
            picture.paste(colour, (10 + i, 10, 40, 30))
            picture.save(tmp_path / name / f"{i}.png")
    (tmp_path / "circle" / "broken.png").write_bytes(b"not a png")
    x_train, y_train = gx.load_dataset(str(tmp_path), "train")
    x_test, y_test = gx.load_dataset(str(tmp_path), "test")
    assert x_train.shape == (18, 28, 28) and x_test.shape == (2, 28, 28)
    assert sorted(set(y_train.tolist())) == [0, 1] and y_test.tolist() == [0, 1]
    assert gx.dataset_info(str(tmp_path)).class_names == ("circle", "square")


def test_unknown_dataset_and_split():
    with pytest.raises(gx.DatasetError, match="unknown dataset"):
        gx.load_dataset("cifar", "train")
    with pytest.raises(gx.DatasetError, match="unknown split"):
        gx.load_dataset("mnist", "validation")
