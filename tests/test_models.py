import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from genexplorer import checkpoints
from genexplorer.models import GAN_KINDS, MODELS, UnsupportedOperation, build, gaussian_kl, make_config
from genexplorer.models.base import GenerativeModel

from conftest import TINY


def tiny(kind):
    model = build(kind, TINY[kind]).eval()
    model.dataset = "mnist"
    return model


def labels_for(model, y):
    return y if model.conditional else None


def test_every_registered_kind_is_a_generative_model():
    for kind, cls in MODELS.items():
        assert issubclass(cls, GenerativeModel), kind
    assert build("dae").kind == "dae" and build("ae").kind == "ae"
    assert build("cgan").kind == "cgan" and build("cgan").conditional


def test_abstract_interface_is_enforced():
    class Half(GenerativeModel):
        def encode(self, x, y=None):
            return x

    with pytest.raises(TypeError):
        Half(make_config("ae", {}))


def test_unknown_kind_and_unknown_setting_are_refused():
    with pytest.raises(ValueError, match="unknown model kind"):
        build("no-such-kind")
    with pytest.raises(ValueError, match="unknown vae settings.*latnet_dim"):
        build("vae", {"latnet_dim": 3})
    with pytest.raises(ValueError, match="latent_dim"):
        build("vae", {"latent_dim": 0})


def test_decode_and_sample_shapes_and_range(kind, images):
    model = tiny(kind)
    _, y = images
    z = torch.randn(5, model.latent_dim) * 3
    out = model.decode(z, labels_for(model, y))
    assert out.shape == (5, 1, 28, 28)
    assert out.min() >= 0 and out.max() <= 1
    samples = model.sample(4, generator=torch.Generator().manual_seed(1))
    assert samples.shape == (4, 1, 28, 28) and samples.min() >= 0 and samples.max() <= 1
    again = model.sample(4, generator=torch.Generator().manual_seed(1))
    assert torch.equal(samples, again), "sampling must be reproducible from a generator"


def test_encode_and_reconstruct(kind, images):
    model = tiny(kind)
    x, y = images
    if kind in GAN_KINDS:
        with pytest.raises(UnsupportedOperation, match="no encoder"):
            model.encode(x)
        with pytest.raises(UnsupportedOperation):
            model.reconstruct(x)
        return
    z = model.encode(x, labels_for(model, y))
    assert z.shape == (5, model.latent_dim)
    recon = model.reconstruct(x, labels_for(model, y))
    assert recon.shape == x.shape and recon.min() >= 0 and recon.max() <= 1


def test_posterior_only_for_vaes(kind, images):
    model = tiny(kind)
    x, y = images
    if kind in ("vae", "cvae"):
        mu, logvar = model.posterior(x, labels_for(model, y))
        assert mu.shape == logvar.shape == (5, model.latent_dim)
        assert torch.allclose(model.encode(x, labels_for(model, y)), mu)
    else:
        with pytest.raises(UnsupportedOperation, match="no posterior"):
            model.posterior(x)


def test_conditional_models_check_labels(images):
    x, _ = images
    model = tiny("cvae")
    with pytest.raises(ValueError, match="pass y"):
        model.encode(x)
    with pytest.raises(ValueError, match=r"\[0, 9\]"):
        model.encode(x, torch.tensor([0, 1, 2, 3, 10]))
    with pytest.raises(ValueError, match="3 labels for a batch of 5"):
        model.encode(x, torch.tensor([0, 1, 2]))
    # one label for the whole batch is broadcast
    assert model.decode(torch.zeros(5, 3), torch.tensor(7)).shape == (5, 1, 28, 28)


def test_cvae_condition_changes_the_output():
    model = tiny("cvae")
    torch.nn.init.normal_(model.decoder.net[0].weight, std=1.0)
    z = torch.zeros(1, model.latent_dim)
    assert not torch.allclose(model.decode(z, torch.tensor([1])), model.decode(z, torch.tensor([7])))


