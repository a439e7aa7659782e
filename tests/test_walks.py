"""The Diffusion tab's plain logic: walks watched frame by frame (walks.py) and the noising paths, the step strip,
the guidance grid and the same seed through every generator (explore/paths.py), on tiny untrained models."""
import math

import numpy as np
import pytest
import torch

from genexplorer import explore, pixels, walks
from genexplorer.explore import paths
from genexplorer.explore.paths import WalkPlan
from genexplorer.images import to_uint8
from genexplorer.models import build
from genexplorer.models.iterative import to_picture
from test_diffusion import tiny

DIFFUSION, FLOW = tiny("diffusion"), tiny("flow")


def plans(diffusion_steps=10, flow_steps=3, flow_sampler="euler"):
    return [WalkPlan("diffusion", "t-diffusion", DIFFUSION, diffusion_steps, "ddim"),
            WalkPlan("flow", "t-flow", FLOW, flow_steps, flow_sampler)]


def seeded(seed):
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------ walks watched frame by frame

def test_walks_share_one_clock_and_end_on_the_models_own_samples():
    job = walks.walk_job(plans(), 3, 5, label=None)
    assert torch.equal(job.walks[0].x, job.walks[1].x), "the same seed: the same classes and start noise"
    frames = 0
    while not job.finished:
        frame = job.next_frame(budget_s=None)    # no budget: every walk catches up with the clock
        frames += 1
        for walk in job.walks:
            assert walk.t <= job.clock + 1e-9 and walk.t > job.clock - 1 / walk.steps - 1e-9
        assert len(frame.pictures) == 2 and frame.pictures[0][0].dtype == np.uint8
    assert 10 < frames <= walks.MAX_FRAMES     # the clock moves 1/60 a frame; the last steps jump past it
    summary = frame.summary()
    assert summary["finished"] and [w["step"] for w in summary["walks"]] == [10, 3]
    assert [w["passes"] for w in summary["walks"]] == [10, 3]
    for walk, result in zip(job.walks, job.results()):
        generator = seeded(5)
        classes = torch.randint(10, (3,), generator=generator)
        expected = walk.model.sample(3, classes, generator, steps=walk.steps, sampler=walk.sampler)
        assert np.array_equal(result, to_uint8(expected))


def test_the_start_noise_shown_is_the_noise_the_walk_starts_from():
    """One Euler step of the flow: the sample is start + velocity(start, t=1), from the noise the job shows."""
    job = walks.walk_job([plans(flow_steps=1)[1]], 2, 9, label=4)
    raw = torch.randn(2, 1, 28, 28, generator=seeded(9))
    assert torch.equal(job.walks[0].x, ((raw + 1) / 2).clamp(0, 1))
    job.run_to_end()
    with torch.no_grad():
        velocity = FLOW._guided(raw, 1.0, torch.full((2,), 4), 0.0)
    assert torch.allclose(job.walks[0].x, to_picture(raw + velocity), atol=1e-6)


def test_a_frame_keeps_to_its_budget_and_a_short_walk_lands_at_once():
    job = walks.walk_job(plans(diffusion_steps=1000, flow_steps=1), 1, 0)
    job.next_frame(budget_s=0.0)                  # one step at least, the walk furthest behind first
    assert [w.done for w in job.walks] == [1, 0]
    job.next_frame(budget_s=0.0)
    assert job.walks[1].done == 1 and job.walks[1].finished
    assert not job.finished
    frame = job.run_to_end()
    assert frame.finished and frame.clock == 0.0 and job.walks[0].done == 1000


def test_heun_and_guidance_count_their_passes():
    job = walks.walk_job(plans(diffusion_steps=4, flow_steps=4, flow_sampler="heun"), 2, 0, label=3, guidance=2.0)
    job.run_to_end()
    assert [w.summary()["passes"] for w in job.walks] == [8, 16]
    assert paths.passes_per_picture(FLOW, steps=10, sampler="heun") == 20
    assert paths.passes_per_picture(build("pixelcnn", {"channels": 8, "layers": 2}), steps=50) == 784
    assert paths.passes_per_picture(build("vae", {"latent_dim": 3, "channels": 4, "hidden": 8})) == 1


