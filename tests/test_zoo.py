"""The autoencoder zoo (genexplorer.zoo): inputs, results per model, the code strip, the table; bad input."""
import numpy as np
import pytest
import torch

from genexplorer import zoo
from genexplorer.explore import ExploreError
from genexplorer.models import build


def seven():
    picture = np.zeros((28, 28), np.uint8)
    picture[6, 8:20] = 255
    picture[6:22, 18] = 255
    return picture


def tiny_zoo():
    torch.manual_seed(0)
    digits = torch.rand(50, 1, 28, 28)
    return {"PCA-16": ("t-pca", build("pca", {"latent_dim": 4}).fit(digits)),
            "dense AE": ("t-ae-dense", build("ae", {"architecture": "dense", "hidden": 16, "latent_dim": 4}).eval()),
            "sparse AE": ("t-ae-sparse", build("ae", {"architecture": "dense", "hidden": 0, "latent_dim": 900,
                                                      "code_activation": "relu", "l1": 0.5}).eval())}


def test_shift_moves_the_picture_and_drops_what_leaves_the_frame():
    picture = seven()
    moved = zoo.shifted(picture, 3, -2)
    assert np.array_equal(moved[4, 11:23], picture[6, 8:20]) and moved[:, :3].max() == 0
    assert np.array_equal(zoo.shifted(picture, 0, 0), picture)
    assert zoo.shifted(picture, 10, 10).sum() < picture.sum()
    for bad in (11, -11, float("nan"), "x"):
        with pytest.raises(ExploreError, match="shift"):
            zoo.shifted(picture, bad, 0)


def test_three_inputs_through_every_model_with_errors_and_active_units():
    inputs = zoo.inputs_for(seven(), 4, 0, 7)
    assert list(inputs) == list(zoo.INPUTS)
    assert np.array_equal(inputs["pure noise"], zoo.noise_picture(7)), "the same seed, the same noise"
    assert not np.array_equal(zoo.noise_picture(7), zoo.noise_picture(8))
    results = zoo.run_zoo(tiny_zoo(), inputs)
    for label, row in results.items():
        assert [r.title for r in row] == ["PCA-16", "dense AE", "sparse AE"]
        assert all(r.picture.shape == (28, 28) and r.picture.dtype == np.uint8 and np.isfinite(r.psnr) for r in row)
        assert row[2].active is not None and 0 <= row[2].active <= 900 and row[0].active is None
    table = zoo.errors_table(results)
    assert "| sparse AE (`t-ae-sparse`) | 900 (overcomplete) |" in table and "active" in table
    assert table.count("\n") == 4


def test_code_strip_shows_the_code_as_a_grid_and_counts_active_units():
    model = tiny_zoo()["sparse AE"][1]
    image, active, width = zoo.code_strip(model, seven(), scale=2)
    assert width == 900 and image.shape == (60, 60) and image.max() == 255
    z = model.encode(torch.from_numpy(seven()).float().div(255)[None, None])
    assert active == int((z > zoo.ACTIVE_THRESHOLD).sum())


def test_bad_pictures_get_clear_messages():
    with pytest.raises(ExploreError, match="blank"):
        zoo.inputs_for(np.zeros((28, 28), np.uint8), 0, 0, 0)
    with pytest.raises(ExploreError, match="28x28"):
        zoo.inputs_for(np.zeros((10, 10), np.uint8), 0, 0, 0)
    with pytest.raises(ExploreError, match="seed"):
        zoo.inputs_for(seven(), 0, 0, -1)
