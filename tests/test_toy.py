"""The toy GAN trainer (genexplorer/toy.py): each lesson of the GAN lectures, seeded, plus bad input."""
import math

import numpy as np
import pytest
import torch

from genexplorer.toy import TOY_DATA, TOY_LOSSES, ToyError, ToyGAN, js_estimate, modes_covered, wasserstein_1

# The disjoint-supports lesson: a discriminator that wins quickly (5 steps per generator step, 10x its rate).
STRONG_D = dict(d_steps=5, lr_d=1e-2)


def train_until(gan: ToyGAN, target: float, steps: int, chunk: int = 250) -> dict:
    while gan.step < steps:
        gan.train(chunk)
        snapshot = gan.snapshot()
        if snapshot["w1"] < target:
            return snapshot
    return gan.snapshot()


@pytest.mark.parametrize("loss", TOY_LOSSES)
def test_every_loss_learns_a_gaussian(loss):
    gan = ToyGAN(data="gaussian_1d", loss=loss, seed=0)
    start = gan.snapshot()["w1"]
    end = train_until(gan, start / 4, 2000)
    assert end["w1"] < start / 4, (loss, start, end["w1"])


def test_d_of_x_settles_at_one_half_where_the_generator_matches_the_data():
    gan = ToyGAN(data="gaussian_1d", loss="nonsaturating", seed=0)
    gan.train(1500)
    snapshot = gan.snapshot()
    assert snapshot["w1"] < 0.3
    assert abs(snapshot["d_real"] - 0.5) < 0.1
    where_data = (snapshot["grid"] > 1.5) & (snapshot["grid"] < 2.5)
    assert np.abs(snapshot["d_on_grid"][where_data] - 0.5).max() < 0.15


def test_disjoint_supports_minimax_stalls_while_wgan_moves_onto_the_data():
    minimax = ToyGAN(data="disjoint_1d", loss="minimax", seed=0, **STRONG_D)
    start = minimax.snapshot()
    assert start["js"] == pytest.approx(math.log(2), abs=0.01), "no overlap: JS is log 2"
    minimax.train(1000)
    stalled = minimax.snapshot()
    assert stalled["g_grad_norm"] < 1e-3, "the saturating loss gives the generator no gradient"
    assert stalled["w1"] > 0.9 * start["w1"], "W1 hardly moves"
    wgan = ToyGAN(data="disjoint_1d", loss="wgan_clip", seed=0, **STRONG_D)
    wgan.train(1000)
    assert wgan.snapshot()["w1"] < stalled["w1"] / 2
    fixed = ToyGAN(data="disjoint_1d", loss="nonsaturating", seed=0, **STRONG_D)
    fixed.train(500)
    assert fixed.snapshot()["w1"] < stalled["w1"] / 2, "the non-saturating loss is the other fix"


def test_more_discriminator_steps_make_the_minimax_generator_stall():
    weak = ToyGAN(data="disjoint_1d", loss="minimax", seed=0, d_steps=1)
    weak.train(1000)
    strong = ToyGAN(data="disjoint_1d", loss="minimax", seed=0, d_steps=20)
    strong.train(300)
    assert weak.snapshot()["w1"] < 1.0 < 5.0 < strong.snapshot()["w1"]


def test_modes_are_counted_and_shown():
    ring = ToyGAN(data="ring_2d", loss="nonsaturating", seed=0)
    assert ring.snapshot()["modes"] == 8
    ring.train(500)
    covered = ring.snapshot()["modes_covered"]
    assert 0 <= covered <= 8
    centres = [(2.0, 0.0), (0.0, 2.0), (-2.0, 0.0), (0.0, -2.0)]
    collapsed = torch.tensor([[2.0, 0.0]] * 50 + [[0.0, 2.0]] * 50)
    assert modes_covered(collapsed, centres, 0.05) == 2
    assert ToyGAN(data="two_gaussians_1d", seed=0).snapshot()["modes"] == 2


def test_snapshot_carries_what_the_page_draws():
    one = ToyGAN(data="gaussian_1d", seed=0)
    one.train(3)
    s = one.snapshot()
    for key in ("step", "real", "fake", "w1", "js", "d_loss", "g_loss", "g_grad_norm", "history", "grid", "d_on_grid",
                "real_density", "fake_density", "z", "g_of_z"):
        assert key in s, key
    assert s["step"] == 3 and s["real"].shape[1] == 1 and len(s["history"]) == 1
    assert len(s["grid"]) == len(s["d_on_grid"]) == len(s["real_density"])
    two = ToyGAN(data="moons_2d", loss="wgan_gp", seed=0)
    two.train(2)
    s = two.snapshot()
    assert s["d_on_plane"].shape == (40, 40) and s["z_grid_image"].shape == (15, 15, 2)
    assert s["arrows"].shape == s["arrows_from"].shape == (64, 2)