def test_walk_jobs_live_on_the_pixelcnn_job_board():
    board = pixels.JobBoard(max_active=1)
    job = board.add(walks.walk_job(plans(2, 2), 1, 0))
    frame = board.advance(job.id)
    assert isinstance(frame, walks.WalkFrame) and board.get(job.id) is job
    with pytest.raises(explore.ExploreError, match="limit"):
        board.add(walks.walk_job(plans(2, 2), 1, 1))


@pytest.mark.parametrize("call, message", [
    (lambda: walks.walk_job(plans(), 0, 0), "number of pictures"),
    (lambda: walks.walk_job(plans(), 17, 0), "number of pictures"),
    (lambda: walks.walk_job(plans(), 2, -1), "seed"),
    (lambda: walks.walk_job(plans(), 2, 0, label=10), "class"),
    (lambda: walks.walk_job(plans(), 2, 0, guidance=float("nan")), "guidance"),
    (lambda: walks.walk_job(plans(), 2, 0, guidance=11), "guidance"),
    (lambda: walks.walk_job([WalkPlan("f", "f", FLOW, 3, "ddim")], 2, 0), "euler or heun"),
    (lambda: walks.walk_job([], 2, 0), "Train tab"),
    (lambda: walks.walk_job([WalkPlan("v", "v", build("vae"), 3)], 2, 0), "does not walk"),
    (lambda: walks.walk_job([WalkPlan("f", "f", tiny("flow", conditional=False), 3)], 2, 0, guidance=1), "without classes"),
    (lambda: paths.check_steps(0, 1000), "number of steps"),
    (lambda: paths.check_steps(1001, 1000), "number of steps"),
    (lambda: paths.check_steps(float("nan"), 100), "number of steps"),
])
def test_bad_walks_get_one_clear_message(call, message):
    with pytest.raises(explore.ExploreError, match=message):
        call()


# ------------------------------------------------------------ the forward process

def test_forward_puts_one_picture_on_both_paths_with_the_same_noise():
    x = torch.rand(1, 1, 28, 28, generator=seeded(1))
    both = [("diffusion", "t-diffusion", DIFFUSION), ("flow", "t-flow", FLOW)]
    start = paths.forward(x, 0.0, 3, both)
    assert all(np.array_equal(n.noisy, to_uint8(x)[0]) for n in start) and all(n.snr == math.inf for n in start)
    middle = {n.title: n for n in paths.forward(x, 0.5, 3, both)}
    diffusion, flow = middle["diffusion"], middle["flow"]
    assert diffusion.alpha ** 2 + diffusion.sigma ** 2 == pytest.approx(1)       # variance preserving
    assert flow.alpha + flow.sigma == pytest.approx(1) and flow.snr == pytest.approx(1)   # the straight line
    assert diffusion.snr_db == pytest.approx(10 * math.log10(diffusion.snr)) and flow.snr_db == pytest.approx(0)
    eps = torch.randn(1, 1, 28, 28, generator=seeded(3))
    for noised in (diffusion, flow):
        expected = ((noised.alpha * (2 * x - 1) + noised.sigma * eps + 1) / 2).clamp(0, 1)
        assert np.abs(noised.noisy.astype(int) - to_uint8(expected)[0].astype(int)).max() <= 1
        assert noised.seen is not None and noised.seen.shape == (28, 28)
    end = paths.forward(x, 1.0, 3, both)
    assert end[1].snr == 0 and end[1].snr_db == -math.inf and end[0].snr < 1e-3


