"""The PixelCNN family: causal, exact likelihood, sampling and completion, and the live drawing jobs."""
import pytest
import torch

from genexplorer import checkpoints, pixels
from genexplorer.explore import ExploreError
from genexplorer.models import UnsupportedOperation, build
from genexplorer.models.pixelcnn import PixelCNN

TINY_PIXELCNN = {"channels": 8, "layers": 3}


def tiny(**extra) -> PixelCNN:
    torch.manual_seed(0)
    model = build("pixelcnn", {**TINY_PIXELCNN, **extra}).eval()
    model.dataset = "mnist"
    # Untrained weights give p near 1/2 everywhere; larger ones make every pixel matter.
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(3.0)
    return model


@pytest.mark.parametrize("kernel", [3, 5])
def test_output_at_a_pixel_ignores_that_pixel_and_every_later_one(kernel):
    model = tiny(kernel=kernel)
    torch.manual_seed(1)
    x = torch.rand(2, 1, 28, 28)
    base = model.logits(x).flatten(1)
    for position in (0, 1, 27, 28, 29, 300, 405, 783):
        changed = x.clone().flatten(1)
        changed[:, position:] = torch.rand(2, 784 - position)
        out = model.logits(changed.view(2, 1, 28, 28)).flatten(1)
        assert torch.allclose(out[:, : position + 1], base[:, : position + 1], atol=1e-5), position
        if position < 700:
            # ... while earlier pixels do inform it (the receptive field is not empty)
            earlier = x.clone().flatten(1)
            earlier[:, :position] = 1 - earlier[:, :position]
            if position > 0:
                moved = model.logits(earlier.view(2, 1, 28, 28)).flatten(1)[:, position]
                assert not torch.allclose(moved, base[:, position]), position


def test_no_blind_spot_above_right():
    """The gated PixelCNN's reason to exist: a pixel up and to the right still informs the output."""
    model = tiny()
    x = torch.rand(1, 1, 28, 28)
    target = (10, 10)
    base = model.logits(x)[0, 0, target[0], target[1]]
    above_right = x.clone()
    above_right[0, 0, target[0] - 1, target[1] + 2] = 1 - above_right[0, 0, target[0] - 1, target[1] + 2]
    assert model.logits(above_right)[0, 0, target[0], target[1]] != base


def test_nll_is_the_sum_of_the_per_pixel_terms_and_matches_bernoulli():
    model = tiny()
    x = torch.rand(3, 1, 28, 28)
    nll = model.nll(x)
    assert nll.shape == (3,)
    assert torch.allclose(nll, model.pixel_nll(x).flatten(1).sum(1), rtol=1e-5)
    # the same numbers from torch.distributions on binary pictures
    binary = (x > 0.5).float()
    reference = -torch.distributions.Bernoulli(logits=model.logits(binary)).log_prob(binary).flatten(1).sum(1)
    assert torch.allclose(model.nll(binary), reference, rtol=1e-5)


def test_exact_likelihood_sums_to_one_on_a_tiny_image_space():
    """Over every binary picture that differs only in its first 8 pixels, p sums to 1 for those pixels."""
    model = tiny()
    torch.manual_seed(2)
    rest = (torch.rand(1, 1, 28, 28) > 0.5).float()
    pictures = rest.repeat(256, 1, 1, 1).flatten(1)
    codes = torch.arange(256)
    for bit in range(8):
        pictures[:, bit] = ((codes >> bit) & 1).float()
    first8 = -model.pixel_nll(pictures.view(256, 1, 28, 28)).flatten(1)[:, :8].sum(1)
    assert torch.isclose(torch.logsumexp(first8, 0), torch.tensor(0.0), atol=1e-4)