def test_seeds_reproduce():
    a, b = ToyGAN(data="ring_2d", seed=3), ToyGAN(data="ring_2d", seed=3)
    a.train(20)
    b.train(20)
    assert np.array_equal(a.snapshot()["fake"], b.snapshot()["fake"])


def test_a_drawn_distribution_is_learned():
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal((-1, 1), 0.1, (40, 2)), rng.normal((1, -1), 0.1, (40, 2))])
    gan = ToyGAN(data="drawn_2d", loss="wgan_gp", seed=0, points=points.tolist())
    start = gan.snapshot()["w1"]
    gan.train(300)
    assert gan.snapshot()["w1"] < start / 2


def test_wasserstein_and_js_measures():
    a = torch.randn(300, 1)
    assert wasserstein_1(a, a + 0.7) == pytest.approx(0.7, abs=1e-6)
    b = torch.randn(300, 2)
    assert wasserstein_1(b, b + torch.tensor([0.5, 0.0])) == pytest.approx(0.5, rel=0.05)
    assert js_estimate(a, a + 100) == pytest.approx(math.log(2), abs=1e-6)
    assert js_estimate(a, a) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("kwargs, message", [
    (dict(data="spiral_9d"), "unknown toy data"),
    (dict(loss="hinge"), "unknown loss"),
    (dict(lr_d=float("nan")), "learning rate"),
    (dict(lr_g=-0.1), "learning rate"),
    (dict(lr_d=1e9), "learning rate"),
    (dict(loss="wgan_clip", clip=0.0), "clip"),
    (dict(loss="wgan_clip", clip=-1.0), "clip"),
    (dict(d_steps=0), "discriminator steps"),
    (dict(d_steps=1000), "discriminator steps"),
    (dict(width=10 ** 6), "width"),
    (dict(typo=1), "unknown settings"),
    (dict(data="drawn_2d"), "draw some points"),
    (dict(data="drawn_2d", points=[]), "at least 2"),
    (dict(data="drawn_2d", points=[[0.0, 0.0]]), "at least 2"),
    (dict(data="drawn_2d", points=np.zeros((100_000, 2)).tolist()), "at most 10,000"),
    (dict(data="drawn_2d", points=[[0.0, float("nan")], [1.0, 1.0]]), "finite"),
    (dict(data="drawn_2d", points="abc"), "pairs"),
])
def test_bad_settings_are_refused_with_a_clear_message(kwargs, message):
    with pytest.raises(ToyError, match=message):
        ToyGAN(**kwargs)


def test_a_run_that_diverges_pauses_with_a_message():
    gan = ToyGAN(data="gaussian_1d", seed=0)
    gan.train(5)
    with torch.no_grad():
        gan.G[0].weight.fill_(float("nan"))   # as a too-large learning rate would leave it
    gan.train(100)
    assert gan.step == 6 and "diverged" in gan.diverged and "learning rate" in gan.diverged
    gan.train(100)
    assert gan.step == 6, "a diverged run stays paused"
    assert gan.snapshot()["diverged"] == gan.diverged
    with pytest.raises(ToyError, match="steps"):
        gan.train(-1)


def test_every_data_and_loss_runs_a_step():
    for data in TOY_DATA:
        for loss in TOY_LOSSES:
            points = [[0.0, 0.0], [1.0, 1.0], [0.5, -0.5]] if data == "drawn_2d" else None
            gan = ToyGAN(data=data, loss=loss, seed=0, points=points, batch=32)
            gan.train(1)
            s = gan.snapshot()
            assert math.isfinite(s["w1"]) and 0 <= s["js"] <= math.log(2) + 1e-9, (data, loss)


def test_every_preset_builds_and_steps():
    from genexplorer.toy import PRESETS

    for name, settings in PRESETS.items():
        gan = ToyGAN(seed=0, batch=32, **settings)
        gan.train(1)
        assert gan.snapshot()["step"] == 1, name


# ------------------------------------------------------------------ the toy diffusion and flow

from genexplorer.toy import ToyDiffusion, ToyFlow, bending  # noqa: E402

WALKERS = {"diffusion": ToyDiffusion, "flow": ToyFlow}