def test_forward_without_a_checkpoint_uses_the_familys_default_path():
    x = torch.rand(1, 1, 28, 28, generator=seeded(1))
    (noised,) = paths.forward(x, 0.3, 0, [("flow", None, paths.default_path("flow"))])
    assert noised.seen is None and noised.alpha == pytest.approx(0.7)
    assert paths.default_path("diffusion") is paths.default_path("diffusion")
    with pytest.raises(explore.ExploreError, match="noise level t"):
        paths.forward(x, float("nan"), 0, [("flow", None, FLOW)])
    with pytest.raises(explore.ExploreError, match="noise level t"):
        paths.forward(x, 1.5, 0, [("flow", None, FLOW)])


# ------------------------------------------------------------ too few steps, guidance, every generator

def test_the_step_strip_is_the_same_seed_at_each_step_count():
    strip = paths.steps_strip(plans(), 4, label=2)
    assert strip.shape == (2 * len(paths.STRIP_STEPS), 28, 28)
    generator = seeded(4)
    expected = FLOW.sample(1, torch.tensor([2]), generator, steps=50, sampler="euler")
    assert np.array_equal(strip[-1], to_uint8(expected)[0])
    assert not np.array_equal(strip[5], strip[9]), "1 step and 50 steps differ"


def test_the_guidance_grid_is_classes_by_seeds_and_moves_with_w():
    plan = WalkPlan("flow", "t-flow", FLOW, 3, "euler")
    plain = paths.guidance_grid(plan, 0, 0)
    assert plain.shape == (10 * paths.GRID_SEEDS, 28, 28)
    guided = paths.guidance_grid(plan, 4, 0)
    assert not np.array_equal(plain, guided)
    assert paths.guidance_grid(plan, 4, 0) is guided, "a weight seen before is answered from memory"
    column = FLOW.sample(10, torch.arange(10), seeded(2), steps=3, guidance=4.0)
    assert np.array_equal(guided.reshape(10, paths.GRID_SEEDS, 28, 28)[:, 2], to_uint8(column))
    with pytest.raises(explore.ExploreError, match="without classes"):
        paths.guidance_grid(WalkPlan("f", "f", tiny("flow", conditional=False), 3), 0, 0)
    with pytest.raises(explore.ExploreError, match="guidance"):
        paths.guidance_grid(plan, float("nan"), 0)


def test_row_agreement_reads_each_row_against_its_class():
    cache = explore.ModelCache()
    x, y = explore.test_set("mnist")
    rows = np.concatenate([x[y == c][:3] for c in range(10)])       # three real test digits per class
    shares = paths.row_agreement(rows, "mnist", cache, [str(c) for c in range(10)])
    assert len(shares) == 10 and np.mean(shares) > 0.8
    shuffled = paths.row_agreement(rows[::-1].copy(), "mnist", cache, [str(c) for c in range(10)])
    assert np.mean(shuffled) < 0.5
    assert paths.row_agreement(rows, "mnist", explore.ModelCache("/nonexistent"), [str(c) for c in range(10)]) is None


def test_every_generator_pays_its_own_passes(tmp_path):
    vae = build("vae", {"latent_dim": 3, "channels": 4, "hidden": 8})
    models = {"VAE": ("t-vae", vae), "diffusion": ("t-diffusion", DIFFUSION), "flow": ("t-flow", FLOW)}
    figures = {"t-vae": {"frechet": 133.8, "samples": 500}}
    rows = paths.every_generator(models, 4, 0, walks={"diffusion": (20, "ddim"), "flow": (5, "heun")}, figures=figures)
    assert [r.title for r in rows] == ["VAE", "diffusion", "flow"]
    assert [r.passes for r in rows] == [1, 20, 10]
    assert all(r.pictures.shape == (4, 28, 28) and r.milliseconds > 0 for r in rows)
    assert rows[0].frechet["frechet"] == 133.8 and rows[1].frechet is None
    generator = seeded(0)
    assert np.array_equal(rows[2].pictures, to_uint8(FLOW.sample(4, torch.arange(4), generator, steps=5, sampler="heun")))
    with pytest.raises(explore.ExploreError, match="number of pictures"):
        paths.every_generator(models, 0, 0, walks={}, figures={})