def test_fast_sampling_draws_from_the_full_pass_probabilities():
    """Each drawn pixel used exactly the full network's probability: replaying the uniforms reproduces it."""
    model = tiny()
    sample = model.sample(3, generator=torch.Generator().manual_seed(5))
    assert sample.shape == (3, 1, 28, 28) and set(sample.unique().tolist()) <= {0.0, 1.0}
    # Naive sampler: a full pass per pixel with the same random stream.
    generator = torch.Generator().manual_seed(5)
    naive = torch.zeros(3, 1, 28, 28)
    for position in range(784):
        r, c = divmod(position, 28)
        p = torch.sigmoid(model.logits(naive)[:, :, r, c])
        naive[:, :, r, c] = torch.bernoulli(p, generator=generator)
    assert torch.equal(sample, naive)


def test_fast_completion_matches_a_full_pass_per_pixel():
    """Known rows above the hole and known pixels inside its rows, for a class-conditional model too."""
    for model, y in ((tiny(), None), (tiny(conditional=True), torch.tensor([3, 7]))):
        torch.manual_seed(3)
        x = (torch.rand(2, 1, 28, 28) > 0.6).float()
        known = torch.ones_like(x)
        known[:, :, 15:, 4:20] = 0
        known[1, :, 20, 8] = 1
        out = model.complete(x, known, y, generator=torch.Generator().manual_seed(9))
        generator = torch.Generator().manual_seed(9)
        naive = torch.where(known.bool(), x, torch.zeros_like(x))
        for position in range(784):
            r, c = divmod(position, 28)
            if known[:, 0, r, c].all():
                continue
            p = torch.sigmoid(model.logits(naive, y)[:, :, r, c])
            naive[:, :, r, c] = torch.where(known[:, :, r, c].bool(), naive[:, :, r, c],
                                            torch.bernoulli(p, generator=generator))
        assert torch.equal(out, naive)