def test_bad_shapes_are_refused(images):
    model = tiny("vae")
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\)"):
        model.encode(torch.rand(2, 28, 28))
    with pytest.raises(ValueError, match=r"\(B, 3\)"):
        model.decode(torch.rand(2, 5))


def test_losses_are_finite_and_named(kind, images):
    model = tiny(kind).train()
    x, y = images
    terms = model.loss(x, labels_for(model, y))
    assert "loss" in terms and terms["loss"].ndim == 0 and torch.isfinite(terms["loss"])
    if kind in ("vae", "cvae"):
        assert torch.allclose(terms["neg_elbo"], terms["rec"] + terms["kl"])
        assert terms["kl"] >= 0
    if kind in ("gan", "cgan"):
        assert {"d_loss", "g_loss", "d_real", "d_fake"} <= set(terms)
    if kind in ("wgan", "wgan-gp"):
        assert {"d_loss", "g_loss", "critic_real", "critic_fake", "w_estimate"} <= set(terms)
        assert torch.allclose(terms["w_estimate"], terms["critic_real"] - terms["critic_fake"])


def test_closed_form_kl_matches_torch_distributions():
    torch.manual_seed(3)
    mu, logvar = torch.randn(6, 5), torch.randn(6, 5)
    reference = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(1)
    assert torch.allclose(gaussian_kl(mu, logvar), reference, atol=1e-5)


def test_beta_weights_the_kl_term(images):
    x, _ = images
    torch.manual_seed(0)
    model = tiny("vae")
    model.config.beta = 4.0
    torch.manual_seed(1)
    terms = model.loss(x)
    assert torch.allclose(terms["loss"], terms["rec"] + 4.0 * terms["kl"])


def test_denoising_ae_corrupts_its_training_input(images, monkeypatch):
    x, _ = images
    seen = {}
    model = tiny("dae").train()
    original = model.encode

    def spy(inputs, y=None):
        seen["input"] = inputs
        return original(inputs, y)

    monkeypatch.setattr(model, "encode", spy)
    model.loss(x)
    assert not torch.equal(seen["input"], x), "a denoising AE must see corrupted input"
    plain = tiny("ae").train()
    monkeypatch.setattr(plain, "encode", spy)
    plain.loss(x)
    assert torch.equal(seen["input"], x)


def test_save_load_round_trip_gives_identical_outputs(kind, images, tmp_path):
    model = tiny(kind)
    x, y = images
    folder = checkpoints.save(model, tmp_path / f"mnist-{kind}", metrics={"m": 1.5})
    loaded = checkpoints.load(folder)
    assert loaded.kind == model.kind and loaded.dataset == "mnist" and not loaded.training
    assert loaded.latent_dim == model.latent_dim and loaded.num_classes == 10
    z = torch.randn(5, model.latent_dim)
    assert torch.equal(model.decode(z, labels_for(model, y)), loaded.decode(z, labels_for(model, y)))
    if kind not in GAN_KINDS:
        assert torch.equal(model.encode(x, labels_for(model, y)), loaded.encode(x, labels_for(model, y)))
    assert loaded.checkpoint_config["metrics"] == {"m": 1.5}


def test_classifier_reads_but_does_not_draw(images, tmp_path):
    x, y = images
    model = build("classifier", {"latent_dim": 8, "channels": 4}).eval()
    labels, probabilities = model.predict(x)
    assert labels.shape == (5,) and labels.dtype == torch.int64
    assert probabilities.shape == (5, 10) and torch.allclose(probabilities.sum(1), torch.ones(5))
    features = model.encode(x)
    assert features.shape == (5, 8) and (features >= 0).all(), "the penultimate layer, after its ReLU"
    for call in (lambda: model.decode(torch.zeros(5, 8)), lambda: model.sample(2), lambda: model.reconstruct(x)):
        with pytest.raises(UnsupportedOperation, match="no decoder"):
            call()
    terms = model.train().loss(x, y)
    assert math.isfinite(terms["loss"].item()) and 0 <= terms["accuracy"].item() <= 1
    with pytest.raises(ValueError, match="class labels"):
        model.loss(x)
    with pytest.raises(ValueError, match="not class-conditional"):
        build("classifier", {"conditional": True})
    loaded = checkpoints.load(checkpoints.save(model.eval(), tmp_path / "mnist-classifier"))
    assert loaded.kind == "classifier" and torch.equal(loaded.logits(x), model.logits(x))


