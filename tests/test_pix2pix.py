"""pix2pix and the edge function: sketches made from pictures, translated back; the L1-only twin; bad input."""
import numpy as np
import pytest
import torch

import genexplorer as gx
from genexplorer import checkpoints, models, sketching
from genexplorer.edges import edges, is_blank
from genexplorer.explore import ExploreError
from genexplorer.models import build
from genexplorer.models.base import UnsupportedOperation


def tiny(adversarial=1.0):
    torch.manual_seed(0)
    model = build("pix2pix", {"channels": 4, "adversarial_weight": adversarial})
    model.dataset = "fashion"
    return model.eval()


def test_edges_are_thin_outlines_and_a_thin_drawing_stays_itself():
    x = torch.zeros(1, 1, 28, 28)
    x[..., 6:22, 8:20] = 0.7                      # a filled box
    e = edges(x)
    assert set(e.unique().tolist()) <= {0.0, 1.0}
    assert e[..., 6, 8:20].all() and e[..., 6:22, 8].all(), "its outline"
    assert not e[..., 10:18, 11:17].any(), "not its inside"
    stroke = torch.zeros(1, 1, 28, 28)
    stroke[..., 14, 4:24] = 1.0                   # a one-pixel line, as drawn
    assert torch.equal(edges(stroke), stroke)
    assert is_blank(torch.zeros(2, 1, 28, 28)).all() and not is_blank(e).any()
    for bad in (torch.rand(28, 28), torch.full((1, 1, 28, 28), float("nan"))):
        with pytest.raises(ValueError):
            edges(bad)


def test_edges_of_the_fashion_test_set_are_sparse_outlines():
    images, _ = gx.load_dataset("fashion", "test")
    x = torch.from_numpy(images[:200]).float().div(255).unsqueeze(1)
    share = edges(x).mean(dim=(1, 2, 3))
    assert 0.03 < float(share.median()) < 0.35, "outlines, not filled shapes"


def test_translate_shapes_the_twin_and_bad_input():
    x = torch.rand(3, 1, 28, 28)
    model = tiny()
    out = model.translate(edges(x))
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    assert torch.equal(out, model.translate(edges(x))), "deterministic at inference (no dropout)"
    twin = tiny(0.0)
    assert twin.discriminator is None and set(twin.train().loss(x)) == {"loss", "l1"}
    terms = model.train().loss(x)
    assert torch.allclose(terms["loss"], terms["adv"] + 100 * terms["l1"])
    with pytest.raises(ValueError, match="blank"):
        model.translate(torch.zeros(1, 1, 28, 28))
    with pytest.raises(ValueError, match="NaN"):
        model.translate(torch.full((1, 1, 28, 28), float("nan")))
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\)"):
        model.translate(torch.rand(28, 28))
    for call in (lambda: model.encode(x), lambda: model.sample(2), lambda: model.reconstruct(x)):
        with pytest.raises(UnsupportedOperation, match="translate"):
            call()


def test_one_adversarial_step_moves_both_networks_and_checkpoints_round_trip(tmp_path):
    model = tiny().train()
    family = models.family_of(model)
    optimizers = family.optimizers(model, 2e-4)
    before_d = [p.clone() for p in model.discriminator.parameters()]
    before_g = [p.clone() for p in model.generator.parameters()]
    family.stepper(model, optimizers)(torch.rand(4, 1, 28, 28), None)
    assert any(not torch.equal(a, b) for a, b in zip(before_d, model.discriminator.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(before_g, model.generator.parameters()))
    model.eval()
    sketch = edges(torch.rand(2, 1, 28, 28))
    loaded = checkpoints.load(checkpoints.save(model, tmp_path / "fashion-pix2pix"))
    assert loaded.kind == "pix2pix" and torch.equal(loaded.translate(sketch), model.translate(sketch))


def test_a_drawing_becomes_a_sketch_like_the_training_ones():
    drawing = np.zeros((112, 112), np.uint8)
    drawing[20:92, 30] = drawing[20:92, 80] = drawing[20, 30:81] = drawing[91, 30:81] = 255   # a thin rectangle
    sketch = sketching.drawing_to_sketch(drawing)
    assert sketch.shape == (1, 1, 28, 28) and 20 < int(sketch.sum()) < 200
    for blank in (np.zeros((112, 112), np.uint8), np.pad([[255]], ((50, 61), (50, 61))).astype(np.uint8)):
        with pytest.raises(ExploreError, match="blank|small"):
            sketching.drawing_to_sketch(blank)
    models = {"pix2pix (L1 + adversarial)": ("t", tiny())}
    out = sketching.translate_all(models, sketch)
    assert out["pix2pix (L1 + adversarial)"].shape == (28, 28)
