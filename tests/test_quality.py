"""The quality measures behind `python -m genexplorer.bench`, checked against known answers."""
import pytest
import torch

from genexplorer import explore
from genexplorer.devtools import quality
from genexplorer.devtools.quality import Table
from genexplorer.metrics import frechet_distance, importance_weighted_nll, masked_psnr, median_filter, psnr
from genexplorer.models import build
from genexplorer.models.vae import gaussian_kl

from conftest import TINY


def test_frechet_distance_of_gaussians_has_the_closed_form():
    """Two Gaussians N(0, I) and N(m, 4I) in 8-D: |m|^2 + 8 (1 + 4 - 2 * 2) = |m|^2 + 8."""
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(20000, 8, generator=generator)
    b = torch.randn(20000, 8, generator=generator) * 2 + 1
    assert frechet_distance(a, b) == pytest.approx(8 + 8, rel=0.05)
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-6)


def test_median_filter_removes_salt_and_keeps_flat_regions():
    x = torch.zeros(1, 1, 28, 28)
    x[..., 5, 5] = 1.0
    assert median_filter(x).max() == 0
    flat = torch.full((2, 1, 28, 28), 0.4)
    assert torch.allclose(median_filter(flat), flat)


def test_masked_psnr_looks_only_at_the_hole():
    x = torch.rand(3, 1, 28, 28)
    hole = explore.preset_mask("centre")
    damaged = torch.where(hole, torch.zeros_like(x), x)
    outside = x.clone()
    outside[..., 0, 0] += 0.5
    assert torch.all(masked_psnr(outside, x, hole) == 100.0)
    assert torch.allclose(masked_psnr(damaged, x, hole), psnr(damaged[..., 7:21, 7:21], x[..., 7:21, 7:21]))


def test_importance_weighted_nll_tightens_the_elbo():
    """k = 1 is an unbiased single-sample -ELBO; more samples give a smaller (tighter) bound."""
    torch.manual_seed(0)
    model = build("vae", TINY["vae"]).eval()
    x = torch.rand(4, 1, 28, 28)
    mu, logvar = model.posterior(x)
    with torch.no_grad():
        rec = torch.stack([model.elbo_terms(x, generator=torch.Generator().manual_seed(s))[0] for s in range(400)]).mean(0)
        neg_elbo = rec + gaussian_kl(mu, logvar)
        one = torch.stack([importance_weighted_nll(model, x, k=1, generator=torch.Generator().manual_seed(s))
                           for s in range(400)]).mean(0)
    many = importance_weighted_nll(model, x, k=200, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(one, neg_elbo, rtol=0.01)
    assert torch.all(many <= neg_elbo)


def test_pca_baseline_reconstructs_its_own_subspace_exactly():
    generator = torch.Generator().manual_seed(0)
    basis = torch.linalg.qr(torch.randn(784, 3, generator=generator))[0]
    codes = torch.randn(200, 3, generator=generator) * 0.05
    images = (0.5 + codes @ basis.T).reshape(-1, 1, 28, 28)
    pca = quality.PCA(images, 3)
    assert torch.allclose(pca.reconstruct(images), images, atol=1e-5)


def test_examples_vae_is_the_pytorch_examples_network():
    model = quality.ExamplesVAE()
    sizes = [tuple(p.shape) for p in model.parameters()]
    assert sizes == [(400, 784), (400,), (40, 400), (40,), (400, 20), (400,), (784, 400), (784,)]
    x = torch.rand(3, 1, 28, 28)
    assert model.reconstruct(x).shape == x.shape and model.sample(2).shape == (2, 1, 28, 28)


def test_coverage_and_tables():
    assert quality.coverage(torch.arange(10).repeat(5), 10) == pytest.approx((0.1, 0.1, 1.0))
    share_min, share_max, evenness = quality.coverage(torch.zeros(50, dtype=torch.long), 10)
    assert (share_min, share_max, evenness) == (0.0, 1.0, 0.0)
    table = quality.Table("t", ["a", "b"], [["x", 1.23456], ["y", float("nan")]], ["a note"])
    assert table.markdown().splitlines() == ["a note", "", "| a | b |", "|---|---|", "| x | 1.2 |", "| y | n/a |"]
    assert Table("t", ["a"], [], ["one", "two"]).markdown().startswith("one\n\ntwo\n\n| a |"), "notes stay apart"


def test_batched_inpainting_matches_one_image_at_a_time():
    torch.manual_seed(0)
    model = build("vae", TINY["vae"]).eval()
    x = torch.rand(3, 1, 28, 28)
    hidden = explore.preset_mask("bottom")
    batch = explore.inpaint_batch(model, x, hidden, iterations=5)
    single = torch.cat([explore.inpaint_batch(model, x[i: i + 1], hidden, iterations=5) for i in range(3)])
    assert torch.allclose(batch, single, atol=1e-5)
    assert torch.equal(batch[~hidden.expand_as(x)], x[~hidden.expand_as(x)]), "known pixels are kept"
    assert batch.min() >= 0 and batch.max() <= 1