def test_classifier_training_shift_moves_each_image_whole_pixels():
    from genexplorer.models.classifier import random_shift

    torch.manual_seed(0)
    x = torch.zeros(64, 1, 28, 28)
    x[:, 0, 10:13, 10:13] = 1.0
    moved = random_shift(x, 2)
    assert moved.shape == x.shape and torch.equal(moved.sum((1, 2, 3)), x.sum((1, 2, 3))), "nothing lost near the centre"
    corners = [tuple((image[0] == 1).nonzero()[0].tolist()) for image in moved]
    assert all(8 <= r <= 12 and 8 <= c <= 12 for r, c in corners) and len(set(corners)) > 5


def test_wgan_critic_loss_weight_clipping_and_gradient_penalty(images):
    x, _ = images
    torch.manual_seed(0)
    clipped = tiny("wgan").train()
    assert clipped.config.loss == "wgan_clip" and clipped.config.dropout == 0.0
    with torch.no_grad():
        for p in clipped.discriminator.parameters():
            p.normal_(0, 1)
    clipped.clip_critic()
    assert all(p.abs().max() <= clipped.config.clip for p in clipped.discriminator.parameters())
    d = clipped.discriminator_loss(x)
    assert torch.allclose(d["loss"], -d["w_estimate"]), "the clipped critic's loss is -(E C(x) - E C(G(z)))"
    penalised = tiny("wgan-gp").train()
    d = penalised.discriminator_loss(x)
    assert d["loss"] > -d["w_estimate"], "the gradient penalty adds a positive term"
    d["loss"].backward()          # the penalty's double backward reaches the critic's weights
    assert all(p.grad is not None for p in penalised.discriminator.parameters())
    no_penalty = build("wgan-gp", {**TINY["wgan-gp"], "gp_weight": 0.0}).train()
    terms = no_penalty.discriminator_loss(x)
    assert torch.allclose(terms["loss"], -terms["w_estimate"])


def test_the_projection_discriminator_judges_the_class_and_old_cgans_still_load(images, tmp_path):
    """The cGAN's D adds <embed(y), features(x)> to its score (Miyato & Koyama 2018): the same picture scores
    differently under different classes through that term; a cGAN saved without it loads as it was."""
    x, _ = images
    model = tiny("cgan")
    planes_only = build("cgan", {**TINY["cgan"], "projection": False}).eval()
    planes_only.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("discriminator.embed")})
    y = torch.tensor([0, 1, 2, 3, 4])
    with torch.no_grad():
        model.discriminator.embed.weight.zero_()
        assert torch.allclose(model.discriminate(x, y), planes_only.discriminate(x, y)), "a zero embedding adds nothing"
        model.discriminator.embed.weight.normal_(0, 1)
        assert not torch.allclose(model.discriminate(x, y), planes_only.discriminate(x, y))
        assert not torch.allclose(model.discriminate(x, y), model.discriminate(x, (y + 1) % 10))
    model.dataset = planes_only.dataset = "mnist"
    for saved in (model, planes_only):
        loaded = checkpoints.load(checkpoints.save(saved, tmp_path / f"mnist-cgan-{saved.config.projection}"))
        assert loaded.config.projection == saved.config.projection
        assert (loaded.discriminator.embed is None) == (not saved.config.projection)
    with pytest.raises(ValueError, match="projection"):
        build("gan", {"projection": True})


