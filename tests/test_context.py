"""The context encoder (Pathak et al. 2016): the hole is painted from its context, known pixels stay."""
import pytest
import torch

from genexplorer import checkpoints
from genexplorer import models as gx_models
from genexplorer.models import build
from genexplorer.models.base import UnsupportedOperation
from genexplorer.models.context import HOLES, centre_hole, random_holes


def tiny(adversarial=0.001):
    torch.manual_seed(0)
    model = build("context", {"channels": 4, "latent_dim": 8, "adversarial_weight": adversarial})
    model.dataset = "mnist"
    return model.eval()


def test_inpaint_keeps_known_pixels_and_fills_the_hole():
    model = tiny()
    x = torch.rand(3, 1, 28, 28)
    known = (~centre_hole()).float()
    out = model.inpaint(x, known)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    keep = known.bool().expand_as(x)
    assert torch.equal(out[keep], x[keep]), "known pixels are never changed"
    assert not torch.equal(out[~keep], x[~keep])
    per_image = torch.stack([known[0]] * 3)
    assert torch.equal(model.inpaint(x, per_image), out), "one mask for all or one per picture: the same"


def test_the_filling_sees_the_context_not_the_hidden_pixels():
    model = tiny()
    x = torch.rand(2, 1, 28, 28)
    known = (~centre_hole()).float()
    other = x.clone()
    other[..., 7:21, 7:21] = torch.rand(2, 1, 14, 14)     # change only what is hidden
    assert torch.equal(model.inpaint(x, known)[..., 7:21, 7:21], model.inpaint(other, known)[..., 7:21, 7:21])


def test_training_holes_are_varied_and_sized():
    holes = random_holes(300, generator=torch.Generator().manual_seed(0))
    shares = holes.float().mean(dim=(1, 2, 3))
    assert holes.dtype == torch.bool and holes.shape == (300, 1, 28, 28)
    assert 0.02 < float(shares.min()) and float(shares.max()) < 0.8 and float(shares.mean()) > 0.1
    assert len({tuple(h.flatten().tolist()) for h in holes[:50]}) == 50, "no two holes alike"


def test_the_joint_loss_weights_l2_and_adversarial_terms_and_the_twin_has_no_discriminator():
    x = torch.rand(4, 1, 28, 28)
    model = tiny().train()
    torch.manual_seed(1)
    terms = model.loss(x)
    assert {"loss", "rec", "adv", "d_loss", "d_real", "d_fake"} <= set(terms)
    assert torch.allclose(terms["loss"], 0.999 * terms["rec"] + 0.001 * terms["adv"])
    twin = tiny(adversarial=0.0).train()
    assert twin.discriminator is None and set(twin.loss(x)) == {"loss", "rec"}
    family = gx_models.family_of(model)
    optimizers = family.optimizers(model, 2e-4)
    assert set(optimizers) == {"g", "d"}
    before = [p.clone() for p in model.discriminator.parameters()]
    family.stepper(model, optimizers)(x, None)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.discriminator.parameters()))


def test_bad_input_gets_clear_messages():
    model = tiny()
    x = torch.rand(1, 1, 28, 28)
    with pytest.raises(ValueError, match="hides nothing"):
        model.inpaint(x, torch.ones(1, 1, 28, 28))
    with pytest.raises(ValueError, match="whole picture"):
        model.inpaint(x, torch.zeros(1, 1, 28, 28))
    with pytest.raises(ValueError, match="NaN"):
        model.inpaint(torch.full((1, 1, 28, 28), float("nan")), (~centre_hole()).float())
    with pytest.raises(ValueError, match="mask of shape"):
        model.inpaint(x, torch.ones(28, 28))
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\)"):
        model.inpaint(torch.rand(28, 28), (~centre_hole()).float())
    for call in (lambda: model.encode(x), lambda: model.decode(torch.zeros(1, 8)), lambda: model.sample(2),
                 lambda: model.reconstruct(x)):
        with pytest.raises(UnsupportedOperation, match="inpaint|fills holes"):
            call()


def test_save_and_load_both_twins(tmp_path):
    x = torch.rand(2, 1, 28, 28)
    known = (~centre_hole()).float()
    for adversarial in (0.001, 0.0):
        model = tiny(adversarial)
        loaded = checkpoints.load(checkpoints.save(model, tmp_path / f"mnist-context-{adversarial}"))
        assert loaded.kind == "context_encoder" and loaded.adversarial == (adversarial > 0)
        assert torch.equal(loaded.inpaint(x, known), model.inpaint(x, known))


def test_the_channelwise_bottleneck_sees_across_the_picture_and_saves_and_loads(tmp_path):
    """The paper's channel-wise fully connected layer: a hidden pixel's filling depends on context far away,
    with far fewer weights than a dense code of the same maps."""
    torch.manual_seed(0)
    model = build("context", {"channels": 4, "bottleneck": "channelwise"}).eval()
    dense = build("context", {"channels": 4, "latent_dim": 128})
    assert sum(p.numel() for p in model.parameters()) < sum(p.numel() for p in dense.parameters())
    x = torch.rand(1, 1, 28, 28)
    known = (~centre_hole()).float()
    far = x.clone()
    far[..., 0, 0] = 1 - far[..., 0, 0]      # one known corner pixel
    # over the whole hole: at an untrained model's scale one pixel's change can round away (it did on some CPUs)
    hole = ~known.bool()
    assert (model.fill_logits(x, known) - model.fill_logits(far, known))[hole].abs().max() > 0
    model.dataset = "mnist"
    loaded = checkpoints.load(checkpoints.save(model, tmp_path / "mnist-context-cw"))
    assert loaded.config.bottleneck == "channelwise" and torch.equal(loaded.inpaint(x, known), model.inpaint(x, known))
    with pytest.raises(ValueError, match="bottleneck"):
        build("context", {"bottleneck": "round"})


def test_holes_of_one_shape_for_the_benchmark():
    for hole in HOLES:
        holes = random_holes(40, generator=torch.Generator().manual_seed(0), hole=hole)
        assert holes.any(dim=(1, 2, 3)).all()
    centre = random_holes(40, generator=torch.Generator().manual_seed(0), hole="centre")
    rows_hidden = centre.any(dim=3).sum(dim=(1, 2))
    assert ((rows_hidden >= 10) & (rows_hidden <= 16)).all(), "centre squares are 10 to 16 pixels"
    assert torch.equal(random_holes(5, generator=torch.Generator().manual_seed(3), hole="strokes"),
                       random_holes(5, generator=torch.Generator().manual_seed(3), hole="strokes"))
    with pytest.raises(ValueError, match="unknown hole 'triangle'"):
        random_holes(2, hole="triangle")