def test_frechet_figures_come_from_a_data_file(tmp_path):
    from genexplorer.devtools import frechet_figures

    path = tmp_path / "frechet.json"
    assert paths.frechet_figures(path) == {"figures": {}, "floors": {}}
    path.write_text("not json")
    assert paths.frechet_figures(path) == {"figures": {}, "floors": {}}
    table = ("## Samples\n\n| dataset | model | samples | Frechet distance (classifier features) | rarest |\n"
             "|---|---|---|---|---|\n| mnist | floor: 500 training images | 500 | 34.7 | 8% |\n"
             "| mnist | mnist-gan | 500 | 120.0 | 7% |\n| mnist | pytorch/examples VAE | 500 | 432.1 | 2% |\n\n"
             "## PixelCNN\n\n| dataset | model | samples | Frechet distance (classifier features) |\n|---|---|---|---|\n"
             "| mnist | mnist-pixelcnn (500 samples: sequential) | 500 | 249.1 |\n| mnist | mnist-gan | 9 | 1.0 |\n")
    (tmp_path / "BENCHMARKS.md").write_text(table)
    frechet_figures.write(tmp_path / "BENCHMARKS.md", path)
    figures = paths.frechet_figures(path)
    assert figures["figures"] == {"mnist-gan": {"frechet": 120.0, "samples": 500, "table": "Samples"},
                                  "mnist-pixelcnn": {"frechet": 249.1, "samples": 500, "table": "PixelCNN"}}
    assert figures["floors"]["mnist"]["frechet"] == 34.7
    # the diffusion section: a walker's figure at each sampler and steps; the GAN's row there is not its figure
    walks = ("## Diffusion and flow matching\n\n### mnist: samples, 2000 per row, unguided\n\n| model | sampler | steps "
             "| network passes | Frechet distance | ms per sample |\n|---|---|---|---|---|---|\n"
             "| mnist-gan | one pass | 1 | 1 | 30.0 | 0.1 |\n| mnist-flow | euler | 50 | 50 | 21.5 | 9 |\n"
             "| mnist-flow | euler | 10 | 10 | 25.25 | 2 |\n| mnist-flow | heun | 10 | 20 | 22.0 | 4 |\n")
    (tmp_path / "BENCHMARKS.md").write_text(table + "\n" + walks)
    frechet_figures.write(tmp_path / "BENCHMARKS.md", path)
    figures = paths.frechet_figures(path)["figures"]
    assert figures["mnist-gan"]["frechet"] == 120.0
    assert figures["mnist-flow"] == {"frechet": 21.5, "samples": 2000, "table": "mnist: samples, 2000 per row, unguided",
                                     "sampler": "euler", "steps": 50,
                                     "walks": {"euler 50": 21.5, "euler 10": 25.25, "heun 10": 22.0}}
    assert paths.walk_figure(figures["mnist-flow"], 10, "heun")["frechet"] == 22.0
    assert paths.walk_figure(figures["mnist-flow"], 7, "euler")["steps"] == 50, "not measured: its own, with its steps"
    assert paths.walk_figure(None, 10, "euler") is None
    shipped = paths.frechet_figures()      # assets/frechet.json, from the repository's BENCHMARKS.md
    assert shipped["figures"]["mnist-gan"]["frechet"] > 0 and "fashion" in shipped["floors"]


def test_diffusion_and_flow_inpaint_the_hole_reproducibly():
    x = torch.rand(1, 1, 28, 28, generator=seeded(2))
    hidden = explore.preset_mask("centre")
    for model in (DIFFUSION, FLOW):
        filled = explore.inpaint_batch(model, x, hidden)
        assert torch.equal(filled[~hidden], x[~hidden]) and not torch.equal(filled[hidden], x[hidden])
        assert torch.equal(explore.inpaint_batch(model, x, hidden), filled)
        assert not torch.equal(explore.inpaint_batch(model, x, hidden, seed=1), filled)