def test_the_auxiliary_classifier_names_the_class_and_both_players_learn_from_it(images):
    """AC-GAN: D's class head learns on real pictures; G's loss gains the head's cross-entropy on its fakes."""
    x, y = images
    torch.manual_seed(0)
    model = build("cgan", {**TINY["cgan"], "class_loss_weight": 1.0, "class_planes_in_d": False}).train()
    assert model.discriminator.net[0].in_channels == 1, "D sees the picture alone: y only through the projection and the head"
    d = model.discriminator_loss(x, y)
    assert "d_class" in d and float(d["d_class"].detach()) > 0
    d["loss"].backward()
    assert model.discriminator.classes.weight.grad is not None and model.discriminator.classes.weight.grad.abs().sum() > 0
    model.zero_grad()
    g = model.generator_loss(4)
    assert float(g["g_class"].detach()) > 0 and float(g["loss"].detach()) > float(g["g_class"].detach())
    plain = build("cgan", TINY["cgan"])
    assert plain.discriminator.classes is None and "d_class" not in plain.discriminator_loss(x, y)
    with pytest.raises(ValueError, match="class_loss_weight"):
        build("gan", {"class_loss_weight": 1.0})


def test_bad_wgan_settings_are_refused():
    with pytest.raises(ValueError, match="class-conditional WGAN"):
        build("wgan", {"conditional": True})
    with pytest.raises(ValueError, match="clip"):
        build("wgan", {"clip": 0})
    with pytest.raises(ValueError, match="critic_steps"):
        build("wgan-gp", {"critic_steps": 0})
    with pytest.raises(ValueError, match="unknown GAN loss"):
        build("gan", {"loss": "hinge"})


def test_the_autoencoder_zoo_dense_overcomplete_and_sparse(images):
    x, _ = images
    dense = build("ae", {"architecture": "dense", "hidden": 64, "latent_dim": 16}).eval()
    assert dense.encode(x).shape == (5, 16) and dense.reconstruct(x).shape == x.shape
    assert not any(isinstance(m, torch.nn.Conv2d) for m in dense.modules()), "a dense AE has no convolutions"
    over = build("ae", {"architecture": "dense", "hidden": 0, "latent_dim": 1024, "code_activation": "relu"})
    assert over.config.overcomplete and over.encode(x).shape == (5, 1024) and (over.encode(x) >= 0).all()
    assert "l1" not in over.loss(x), "no regulariser: the plain overcomplete AE"
    sparse = build("ae", {"architecture": "dense", "hidden": 0, "latent_dim": 1024, "code_activation": "relu", "l1": 0.5})
    sparse.load_state_dict(over.state_dict())
    terms, plain = sparse.loss(x), over.loss(x)
    z = sparse.encode(x)
    assert torch.allclose(terms["l1"], z.abs().sum(1).mean())
    assert torch.allclose(terms["loss"], plain["rec"] + 0.5 * terms["l1"]), "the same net: loss = reconstruction + lambda * L1"
    assert torch.equal(sparse.active_units(z), (z > 1e-3).sum(1))
    for bad, message in [({"architecture": "mlp"}, "architecture"), ({"code_activation": "tanh"}, "code activation"),
                         ({"l1": -1}, "L1"), ({"latent_dim": 5000}, "latent_dim"),
                         ({"architecture": "dense", "conditional": True}, "conditional dense"), ({"hidden": 0}, "conv AE needs")]:
        with pytest.raises(ValueError, match=message):
            build("ae", bad)