def test_seeds_reproduce_and_differ():
    model = tiny()
    a = model.sample(2, generator=torch.Generator().manual_seed(1))
    b = model.sample(2, generator=torch.Generator().manual_seed(1))
    c = model.sample(2, generator=torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_completion_keeps_known_pixels_and_fills_the_rest():
    model = tiny()
    x = torch.rand(2, 1, 28, 28)
    known = torch.ones_like(x)
    known[:, :, 14:] = 0
    known[:, :, 3, 5] = 0
    out = model.complete(x, known, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out[known.bool()], x[known.bool()])
    assert set(out[~known.bool()].unique().tolist()) <= {0.0, 1.0}
    different = model.complete(x, known, generator=torch.Generator().manual_seed(1))
    assert not torch.equal(out, different)


def test_conditional_pixelcnn_uses_the_class():
    model = tiny(conditional=True)
    x = torch.rand(2, 1, 28, 28)
    assert not torch.allclose(model.nll(x, torch.tensor([0, 0])), model.nll(x, torch.tensor([1, 1])))
    with pytest.raises(ValueError, match="class-conditional"):
        model.nll(x)


def test_bad_input_gets_clear_errors():
    model = tiny()
    with pytest.raises(ValueError, match="shape"):
        model.nll(torch.rand(2, 28, 28))
    with pytest.raises(ValueError, match="NaN"):
        model.nll(torch.full((1, 1, 28, 28), float("nan")))
    with pytest.raises(ValueError, match="mask"):
        model.complete(torch.rand(1, 1, 28, 28), torch.ones(1, 1, 14, 28))
    with pytest.raises(ValueError, match="NaN"):
        model.complete(torch.full((1, 1, 28, 28), float("nan")), torch.zeros(1, 1, 28, 28))
    with pytest.raises(ValueError, match="between 1 and 1024"):
        model.sample(0)
    for method, args in (("encode", (torch.rand(1, 1, 28, 28),)), ("decode", (torch.zeros(1, 1),)),
                         ("reconstruct", (torch.rand(1, 1, 28, 28),))):
        with pytest.raises(UnsupportedOperation):
            getattr(model, method)(*args)


def test_save_load_round_trip(tmp_path):
    model = tiny()
    checkpoints.save(model, tmp_path / "mnist-pixelcnn", training={}, metrics={})
    loaded = checkpoints.load(tmp_path / "mnist-pixelcnn")
    x = torch.rand(2, 1, 28, 28)
    assert loaded.kind == "pixelcnn"
    assert torch.equal(loaded.nll(x), model.nll(x))


def test_training_lowers_the_nll():
    torch.manual_seed(0)
    model = build("pixelcnn", TINY_PIXELCNN)
    # Stripes: each pixel is predictable from the row above, so an autoregressive model learns them fast.
    x = torch.zeros(16, 1, 28, 28)
    x[:, :, ::2] = 1.0
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = float(model.loss(x)["loss"].detach())
    for _ in range(30):
        loss = model.loss(x)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(model.loss(x)["loss"].detach()) < first / 2


# ------------------------------------------------------------------ grey levels, dilation, dropout

GREY_CONFIGS = [
    {"output": "logistic", "kernel": 3, "dilation_cycle": 3},
    {"output": "softmax", "kernel": 5, "dilation_cycle": 2, "conditional": True},
    {"output": "bernoulli", "kernel": 3, "dilation_cycle": 4},
]


def labels(model, batch):
    return torch.arange(batch) % 10 if model.conditional else None


@pytest.mark.parametrize("extra", GREY_CONFIGS)
def test_every_output_at_a_pixel_has_no_gradient_from_that_pixel_or_a_later_one(extra):
    """Causality of every layer (dilated ones included), for every output channel, asked of autograd."""
    model = tiny(**extra, layers=5)
    x = torch.rand(2, 1, 28, 28, requires_grad=True)
    out = model.outputs(x, labels(model, 2))
    assert out.shape == (2, 1 + model.config.grey_params, 28, 28)
    for position in (0, 1, 27, 28, 41, 300, 405, 783):
        r, c = divmod(position, 28)
        (grad,) = torch.autograd.grad(out[0, :, r, c].sum(), x, retain_graph=True)
        seen = torch.nonzero(grad[0, 0].flatten()).flatten()
        assert grad[1].abs().sum() == 0                   # nor from another picture of the batch
        if position == 0:
            assert len(seen) == 0
        else:
            assert int(seen.max()) < position, position
        if c > 0:
            assert int(seen.max()) == position - 1        # the pixel to its left always informs it


def test_dilated_layers_see_the_whole_picture_above():
    """8 layers of kernel 3 dilated 1, 2, 4, 8, 1, 2, 4, 8: the last pixel sees row 0 and both of its corners."""
    model = tiny(output="logistic", kernel=3, dilation_cycle=4, layers=8)
    x = torch.rand(1, 1, 28, 28, requires_grad=True)
    model.outputs(x)[0, :, 27, 27].sum().backward()
    seen = x.grad[0, 0] != 0
    assert seen[0, 0] and seen[0, 27] and seen[:27].all()


@pytest.mark.parametrize("extra", GREY_CONFIGS)
def test_the_cached_stepper_gives_the_full_pass_outputs(extra):
    """Sampling = the full pass: row by row and pixel by pixel, the stepper's outputs are the network's."""
    from genexplorer.models.pixelcnn import _RowStepper

    model = tiny(**extra, layers=5)
    x = torch.rand(2, 1, 28, 28)
    y = labels(model, 2)
    with torch.no_grad():
        full = model.outputs(x, y)
        stepper = _RowStepper(model, model._biases(y, 2), 2, x.device)
        stepped = torch.zeros_like(full)
        for r in range(28):
            stepper.start_row(x, r)
            for c in range(28):
                stepped[:, :, r, c] = stepper.outputs(c)
                stepper.set_pixel(c, x[:, 0, r, c])
    assert torch.allclose(stepped, full, atol=1e-4)


@pytest.mark.parametrize("output", ["logistic", "softmax"])
def test_grey_sampling_draws_from_the_full_pass_distribution(output):
    """Replaying the random stream through a full pass per pixel gives the same grey pictures."""
    model = tiny(output=output, kernel=3, dilation_cycle=2, layers=3)
    sample = model.sample(2, generator=torch.Generator().manual_seed(4))
    levels = sample * 255
    assert torch.equal(levels, levels.round()) and 0 <= sample.min() and sample.max() <= 1
    assert len(sample.unique()) > 10                      # grey, not black and white
    generator = torch.Generator().manual_seed(4)
    naive = torch.zeros(2, 1, 28, 28)
    with torch.no_grad():
        for position in range(784):
            r, c = divmod(position, 28)
            naive[:, 0, r, c] = model.draw(model.outputs(naive)[:, :, r, c], generator)
    assert torch.equal(sample, naive)


@pytest.mark.parametrize("output", ["logistic", "softmax"])
def test_each_pixels_grey_levels_sum_to_one_and_match_the_sampler(output):
    from genexplorer.models.pixelcnn import grey_log_prob, level_log_probs

    model = tiny(output=output)
    params = model.outputs(torch.rand(1, 1, 28, 28))[:, 1:, 5, 9]        # (1, P): one pixel's parameters
    every = level_log_probs(output, params)                              # (1, 256)
    assert torch.isclose(torch.logsumexp(every, 1), torch.tensor(0.0), atol=1e-4).all()
    levels = torch.arange(256.0).view(1, 1, 1, 256) / 255
    one_by_one = grey_log_prob(output, params[:, :, None, None].expand(-1, -1, 1, 256), levels)
    assert torch.allclose(one_by_one.flatten(), every.flatten(), atol=1e-5)


def test_logistic_draws_follow_the_level_probabilities():
    """The sampler's shortcut (pick a logistic, invert its CDF, round) draws the 256-level distribution it is
    trained on, end levels (the tails) included."""
    from genexplorer.models.pixelcnn import draw_logistic, level_log_probs

    params = torch.tensor([[0.0, 1.0, -1.0, 0.5, 0.0, -0.9, 0.0, 0.5, 0.98, -1.2, -3.0, -2.0, -4.0, -1.0, -2.0]])
    draws = draw_logistic(params.repeat(40000, 1), torch.Generator().manual_seed(0))
    counts = torch.bincount((draws * 255).round().long(), minlength=256).float() / len(draws)
    expected = level_log_probs("logistic", params)[0].exp()
    # total variation over 16 bands of 16 levels (sampling noise alone ~0.01; a wrong scale or mean gives far more)
    assert (counts - expected).view(16, 16).sum(1).abs().sum() / 2 < 0.02
    levels = torch.arange(256.0) / 255
    assert abs(float(draws.mean() - (expected * levels).sum())) < 0.005
    assert abs(float(counts[0] - expected[0])) < 0.01 and abs(float(counts[255] - expected[255])) < 0.01


def test_grey_nll_is_exact_and_the_bernoulli_reading_stays():
    """The 8-bit likelihood sums over pixels; nll keeps the Bernoulli reading of the same network."""
    from genexplorer.models.pixelcnn import grey_log_prob

    model = tiny(output="logistic", dilation_cycle=2)
    x = torch.rand(3, 1, 28, 28)
    out = model.outputs(x)
    expected = -grey_log_prob("logistic", out[:, 1:], x).flatten(1).sum(1)
    assert torch.allclose(model.grey_nll(x), expected)
    bernoulli = -torch.distributions.Bernoulli(logits=out[:, :1], validate_args=False).log_prob(x).flatten(1).sum(1)
    assert torch.allclose(model.nll(x), bernoulli, rtol=1e-5)
    with pytest.raises(UnsupportedOperation, match="Bernoulli"):
        tiny().grey_nll(x)


def test_dropout_acts_while_training_only_and_never_in_the_sampler():
    model = tiny(output="logistic", dropout=0.5)
    x = torch.rand(2, 1, 28, 28)
    model.train()
    assert not torch.equal(model.outputs(x), model.outputs(x))
    sample_training = model.sample(2, generator=torch.Generator().manual_seed(1))
    model.eval()
    assert torch.equal(model.outputs(x), model.outputs(x))
    assert torch.equal(model.sample(2, generator=torch.Generator().manual_seed(1)), sample_training)


def test_grey_training_lowers_both_nlls():
    torch.manual_seed(0)
    model = build("pixelcnn", {**TINY_PIXELCNN, "output": "logistic", "kernel": 3, "dilation_cycle": 2})
    x = torch.zeros(16, 1, 28, 28)
    x[:, :, ::2] = 0.6
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = {k: float(v.detach()) for k, v in model.loss(x).items()}
    assert set(first) == {"loss", "nll", "grey_nll"}
    for _ in range(40):
        loss = model.loss(x)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    last = {k: float(v.detach()) for k, v in model.loss(x).items()}
    assert last["grey_nll"] < first["grey_nll"] / 2 and last["nll"] < first["nll"]


def test_grey_save_load_round_trip(tmp_path):
    model = tiny(output="softmax", kernel=3, dilation_cycle=3, dropout=0.2, conditional=True)
    checkpoints.save(model, tmp_path / "mnist-grey", training={}, metrics={})
    loaded = checkpoints.load(tmp_path / "mnist-grey")
    x, y = torch.rand(2, 1, 28, 28), torch.tensor([1, 2])
    assert loaded.config == model.config
    assert torch.equal(loaded.grey_nll(x, y), model.grey_nll(x, y))
    seed = torch.Generator().manual_seed
    assert torch.equal(loaded.sample(2, y, generator=seed(3)), model.sample(2, y, generator=seed(3)))


def test_an_old_checkpoints_config_builds_the_old_network():
    """The shipped checkpoints' model_config names no output, dilation or dropout: Bernoulli, undilated, as before."""
    old = {"latent_dim": 1, "num_classes": 10, "conditional": False, "channels": 32, "layers": 8, "kernel": 5,
           "binarize_fraction": 0.67}
    model = build("pixelcnn", old)
    assert model.config.output == "bernoulli" and model.config.binarize == 0.67
    assert [layer.dilation for layer in model.layers] == [1] * 8
    assert model.head[3].out_channels == 1
    assert sorted(model.state_dict()) == sorted(build("pixelcnn", {**old, "dropout": 0.1}).state_dict())


def test_bad_settings_are_refused():
    from genexplorer.models import family

    for bad in ({"output": "gaussian"}, {"output": "logistic", "binarize_fraction": 0.5}, {"dropout": 1.0},
                {"dilation_cycle": 0}, {"dilation_cycle": 6}, {"mixtures": 0}):
        with pytest.raises(ValueError):
            build("pixelcnn", {**TINY_PIXELCNN, **bad})
    pixelcnn = family("pixelcnn")
    for bad in ({"output": "gaussian"}, {"dropout": -0.1}, {"dilation_cycle": 9}, {"dilation_cycle": 2.5}):
        with pytest.raises(ValueError):
            pixelcnn.options(**bad)
    config = pixelcnn.model_config(pixelcnn.options(), 10)
    assert config["output"] == "logistic" and config["dilation_cycle"] == 4


def test_evaluate_reports_both_likelihoods():
    from genexplorer.models import family

    x, y = torch.rand(4, 1, 28, 28), torch.arange(4)
    metrics = family("pixelcnn").evaluate(tiny(output="logistic"), x, y)
    assert set(metrics) == {"test_nll_nats", "test_grey_nll_nats", "test_bits_per_pixel"}
    assert metrics["test_bits_per_pixel"] == pytest.approx(metrics["test_grey_nll_nats"] / (784 * 0.693147), rel=1e-3)
    assert set(family("pixelcnn").evaluate(tiny(), x, y)) == {"test_nll_nats"}


# ------------------------------------------------------------------ live jobs

def test_a_job_streams_frames_and_ends_on_the_models_own_sample():
    model = tiny()
    job = pixels.sample_job("tiny", model, 4, 7)
    frames = [job.advance(pixels=28)]
    assert frames[0].position == 28 and frames[0].drawn == 28 and not frames[0].finished
    assert frames[0].picture.shape[2] == 3
    while not frames[-1].finished:
        frames.append(job.advance(budget_s=0.01))
    assert frames[-1].drawn == 784 and frames[-1].position == 784
    assert [f.position for f in frames] == sorted(f.position for f in frames)
    expected = model.sample(4, generator=torch.Generator().manual_seed(7))
    assert torch.equal(torch.from_numpy(job.result()).float()[:, None] / 255, expected)


def test_completion_job_draws_only_the_hidden_pixels():
    model = tiny()
    x = torch.rand(1, 1, 28, 28)
    hidden = torch.zeros(1, 1, 28, 28, dtype=torch.bool)
    hidden[..., 20:, :] = True
    job = pixels.complete_job("tiny", model, x, hidden, 3, 0)
    first = job.advance(pixels=1)
    assert first.position == 20 * 28 + 1 and first.drawn == 1 and first.to_draw == 8 * 28
    job.run_to_end()
    result = torch.from_numpy(job.result()).float()[:, None] / 255
    assert torch.allclose(result[:, :, :20], (x[:, :, :20] * 255).round() / 255)


def test_job_bad_input_and_the_board_cap():
    model = tiny()
    x = torch.rand(1, 1, 28, 28)
    with pytest.raises(ExploreError, match="hides nothing"):
        pixels.complete_job("tiny", model, x, torch.zeros(1, 1, 28, 28), 2, 0)
    with pytest.raises(ExploreError, match="whole picture"):
        pixels.complete_job("tiny", model, x, torch.ones(1, 1, 28, 28), 2, 0)
    with pytest.raises(ExploreError, match="NaN"):
        pixels.complete_job("tiny", model, x * float("nan"), torch.ones(1, 1, 28, 28).tril().bool(), 2, 0)
    for count in (0, 37, float("nan"), "many"):
        with pytest.raises(ExploreError, match="number of pictures"):
            pixels.sample_job("tiny", model, count, 0)
    with pytest.raises(ExploreError, match="pace"):
        pixels.sample_job("tiny", model, 2, 0, pace="warp")
    with pytest.raises(ExploreError, match="not autoregressive"):
        pixels.sample_job("vae", build("vae", {"latent_dim": 2, "channels": 4, "hidden": 8}), 2, 0)
    board = pixels.JobBoard(max_active=2)
    first = board.add(pixels.sample_job("tiny", model, 1, 0))
    board.add(pixels.sample_job("tiny", model, 1, 0))
    with pytest.raises(ExploreError, match="limit is 2"):
        board.add(pixels.sample_job("tiny", model, 1, 0))
    # a user's new drawing replaces their previous one, so it is not refused
    board.add(pixels.sample_job("tiny", model, 1, 0), replaces=first.id)
    for bad in ("../../etc/passwd", 12, None, "0" * 16):
        with pytest.raises(ExploreError):
            board.get(bad)


def test_idle_jobs_expire():
    board = pixels.JobBoard(idle_expiry_s=0.0)
    job = board.add(pixels.sample_job("tiny", tiny(), 1, 0))
    with pytest.raises(ExploreError, match="expired"):
        board.get(job.id)


def test_the_board_computes_one_frame_at_a_time_whoever_asks(monkeypatch):
    """The CPU budget: however many threads ask for frames, at most one computes at a time."""
    import threading
    import time

    board = pixels.JobBoard()
    model = tiny()
    jobs = [board.add(pixels.sample_job("tiny", model, 2, seed)) for seed in range(4)]
    running, most = [0], [0]
    lock = threading.Lock()
    original = pixels.PixelJob.advance

    def counting(self, **kwargs):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.01)
        try:
            return original(self, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(pixels.PixelJob, "advance", counting)
    threads = [threading.Thread(target=lambda j=j: [board.advance(j.id) for _ in range(5)]) for j in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1