@pytest.mark.parametrize("kind", sorted(WALKERS))
@pytest.mark.parametrize("data, dim", [("gaussian_1d", 1), ("ring_2d", 2)])
def test_toy_walkers_paths_start_from_noise_and_have_the_right_shapes(kind, data, dim):
    toy = WALKERS[kind](data, 0)
    toy.train(3)
    paths = toy.paths(2000, 7)
    assert paths.shape == (2000, 8, dim)
    start = paths[:, 0]
    assert start.mean(0).abs().max() < 0.1 and (start.std(0) - 1).abs().max() < 0.1, "the walk starts at N(0, I)"
    assert toy.sample(5, 3).shape == (5, dim)
    assert torch.equal(toy.paths(4, 3), toy.paths(4, 3)), "without a generator every call starts from the same noise"
    other = toy.paths(4, 3, generator=torch.Generator().manual_seed(1))
    assert not torch.equal(toy.paths(4, 3), other)
    snapshot = toy.snapshot(steps=5, points=100, walks=6)
    assert snapshot["fake"].shape == (100, dim) and snapshot["paths"].shape == (6, 6, dim)
    assert snapshot["step"] == 3 and math.isfinite(snapshot["loss"]) and math.isfinite(snapshot["w1"])
    assert snapshot.get("modes") == (8 if data == "ring_2d" else None)


@pytest.mark.parametrize("kind", sorted(WALKERS))
def test_toy_walkers_learn_both_modes_of_two_gaussians(kind):
    toy = WALKERS[kind]("two_gaussians_1d", 0)
    start = toy.snapshot()
    toy.train(1000)
    end = toy.snapshot()
    assert end["modes_covered"] == 2, end["modes_covered"]
    assert end["w1"] < 0.5 < start["w1"], (start["w1"], end["w1"])
    for sampler in {"diffusion": ("ddim", "ddpm"), "flow": ("euler", "heun")}[kind]:
        samples = toy.sample(1000, 20, sampler=sampler)
        assert ((samples - 2).abs() < 1).float().mean() > 0.3 and ((samples + 2).abs() < 1).float().mean() > 0.3


def test_flow_paths_bend_less_than_diffusion_paths():
    """Measured on one Gaussian after 500 steps: bending 0.03 (flow) against 0.33 (DDIM's curved, first slow then
    fast walk). bending() itself: 0 for straight lines at constant speed."""
    line = torch.linspace(0, 1, 11)[None, :, None] * torch.tensor([[[1.0, 2.0]]])
    assert bending(line) == pytest.approx(0.0, abs=1e-10)
    assert bending(line ** 2) > 0.1
    measured = {}
    for kind, walker in WALKERS.items():
        toy = walker("gaussian_1d", 0)
        toy.train(500)
        measured[kind] = bending(toy.paths(256, 20))
    assert measured["flow"] < 0.5 * measured["diffusion"], measured


def test_toy_walkers_seeds_reproduce_and_drawn_points_work():
    a, b = ToyFlow("ring_2d", 3), ToyFlow("ring_2d", 3)
    a.train(20)
    b.train(20)
    assert torch.equal(a.sample(50, 5), b.sample(50, 5))
    rng = np.random.default_rng(0)
    points = rng.normal((1, -1), 0.1, (40, 2)).tolist()
    drawn = ToyDiffusion("drawn_2d", 0, points=points)
    drawn.train(5)
    assert drawn.sample(8, 4, sampler="ddpm").shape == (8, 2)


@pytest.mark.parametrize("make, message", [
    (lambda: ToyDiffusion("spiral_9d"), "unknown toy data"),
    (lambda: ToyFlow("drawn_2d"), "draw some points"),
    (lambda: ToyFlow("drawn_2d", points=[[0.0, 0.0]]), "at least 2"),
    (lambda: ToyFlow("ring_2d", width=10 ** 6), "width"),
    (lambda: ToyFlow("ring_2d", lr=float("nan")), "learning rate"),
    (lambda: ToyFlow("ring_2d", seed=-1), "seed"),
    (lambda: ToyFlow("ring_2d").train(-1), "steps must be"),
    (lambda: ToyFlow("ring_2d").paths(4, 0), "sampling steps"),
    (lambda: ToyFlow("ring_2d").paths(4, 10_000), "sampling steps"),
    (lambda: ToyFlow("ring_2d").paths(0, 4), "n must be"),
    (lambda: ToyFlow("ring_2d").sample(4, 4, sampler="ddim"), "euler or heun"),
    (lambda: ToyDiffusion("ring_2d").sample(4, 4, sampler="heun"), "ddim or ddpm"),
])
def test_toy_walkers_refuse_bad_settings(make, message):
    with pytest.raises(ToyError, match=message):
        make()


def test_a_toy_walker_that_diverges_pauses_with_a_message():
    toy = ToyDiffusion("gaussian_1d", 0)
    toy.train(2)
    with torch.no_grad():
        toy.net[0].weight.fill_(float("nan"))
    toy.train(10)
    assert toy.step == 3 and "diverged" in toy.diverged
    toy.train(10)
    assert toy.step == 3