def test_pca_is_the_best_linear_code_and_stores_like_a_checkpoint(tmp_path):
    torch.manual_seed(0)
    # points on a 2-D plane inside the 784-pixel space (plus a little noise): two components explain nearly all
    basis = torch.linalg.qr(torch.randn(784, 2)).Q.T
    codes = torch.randn(300, 2) * torch.tensor([0.2, 0.05])
    x = (0.5 + codes @ basis + 0.001 * torch.randn(300, 784)).clamp(0, 1).reshape(-1, 1, 28, 28)
    pca = build("pca", {"latent_dim": 2}).fit(x)
    assert float(pca.explained) > 0.97
    assert torch.allclose(pca.components @ pca.components.T, torch.eye(2), atol=1e-5), "orthonormal components"
    assert torch.allclose(pca.scale, torch.tensor([0.2, 0.05]), rtol=0.15), "each code's spread on the training set"
    assert (pca.reconstruct(x) - x).pow(2).mean() < 1e-5
    again = build("pca", {"latent_dim": 2}).fit(x)
    assert torch.equal(pca.components, again.components), "the same images, the same model (signs fixed)"
    pca.dataset = "mnist"
    loaded = checkpoints.load(checkpoints.save(pca, tmp_path / "mnist-pca"))
    assert loaded.kind == "pca" and torch.equal(loaded.encode(x), pca.encode(x))
    samples = loaded.sample(8, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (8, 1, 28, 28)
    with pytest.raises(ValueError, match="at most 784"):
        build("pca", {"latent_dim": 785})
    with pytest.raises(ValueError, match="at least 2"):
        build("pca", {"latent_dim": 2}).fit(x[:1])


def test_cvae_with_the_class_at_every_decoder_layer(images, tmp_path):
    x, y = images
    model = build("cvae", dict(TINY["cvae"], class_every_layer=True)).eval()
    model.dataset = "mnist"
    c = model.config.channels
    decoder = model.decoder
    # each layer takes the one-hot class beside what the layer before it gives out
    assert decoder.dense1.in_features == model.latent_dim + 10
    assert decoder.dense2.in_features == decoder.dense1.out_features + 10
    assert (decoder.up1.in_channels, decoder.up2.in_channels) == (2 * c + 10, c + 10)
    z = torch.zeros(2, model.latent_dim)
    # the class reaches the last layer too: only the last layer's class weights changed, the pictures still differ
    with torch.no_grad():
        before = model.decode(z, torch.tensor([0, 1]))
        model.decoder.up2.weight[c:] = 0.0
        after = model.decode(z, torch.tensor([0, 1]))
    assert not torch.equal(before, after)
    losses = model.train().loss(x, y)
    assert torch.isfinite(losses["loss"])
    loaded = checkpoints.load(checkpoints.save(model.eval(), tmp_path / "mnist-cvae"))
    assert loaded.config.class_every_layer and torch.equal(loaded.decode(z, torch.tensor([0, 1])), after)
    with pytest.raises(ValueError, match="only a conditional"):
        build("vae", dict(TINY["vae"], class_every_layer=True))
    with pytest.raises(ValueError, match="without residual blocks"):
        build("cvae", dict(TINY["cvae"], class_every_layer=True, blocks=1))


@pytest.mark.parametrize("kind", ["ae", "vae", "cvae"])
def test_residual_blocks_deepen_the_conv_nets_and_round_trip(kind, images, tmp_path):
    x, y = images
    plain, deep = tiny(kind), build(kind, dict(TINY[kind], blocks=2)).eval()
    deep.dataset = "mnist"
    count = lambda m: sum(p.numel() for p in m.parameters())
    assert count(deep) > count(plain)
    residual = [m for m in deep.modules() if type(m).__name__ == "ResidualBlock"]
    assert len(residual) == 2 * 2 + 3 * 2, "two per encoder resolution, three per decoder resolution"
    z = torch.randn(3, deep.latent_dim)
    with torch.no_grad():
        pictures = deep.decode(z, labels_for(deep, y[:3]))
    assert pictures.shape == (3, 1, 28, 28) and 0 <= float(pictures.min()) and float(pictures.max()) <= 1
    loaded = checkpoints.load(checkpoints.save(deep, tmp_path / f"mnist-{kind}"))
    assert loaded.config.blocks == 2
    assert torch.equal(loaded.encode(x, labels_for(deep, y)), deep.encode(x, labels_for(deep, y)))
    with pytest.raises(ValueError, match="blocks"):
        build(kind, dict(TINY[kind], blocks=9))
